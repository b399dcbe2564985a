"""Small asyncio helpers shared by the front door's background jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and return once every one of them has ended.

    One cancellation each: on Python 3.11+ with redis-py 5+ and aiohttp 3.12+
    no library on our paths loses it any more (``asyncio.wait_for`` and
    ``asyncio.timeout`` keep a cancellation that arrives with the result; the
    loop of repeated cancellations that Python 3.10 needed is gone). Results
    and exceptions of the tasks are retrieved (nothing is logged as "never
    retrieved"); errors are logged. A cancellation of the caller itself
    propagates as usual.
    """
    todo = list(tasks)
    pending = {t for t in todo if not t.done()}
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in todo:
        if task.cancelled():
            continue
        exc = task.exception()
        if exc is not None:
            log.error("background task %s ended with %r", task.get_name(), exc)


async def bounded_step(name: str, step: Callable[[], Awaitable[Any]], timeout: float) -> bool:
    """Run one shutdown step on its own: its error is logged (never raised) and it
    is cut off after ``timeout`` seconds, so the next step runs in any case.
    True when it completed. A cancellation of the caller propagates."""
    task = asyncio.ensure_future(step())
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        log.error("shutdown: %s did not finish within %.1f s; going on", name, timeout)
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        return False
    if task.cancelled():
        log.error("shutdown: %s was cancelled", name)
        return False
    exc = task.exception()
    if exc is not None:
        log.error("shutdown: %s failed: %s", name, type(exc).__name__)
        return False
    return True
