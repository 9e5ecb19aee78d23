"""One place that decides which URLs a user may hand the agent, and how they are shown.

Every URL argument goes through here before anything connects: a test target, a client's
Chrome (CDP), a remote browser server, the verify endpoint. Credentials in a URL are refused
(they would be printed and logged); plain http:// and ws:// are accepted for loopback only,
since the pages and requests that cross them carry a new key's secret or its passphrase.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class URLError(ValueError):
    """A URL argument that cannot be used, phrased for the user (one line, no credentials)."""


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown(url: str) -> str:
    """The URL for messages: no user info, query or fragment (a token may sit there)."""
    try:
        u = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, say: still never show user info
        return url.split("://", 1)[-1].rsplit("@", 1)[-1].split("?", 1)[0]
    if not u.scheme:
        return url.rsplit("@", 1)[-1]
    return f"{u.scheme}://{u.netloc.rsplit('@', 1)[-1]}{u.path}"


KINDS = {
    ("http", "https"): "an http(s) URL",
    ("ws", "wss"): "a ws:// or wss:// URL",
    ("http", "https", "ws", "wss"): "an http(s) or ws(s) URL",
}


def check(url: str, name: str, schemes: tuple[str, ...]) -> None:
    """Refuse `url` for option `name` unless its scheme is one of `schemes`, it names a host
    and it carries no credentials."""
    try:
        u = urlsplit(url)
        host, _ = u.hostname, u.port
    except ValueError:
        raise URLError(f"{name} {shown(url)!r} is not a valid URL") from None
    if u.scheme.lower() not in schemes or not host:
        kind = KINDS.get(schemes) or " or ".join(f"{s}://" for s in schemes) + " URL"
        raise URLError(f"{name} {shown(url)!r} is not {kind}")
    if u.username is not None or u.password is not None:
        raise URLError(
            f"{name} {shown(url)!r}: credentials in the URL (user:password@) are refused; "
            "they would be printed and logged"
        )


def check_clear(url: str, name: str, clear: str, carries: str = "the new key's secret") -> None:
    """Refuse the clear-text scheme `clear` (http, ws) unless `url` points at this machine:
    `carries` would cross the network unencrypted."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == clear and not is_loopback(url):
        secure = {"http": "https", "ws": "wss"}.get(scheme, "a secure scheme")
        raise URLError(
            f"{name} {shown(url)}: plain {scheme}:// to another host would carry {carries} "
            f"unencrypted; use {secure}:// or an SSH tunnel to a loopback port"
        )
