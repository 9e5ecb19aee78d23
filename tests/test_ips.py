"""The one IP rule (agent.ips) and the one list splitter (agent.lists), as every caller sees
them: the request refuses what the comparison would never match, and the comparison (audit,
capture, verify) is strict about the same forms."""

from __future__ import annotations

import pytest

from agent.custody.verify import ip_set
from agent.engine.flow import Rules
from agent.ips import IPError, canonical, comparable, parse, same_set
from agent.lists import WHITESPACE, split_list
from agent.request import RequestError, check_ips, ip_problems
from agent.run_end import compare_shown


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("", "empty IP address"),
        ("10.0.0.0/8", "IP ranges are not accepted"),
        ("1.2.3", "not an IPv4 or IPv6 address"),
        ("[2001:db8::7]", "not an IPv4 or IPv6 address"),
        ("::ffff:203.0.113.7", "IPv4-mapped IPv6 address: ::ffff:203.0.113.7 (give 203.0.113.7"),
        ("fe80::1%eth0", "IPv6 zone ids are not accepted"),
    ],
)
def test_not_an_allowlist_address(given: str, words: str) -> None:
    with pytest.raises(IPError, match=words.replace("[", r"\[").replace("(", r"\(")):
        parse(given)
    assert canonical(given) is None
    with pytest.raises(RequestError):
        check_ips([given], True, Rules())


def test_canonical_text() -> None:
    assert canonical(" 2001:0DB8:0:0::0007 ") == "2001:db8::7"
    assert canonical("203.0.113.7") == "203.0.113.7"
    assert check_ips(["2001:0DB8::7"], True, Rules()) == ["2001:db8::7"]


def test_comparisons_are_as_strict_as_the_request() -> None:
    """A mapped address or a zone id on a page or in the exchange's answer is not the address
    requested: it shows as a difference (verify, the capture check, the audit's sets)."""
    assert comparable("::ffff:203.0.113.7") == "::ffff:203.0.113.7"
    assert not same_set(["::ffff:203.0.113.7"], ["203.0.113.7"])
    assert not same_set(["fe80::1%eth0"], ["fe80::1"])
    assert same_set(["2001:0db8::7", "203.0.113.7"], ["203.0.113.7", "2001:db8::7"])
    assert ip_set(["::ffff:127.0.0.1", " 2001:DB8::7 "]) == {"::ffff:127.0.0.1", "2001:db8::7"}
    perms = ["Read", "Trade"]
    shown = {"permissions": "Read, Trade", "ips": "2001:0db8::7,203.0.113.7"}
    assert compare_shown(shown, perms, ["203.0.113.7", "2001:db8::7"]) == "ok"
    shown = {"permissions": "Read,Trade", "ips": "::ffff:203.0.113.7"}
    assert compare_shown(shown, perms, ["203.0.113.7"]).startswith("MISMATCH: IPs")


def test_every_ip_problem_is_listed() -> None:
    good, problems = ip_problems(["1.2.3", "203.0.113.7", "203.0.113.7"], True, Rules(max_ips=2))
    assert good == ["203.0.113.7", "203.0.113.7"]
    assert problems == [
        "not an IPv4 or IPv6 address: 1.2.3",
        "duplicate IP address: 203.0.113.7",
        "3 IP addresses given; the exchange allows at most 2",
    ]


def test_split_list() -> None:
    assert split_list(" read_only, trade ,,") == ["read_only", "trade"]
    assert split_list(None) == [] and split_list("") == []
    assert split_list([" a ", "", "b"]) == ["a", "b"]
    assert split_list("a b;c|d\te", WHITESPACE + ";|") == ["a", "b", "c", "d", "e"]
    assert split_list("age1x\nage1y, ssh-ed25519 AAAA c", ",\n") == [
        "age1x",
        "age1y",
        "ssh-ed25519 AAAA c",
    ]
