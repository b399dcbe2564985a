"""The name a per-address limit counts a client under.

Every limit "per client address" (widget sessions and sockets, handoff
requests, console sign-in) counts an IPv4 client by its address and an IPv6
client by its /64 network: one line (a home, a phone) usually holds a whole
/64, so a client rotating through its 2**64 addresses must not get a fresh
allowance with each one. An IPv4-mapped IPv6 address counts as the IPv4
address. ``request.remote`` is already the real client behind a trusted proxy
(bot/proxy.py).
"""

from __future__ import annotations

import ipaddress


def address_key(address: str | None) -> str | None:
    """The counter's name for a client address: the address, or its /64 for IPv6."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
