"""The citizen's address and scheme behind the reverse proxy (``TRUSTED_PROXIES``).

The first middleware of the application (bot/app.py), so every other
middleware and handler sees the right ``request.remote`` (console sign-in
throttling, widget and handoff limits) and ``request.secure`` (the console
cookie's Secure flag).

The rules, in full:

- ``X-Forwarded-For`` and ``X-Forwarded-Proto`` count only when the TCP peer
  is a trusted proxy. From anyone else they are ignored: ``request.remote``
  is the peer, ``request.secure`` what the connection itself is.
- From a trusted peer, ``X-Forwarded-For`` (all its lines, in order, as one
  list) is read from the right: trusted proxies are skipped; the first
  address that is not trusted is the client. Whatever lies to the left of it
  was written by the client (a spoofed hop) and is never read. An entry that
  is not an address stops the walk: the client is then the last trusted hop
  (no proxy we trust writes such entries, only a client can). When every
  entry is trusted, the left-most one is the client (an internal caller).
- From a trusted peer, the right-most ``X-Forwarded-Proto`` value (the one the
  peer wrote; a proxy that appends keeps the client's own values to the left)
  gives the scheme, when it is ``http`` or ``https``.

Why not aiohttp-remotes (1.3.0 is the last for Python 3.10): its
``XForwardedStrict`` answers 400 to any request whose hop count differs from
the configured chain, so direct callers (health probes) and clients whose own
proxy adds a header are refused; ``XForwardedRelaxed`` trusts any peer;
``XForwardedFiltered`` never checks the peer, so a direct client could name
any address, and it also takes ``X-Forwarded-Host``. The rules above are a
few lines of the standard library's :mod:`ipaddress`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_SCHEMES = frozenset({"http", "https"})


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks; a bad entry stops the start with a clear error."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """One X-Forwarded-For entry: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1``, ``[::1]:5678``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _peer(request: web.Request) -> Address | None:
    return _address(request.remote) if request.remote else None


def forwarded_client(
    headers: Any, peer: Address | None, networks: tuple[Network, ...]
) -> str | None:
    """The client address the trusted chain vouches for, or None to keep the peer."""
    if not _trusted(peer, networks):
        return None
    hops = [hop for line in headers.getall(hdrs.X_FORWARDED_FOR, ()) for hop in line.split(",")]
    client: Address | None = None
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # only a client writes garbage: keep the last trusted hop
        client = address
        if not _trusted(address, networks):
            break
    return str(client) if client is not None else None


def forwarded_scheme(
    headers: Any, peer: Address | None, networks: tuple[Network, ...]
) -> str | None:
    if not _trusted(peer, networks):
        return None
    values = [
        v.strip().lower()
        for line in headers.getall(hdrs.X_FORWARDED_PROTO, ())
        for v in line.split(",")
    ]
    values = [v for v in values if v]
    return values[-1] if values and values[-1] in _SCHEMES else None


def trusted_proxy_middleware(networks: tuple[Network, ...]) -> Middleware:
    """The middleware for ``networks``; put it first in the application's list."""

    @web.middleware
    async def trusted_proxy(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not networks:
            return await handler(request)
        peer = _peer(request)
        remote = forwarded_client(request.headers, peer, networks) or request.remote
        scheme = forwarded_scheme(request.headers, peer, networks) or request.scheme
        if remote != request.remote or scheme != request.scheme:
            request = request.clone(remote=remote or "", scheme=scheme)
        return await handler(request)

    return trusted_proxy
