"""The `onboard` command line. Heavy modules are imported inside commands so `--help` is instant."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer vendors click (typer._click) since 0.2x; before, it used click itself
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - older typer
    from click.exceptions import ClickException, UsageError  # type: ignore[assignment]

from agent import cli_coerce, cli_lazy
from agent import cli_tools as tools
from agent.choices import Shell
from agent.cli_onboard import fail as _fail
from agent.cli_onboard import register
from agent.cli_options import AllowPrivateIp, RecordBaseUrl
from agent.cli_replica import replica


class OneLineErrors(TyperGroup):
    """Every refusal is one line: a bad option value (`--pace nan`, `--site asia`) or an
    unknown option gets one `error:` line and exit 2 like the CLI's own checks, instead of
    typer's five-line usage box. Caught where the command line is parsed, so typer's rich
    error renderer (and its import) is never reached."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except ClickException as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as exc:
            raise _one_line(exc) from None

    def list_commands(self, ctx: Any) -> list[str]:
        """The names, in typer's order, without building each command (cli_lazy)."""
        return list(self.commands)


cli_coerce.install()  # typer's option values without a pydantic adapter where none is needed
cli_lazy.install()  # each command built when it is looked up, not all at every start


def _one_line(exc: Any) -> Exception:
    where = exc.ctx.command_path if isinstance(exc, UsageError) and exc.ctx else "onboard"
    text = " ".join(exc.format_message().replace("Value error, ", "").split()).rstrip(".")
    typer.echo(f"error: {text} (see `{where} -h`)", err=True)
    return typer.Exit(exc.exit_code)


app = typer.Typer(
    name="onboard",
    cls=OneLineErrors,
    help=(
        "Get a client's OKX API key made, captured, stored encrypted and verified.\n\n"
        "Start with `onboard demo` (bundled replica, scripted client) or "
        "`onboard run --label ICG-MM --ip 203.0.113.7` alongside a client."
    ),
    no_args_is_help=True,
    # `onboard completion SHELL` prints the script instead of typer's --install-completion,
    # which edits the user's shell files; completion itself (_ONBOARD_COMPLETE) is typer's.
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


from agent.cli_vault import vault_app  # noqa: E402  (light: commands import lazily)

app.add_typer(vault_app, name="vault")
from agent.cli_login import login_app  # noqa: E402  (light: its command imports lazily)

app.add_typer(login_app, name="login-state")
config_app = typer.Typer(
    help="Settings: ONBOARD_* variables over the config file over the defaults.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _version(value: bool) -> None:
    if value:
        from agent import __version__

        typer.echo(f"onboard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Get a client's OKX API key made, captured, stored encrypted and verified."""


@app.command(
    epilog=(
        "Load it once, e.g. for bash: onboard completion bash > ~/.local/share/bash-completion/"
        'completions/onboard (or `eval "$(onboard completion bash)"` in ~/.bashrc); zsh: '
        'onboard completion zsh > "${fpath[1]}/_onboard"; fish: onboard completion fish > '
        "~/.config/fish/completions/onboard.fish."
    )
)
def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the shell completion script (commands, options, choices such as --format)."""
    from typer._completion_shared import get_completion_script

    typer.echo(get_completion_script(prog_name="onboard", complete_var="_ONBOARD_COMPLETE",
                                     shell=str(shell)))  # fmt: skip


@config_app.command("show")
def config_show(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON list on stdout.")] = False,
) -> None:
    """Each setting, its value and where it came from (ONBOARD_* variable, config file,
    default). The config file is $ONBOARD_CONFIG, else $XDG_CONFIG_HOME/onboard/config.toml."""
    import json

    from agent.config import ConfigError, Settings, config_file

    try:
        rows = Settings().describe()
    except ConfigError as exc:  # the command people run to find such a problem: said here
        _fail(exc.message, exc.code)
    path = config_file()
    if json_out:
        typer.echo(json.dumps([{"setting": k, "value": v, "source": w} for k, v, w in rows],
                              indent=2))  # fmt: skip
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("setting", "value", "from", title="onboard config", title_justify="left")
    for row in rows:
        table.add_row(*row)
    console = Console(highlight=False)
    console.print(table)
    console.print(f"config file: {path}{'' if path.exists() else ' (none)'}")


app.command()(replica)
register(app, "run")
register(app, "demo")


@app.command(
    epilog=(
        "Examples:\n\n"
        "  onboard verify 20250101T120000-a1b2c3\n\n"
        "  onboard verify --all --proxy http://10.0.0.5:3128 --json\n\n"
        "The exchange is the record's site (flows/okx.yaml), or the record's test target, "
        "or --base-url. ok/failed/pending are written to the record's metadata "
        "(verification, verified_at, verify_detail).\n\n"
        "Exit codes: 0 all ok; 9 any failed (withdraw enabled: CRITICAL; permissions, IPs "
        "or label differ; passphrase, secret or key refused; demo/live mismatch); "
        "1 any could not be tested (network, this machine's clock, record unreadable); "
        "10 pending (nothing failed): OKX refused this machine's IP (50110), expected on "
        "a client's machine - run verify from a whitelisted host or through --proxy; "
        "2 bad input."
    )
)
def verify(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Record id(s) from `onboard vault list`.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every stored record.")] = False,
    proxy: Annotated[
        str | None,
        typer.Option(help="Send through this proxy: http://host:port or socks5://host:port."),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Send OKX's x-simulated-trading header even for a record that does not say "
            "demo (records made with `run --demo` do).",
        ),
    ] = False,
    base_url: RecordBaseUrl = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of results on stdout.")
    ] = False,
) -> None:
    """Prove stored keys work: a signed GET /api/v5/account/config, checked against the request.

    Checks the key has exactly read_only,trade (withdraw is a CRITICAL failure), the
    requested IP allowlist and label, and explains every refusal with the next step.
    """
    from agent.cli_verify import run_verify

    raise typer.Exit(run_verify(list(ids or []), all_, proxy, demo, base_url, json_out))


@app.command(
    epilog=(
        "Examples:\n\n"
        "  onboard subkeys --from 20260101T120000-a1b2c3 --sub-account desk-a --sub-account "
        "desk-b --label ICG-MM --ip 203.0.113.7\n\n"
        "  onboard subkeys --from 20260101T120000-a1b2c3 --all-sub-accounts --label ICG-MM "
        "--ip 203.0.113.7 --yes --json\n\n"
        "The main key (--from) must be the client's main-account key with Read + Trade, bound "
        "to IPs (OKX's rule for sub-account key management). Each new key: Read + Trade only, "
        "stored encrypted before anything else, then checked with its own signed request. "
        "Exit codes: 0 every key created (or already there) and stored, 2 bad input or not "
        "confirmed (nothing sent), 7 OKX refused, 8 a key could not be stored (it is deleted "
        "again), 9 a key's check failed, 1 anything else."
    )
)
def subkeys(
    from_id: Annotated[
        str, typer.Option("--from", help="Vault record of the client's main-account key.")
    ],
    label: Annotated[str, typer.Option(help="Name of each new key, e.g. ICG-MM.")],
    ip: Annotated[
        list[str], typer.Option("--ip", help="IP for each key's allowlist; repeat (max 20).")
    ],
    sub_account: Annotated[
        list[str] | None,
        typer.Option(help="Sub-account to create a key for; repeatable."),
    ] = None,
    all_sub_accounts: Annotated[
        bool,
        typer.Option(
            "--all-sub-accounts", help="Every sub-account OKX lists for the main account."
        ),
    ] = False,
    allow_private_ip: AllowPrivateIp = False,
    base_url: RecordBaseUrl = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Demo-trading main key: send OKX's x-simulated-trading header."
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="The client has agreed: do not ask (scripts).")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON result on stdout.")
    ] = False,
) -> None:
    """Create sub-account keys over OKX's REST API with the client's onboarded main key.

    No browser, human or 2FA prompt: for each sub-account the key list is read first (a
    rerun never makes a second key), one signed create call asks for Read + Trade only, and
    the new secret is stored encrypted before the key is checked with its own signed call.
    """
    from agent.cli_subkeys import SubkeysArgs, run_subkeys

    args = SubkeysArgs(
        from_id=from_id, label=label, ips=list(ip), sub_accounts=list(sub_account or []),
        all_sub_accounts=all_sub_accounts, allow_private_ip=allow_private_ip,
        base_url=base_url, demo=demo, yes=yes, as_json=json_out,
    )  # fmt: skip
    raise typer.Exit(run_subkeys(args))


@app.command()
def runs(
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON list on stdout.")] = False,
) -> None:
    """Every run in the journal and what to do about it (e.g. a key that must be recreated).

    The vault has the last word: interrupted stores are completed first (one stderr line
    each), and a run killed after storing its keys but before its journal said so is ok.
    """
    import json

    from agent.cli_vault import recover
    from agent.config import Settings
    from agent.custody.vault import Vault
    from agent.journal import Journal, verdict

    settings = Settings()
    vault = Vault(settings)
    try:
        by_run = vault.by_run(leftovers=recover(vault))
    except OSError as exc:
        typer.echo(f"vault: cannot read {vault.dir} ({exc.strerror}): verdicts from the "
                   "journal alone", err=True)  # fmt: skip
        by_run = {}
    if not settings.journal_file.exists():
        rows = []
    else:
        j = Journal(settings.journal_file)
        rows = [{**r, "verdict": verdict(r, by_run.get(r["id"], []))} for r in j.all()]
        j.close()
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("run", "label", "account", "reached", "what to do", title="onboard runs")
    for r in rows:
        style = "red" if r["verdict"].startswith(("KEY MUST", "CHECK")) else ""
        table.add_row(r["id"], r["label"], r["account"], r["reached"], r["verdict"], style=style)
    Console().print(table if rows else "no runs yet")


register(app, "batch")


tools.register(app)


def main() -> None:
    """The CLI. A setting that cannot be used (ONBOARD_HOME a file, say) is one line, exit 2,
    whichever command met it first."""
    import os

    from agent.exitcodes import ConfigError

    if os.environ.get("_ONBOARD_COMPLETE"):  # a shell asking `onboard completion`'s script
        from typer.completion import completion_init

        completion_init()  # typer's bash/zsh/fish classes (add_completion=False skips this)
    from agent.leave import leave

    try:
        try:
            app(prog_name="onboard", standalone_mode=True)
        except ConfigError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise SystemExit(int(exc.code)) from None
    except SystemExit as done:
        leave(done.code)  # without the interpreter's teardown, when nothing needs it
        raise


if __name__ == "__main__":
    main()
