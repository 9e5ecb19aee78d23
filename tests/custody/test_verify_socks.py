"""`onboard verify --proxy socks5://...` through a real SOCKS5 proxy (a minimal one here):
PySocks, a declared dependency, is what ccxt's requests session needs for it."""

from __future__ import annotations

import json
import select
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from tests.custody.test_verify import add_key, assert_no_secrets, store
from tests.helpers import onboard

pytest.importorskip("socks", reason="PySocks (pyproject dependency) not installed here")


def _exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class _Socks5(socketserver.BaseRequestHandler):
    """RFC 1928, no authentication, CONNECT only: enough for one HTTP request."""

    def handle(self) -> None:
        c = self.request
        _ver, n = _exact(c, 2)
        _exact(c, n)
        c.sendall(b"\x05\x00")
        _ver, cmd, _rsv, atyp = _exact(c, 4)
        if atyp == 1:
            host = socket.inet_ntoa(_exact(c, 4))
        elif atyp == 3:
            host = _exact(c, _exact(c, 1)[0]).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, _exact(c, 16))
        (port,) = struct.unpack(">H", _exact(c, 2))
        self.server.seen.append((cmd, host, port))  # type: ignore[attr-defined]
        remote = socket.create_connection((host, port), timeout=10)
        c.sendall(b"\x05\x00\x00\x01" + b"\x00" * 6)
        with remote:
            while True:
                ready, _, _ = select.select([c, remote], [], [], 10)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (remote if s is c else c).sendall(data)


@pytest.fixture
def socks_proxy() -> Iterator[tuple[str, list[tuple[int, str, int]]]]:
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Socks5)
    srv.daemon_threads = True
    srv.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"socks5h://127.0.0.1:{srv.server_address[1]}", srv.seen  # type: ignore[attr-defined]
    finally:
        srv.shutdown()
        srv.server_close()


def test_verify_through_a_socks5_proxy(
    replica: ReplicaServer, tmp_path: Path, socks_proxy: tuple[str, list[tuple[int, str, int]]]
) -> None:
    url, seen = socks_proxy
    home = tmp_path / "home"
    key = add_key(replica)
    rid = store(home, replica, key)
    proc = onboard(home, "verify", rid, "--proxy", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert_no_secrets(proc, key)
    [res] = json.loads(proc.stdout)
    assert res["status"] == "ok" and res["proxy"] == url
    port = int(replica.base_url.rsplit(":", 1)[1].strip("/"))
    assert (1, "127.0.0.1", port) in seen  # CONNECT to the replica, by name (socks5h)
