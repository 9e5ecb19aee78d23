"""Exchange knowledge in one place: the flow file (data) and agent/exchanges/<name>.py (what
cannot be data). An exchange with a flow file and no adapter still gets a plan's permissions."""

from __future__ import annotations

import subprocess
import sys

from agent.choices import Site
from agent.exchanges import DEFAULT, adapter, bundled_flow, okx, rest_permissions
from agent.request import build_request


def test_the_bundled_exchange_has_its_adapter() -> None:
    flow = bundled_flow()
    assert flow.exchange == DEFAULT == okx.NAME
    assert adapter(flow.exchange) is okx
    assert rest_permissions(flow) == ["read_only", "trade"] == list(okx.PERMISSIONS)
    assert okx.PERM == "read_only,trade" and okx.WITHDRAW not in okx.PERMISSIONS


def test_an_exchange_with_a_flow_file_only() -> None:
    toy = bundled_flow().model_copy(update={"exchange": "toy"})
    assert adapter("toy") is None and adapter("no such exchange") is None
    assert rest_permissions(toy) == ["read", "trade"]  # the flow's own names


def test_sites_and_rest_hosts_come_from_the_flow() -> None:
    flow = bundled_flow()
    assert [str(s) for s in Site] == list(flow.sites)  # the CLI's choices are the flow's
    for site in flow.sites:
        assert okx.rest_url(site) == flow.rest_url(site)
    req = build_request({"label": "t", "ips": ["1.1.1.1"], "site": "x"}, sites=["x"])
    assert req.site == "x"  # a request takes the sites of the flow it is checked against


def test_the_signed_check_loads_ccxts_okx_client_only() -> None:
    """`import ccxt` imports every exchange ccxt has; the run's signed check needs one. The
    okx client comes without the others, and a later `import ccxt` gives the same classes."""
    code = (
        "import sys\n"
        "from agent.exchanges.okx import ccxt_okx\n"
        "okx, errors = ccxt_okx()\n"
        "assert 'ccxt.binance' not in sys.modules and 'ccxt' not in sys.modules\n"
        "import ccxt\n"
        "assert ccxt.okx is okx and ccxt.BaseError is errors.BaseError\n"
        "assert ccxt_okx() == (okx, errors)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_the_signed_checks_client_loads_in_the_background() -> None:
    """A run starts loading it when a key is stored (okx.warm_ccxt, once): a thread, not the
    caller; the check's own ccxt_okx then has the same classes, and no `ccxt` stand-in is
    left behind."""
    code = (
        "import sys, threading\n"
        "from agent.exchanges import okx\n"
        "okx.warm_ccxt(); okx.warm_ccxt()\n"
        "assert len(okx._warming) == 1 and okx._warming[0] is not threading.current_thread()\n"
        "okx._warming[0].join()\n"
        "assert 'ccxt.okx' in sys.modules and 'ccxt' not in sys.modules\n"
        "cls, errors = okx.ccxt_okx()\n"
        "assert cls is sys.modules['ccxt.okx'].okx and errors is sys.modules['ccxt.base.errors']\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
