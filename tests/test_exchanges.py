"""Exchange knowledge in one place: the flow file (data) and agent/exchanges/<name>.py (what
cannot be data). An exchange with a flow file and no adapter still gets a plan's permissions."""

from __future__ import annotations

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
