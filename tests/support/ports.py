"""Loopback ports for the servers and processes the tests start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on (free when asked; the OS does not
    hand it out again soon)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dead_url() -> str:
    """An http URL on the loopback where nothing answers."""
    return f"http://127.0.0.1:{free_port()}"


def listening_socket() -> socket.socket:
    """A loopback socket that listens on a port of its own: a port that is taken.
    The caller closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock
