"""redis-py 4.x connections that let a cancelled task stop.

Rasa 3.6 pins ``redis<5``, so the front door runs redis-py 4.6 on Python
3.10. Two places in its asyncio connection lose a ``task.cancel()`` that
arrives while a command is under way; the command then carries on as if
nothing happened and the task keeps running. Seen here as app shutdowns that
waited forever for a cancelled sweep task (tests/console/test_auth.py hung in
1 to 2 of every 3 runs); measured with a task looping over ``GET``, cancelled at
varied points: 10 of 70 cancellations lost with the stock classes, 0 with
these (tests/test_store.py).

1. Before every command the pool asks ``can_read_destructive()``: is stale
   data waiting on the connection? The stock parser answers with ``async with
   async_timeout(0): await stream.read(1)``. async-timeout ends that wait by
   cancelling the task and, before Python 3.11, cannot tell its own
   cancellation from someone else's: a cancellation that arrives then becomes
   a ``TimeoutError`` and the check answers "no data". redis-py 8 replaced the
   check with a non-blocking one (redis/redis-py#4063); :class:`NoWaitParser`
   does the same.
2. With ``socket_timeout`` set, every command is written through
   ``asyncio.wait_for(...)``. On Python 3.10 ``wait_for`` returns the inner
   result when the inner task has finished by the time the outer one is
   cancelled, dropping the cancellation (CPython gh-86296); writing a command
   finishes at once, so the window is there on every command.
   :class:`NoWaitConnection` writes under ``async_timeout`` instead, which
   only loses a cancellation that coincides with its own expiry.

Both also save the front door work: the stock check always yields to the loop
once and ``wait_for`` creates a task per command; here neither happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from async_timeout import timeout as async_timeout
from redis.asyncio.connection import (
    Connection,
    PythonParser,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError


class NoWaitParser(PythonParser):
    """redis-py's Python parser whose "stale data?" check does not wait.

    The answer comes from what the stream has already received: buffered bytes
    mean stale data (the pool then reconnects); a stream at EOF means the
    server closed the connection (a Redis restart, an idle timeout), reported
    as a connection error so the pool reconnects at once instead of failing
    the command. A cancelled read leaves nothing behind that this could miss:
    ``read_response`` disconnects on any exception.
    """

    async def can_read_destructive(self) -> bool:
        if not self._connected:
            raise RedisError("Buffer is closed.")
        if self._buffer:
            return True
        stream = self._stream
        if stream.at_eof():
            raise RedisConnectionError("Connection closed by server.")
        # StreamReader has no public "bytes waiting" query; its buffer is a
        # bytearray in every CPython 3.x.
        return bool(getattr(stream, "_buffer", b""))


async def _send_packed_command(
    self: Any, command: bytes | str | Iterable[bytes], check_health: bool = True
) -> None:
    """``Connection.send_packed_command`` without ``asyncio.wait_for`` (module doc, 2)."""
    if not self.is_connected:
        await self.connect()
    elif check_health:
        await self.check_health()
    if isinstance(command, str):
        command = command.encode()
    if isinstance(command, bytes):
        command = [command]
    try:
        async with async_timeout(self.socket_timeout):
            self._writer.writelines(command)
            await self._writer.drain()
    except asyncio.TimeoutError:
        await self.disconnect(nowait=True)
        raise RedisTimeoutError("Timeout writing to socket") from None
    except OSError as exc:
        await self.disconnect(nowait=True)
        raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
    except BaseException:
        # Part of the command may be unsent: the connection is unusable
        # (redis-py does the same).
        await self.disconnect(nowait=True)
        raise


class NoWaitConnection(Connection):
    send_packed_command = _send_packed_command


class NoWaitSSLConnection(SSLConnection):
    send_packed_command = _send_packed_command


class NoWaitUnixConnection(UnixDomainSocketConnection):
    send_packed_command = _send_packed_command


_BY_SCHEME = {
    "redis": NoWaitConnection,
    "rediss": NoWaitSSLConnection,
    "unix": NoWaitUnixConnection,
}


def connection_options(url: str) -> dict[str, Any]:
    """Keyword arguments for ``Redis.from_url(url, ...)`` that select these classes."""
    scheme = url.split("://", 1)[0].lower()
    options: dict[str, Any] = {"parser_class": NoWaitParser}
    if scheme in _BY_SCHEME:
        options["connection_class"] = _BY_SCHEME[scheme]
    return options
