"""One rule for IP addresses, wherever one is read or compared: the request (validation), the
page's chips and the pre-submit audit, the key the exchange shows at capture, and what its REST
API returns to `onboard verify`.

The rule is strict. An address is one IPv4 or IPv6 address, written any way `ipaddress` reads
it, and compared in `ipaddress`'s canonical text ("2001:0DB8::0007" is "2001:db8::7"). Two
written forms are not addresses of an allowlist: an IPv6 zone id (`fe80::1%eth0`, meaningful
on one machine only) and an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, which an exchange may
or may not match against the IPv4 peer). A request holding one is refused (`parse` says why);
a page or an exchange answer holding one keeps its text as written (`canonical` gives None),
so it never equals a requested address and shows as a difference instead of passing quietly.
"""

from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class IPError(ValueError):
    """Not one allowlist address; the message says what was given and what to give."""


def parse(text: str) -> Address:
    """The address `text` names (surrounding spaces ignored); IPError when it is empty, a
    range, not an address, an IPv4-mapped IPv6 address or carries a zone id."""
    raw = text.strip()
    if not raw:
        raise IPError("empty IP address")
    if "/" in raw or "-" in raw or "*" in raw:
        raise IPError(f"IP ranges are not accepted: {raw} (give single addresses)")
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        raise IPError(f"not an IPv4 or IPv6 address: {raw}") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        raise IPError(f"IPv4-mapped IPv6 address: {raw} (give {ip.ipv4_mapped} instead)")
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id is not None:
        raise IPError(f"IPv6 zone ids are not accepted: {raw} (give the address without %...)")
    return ip


def canonical(text: str) -> str | None:
    """The canonical text of one address ("2001:0db8::0007" -> "2001:db8::7"), or None when
    `text` is not one under the rule above (junk, a range, a mapped address, a zone id)."""
    try:
        return str(parse(text))
    except IPError:
        return None


def comparable(text: str) -> str:
    """What a shown address is compared as: its canonical text, else its text as written."""
    return canonical(text) or text.strip()


def same_set(a: list[str], b: list[str]) -> bool:
    """Whether two lists name the same addresses, whatever their written form and order."""
    return {comparable(x) for x in a} == {comparable(x) for x in b}
