"""One socket write per small HTTP message: the headers go out with the body.

aiohttp 3.9 (Rasa 3.6 pins aiohttp <3.10) writes a message's headers and its
body with two transport writes. With TCP_NODELAY, which aiohttp sets, each
write is its own send() and its own TCP segment, and each segment wakes the
peer: the front door's answer reached the citizen's client in two pieces,
and every request to Rasa woke Rasa twice (once for the headers, once for
the body). A profile of the front door at the benchmark's load
(docs/benchmark.md) put about 60 % of its event loop's time in those
send() calls.

:func:`install` makes aiohttp hold a message's headers until its first body
bytes (or its end) are written, and sends both in one write:

- client requests (the front door's calls to Rasa, the action server and
  the fake APIs in tests): aiohttp always follows the headers with
  ``write_bytes()``, which writes the body and ends with ``write_eof()``;
  a request expecting ``100-continue`` calls ``drain()`` first, which
  sends the held headers;
- server responses of class ``web.Response`` (JSON answers, errors, pages):
  ``write_eof()`` follows the headers at once. Streamed responses
  (``StreamResponse``, ``FileResponse``'s sendfile, the WebSocket upgrade)
  write past the writer, so their headers are sent as before.

Held headers are sent by the next ``_write()``, ``drain()`` or
``write_eof()``: nothing is lost or reordered, only merged. The classes
replaced are aiohttp's own (the version is pinned in constraints.txt);
tests/test_http_coalesce.py checks the single write and every kind of
response and request the front door uses.
"""

from __future__ import annotations

from typing import Any

from aiohttp import client_reqrep, http_writer, web_protocol, web_response

__all__ = ["CoalescingStreamWriter", "install"]


class CoalescingStreamWriter(http_writer.StreamWriter):
    """aiohttp's StreamWriter, able to send the headers with the first body bytes."""

    #: True: ``write_headers`` keeps the headers for the next write.
    hold_headers = False
    _held: bytes | None = None

    async def write_headers(self, status_line: str, headers: Any) -> None:
        if not self.hold_headers:
            await super().write_headers(status_line, headers)
            return
        if self._on_headers_sent is not None:
            await self._on_headers_sent(headers)
        self._held = http_writer._serialize_headers(status_line, headers)

    def _write(self, chunk: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            chunk = held + chunk
        super()._write(chunk)

    def flush_headers(self) -> None:
        """Send held headers now (also done by every write, drain and write_eof)."""
        if self._held is not None:
            self._write(b"")

    async def drain(self) -> None:
        self.flush_headers()
        await super().drain()


class _ClientStreamWriter(CoalescingStreamWriter):
    hold_headers = True  # a request's body (or its end) always follows


async def _response_write_headers(self: web_response.Response) -> None:
    writer = self._payload_writer
    if isinstance(writer, CoalescingStreamWriter):
        writer.hold_headers = True  # web.Response writes its whole body next
    await web_response.StreamResponse._write_headers(self)


_installed = False


def install() -> None:
    """Use the coalescing writer for aiohttp's client and server (idempotent)."""
    global _installed
    if _installed:
        return
    web_protocol.StreamWriter = CoalescingStreamWriter  # type: ignore[misc]
    client_reqrep.StreamWriter = _ClientStreamWriter  # type: ignore[misc]
    web_response.Response._write_headers = _response_write_headers  # type: ignore[method-assign,assignment]
    _installed = True
