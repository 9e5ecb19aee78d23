"""Running the replica: in the foreground for `onboard replica`, in a thread for tests and demo."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import uvicorn

from replica.app import build_app
from replica.state import World


class ReplicaServer:
    """A real uvicorn server on a loopback port, started and stopped from Python."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        scenarios: list[str] | None = None,
        seed: str | Path | None = None,
        mutate: str | None = None,
    ) -> None:
        self.world = World(Path(seed) if seed else None, scenarios or [])
        if mutate is not None:
            self.world.reset(scenarios or [], mutate)
        self.app = build_app(self.world)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host = host
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> str:
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        started = threading.Event()

        def watch() -> None:
            while not self.server.started and self.thread and self.thread.is_alive():
                started.wait(0.01)
            started.set()

        watch()
        if not self.server.started:
            raise RuntimeError("replica server failed to start")
        return self.base_url

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ReplicaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8700,
    scenarios: list[str] | None = None,
    seed: str | None = None,
    mutate: str | None = None,
) -> None:
    srv = ReplicaServer(host, port, scenarios, seed, mutate)
    active = ", ".join(srv.world.scenario_names) or "none"
    print(f"OKX replica serving {srv.base_url}  (scenarios: {active})", flush=True)
    print(f"  API keys page: {srv.base_url}/account/my-api", flush=True)
    print(f"  outbox (replica only): {srv.base_url}/replica/outbox", flush=True)
    if srv.world.mutations is not None:
        print_mutations(srv)
    config = srv.server.config
    config.log_level = "info"
    srv.server.run(sockets=[srv.sock])


def print_mutations(srv: ReplicaServer) -> None:
    """The seed's mutation list and the agent command the fuzz runs against it."""
    from replica.repro import shell_line

    muts = srv.world.mutations
    assert muts is not None
    print(
        f"  mutations of seed {muts.seed} (also at {srv.base_url}/replica/mutations):", flush=True
    )
    for line in muts.lines():
        print(f"    - {line}", flush=True)
    acct = next(iter(srv.world.accounts.values()))
    print("  the fuzz runs the agent against it as:", flush=True)
    print(f"    {shell_line(srv.base_url, acct.totp_secret or '')}", flush=True)
    print(
        "    (sub-account cases add --sub-account icg-mm-sub2, or icg-mm-sub1 and icg-mm-sub2)",
        flush=True,
    )
    if "logged-in" not in srv.world.scenario_names:
        print("    (the fuzz serves with -s logged-in too: nobody logs in)", flush=True)
