"""One normaliser for IP addresses, wherever they are compared: the request, the page's chips,
what the exchange shows and what its REST API returns."""

from __future__ import annotations

import ipaddress


def canonical(text: str) -> str | None:
    """The canonical text of one address ("2001:0db8::0007" -> "2001:db8::7"; an IPv4-mapped
    IPv6 address -> its IPv4; brackets and a zone id dropped), or None when it is not one."""
    raw = text.strip().strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def same_set(a: list[str], b: list[str]) -> bool:
    """Whether two lists name the same addresses, whatever their written form and order."""
    return {canonical(x) or x for x in a} == {canonical(x) or x for x in b}
