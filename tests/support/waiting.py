"""Waiting in tests without sleeping a fixed time: poll a condition, or read a
WebSocket's frames, until it holds; fail the test after ``timeout`` seconds."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

Frames = list[dict[str, Any]]


# ``timeout`` is how long a test waits before it fails, the tests' own word for it
# (ASYNC109 would have every caller wrap the call in asyncio.timeout instead).


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 5.0,  # noqa: ASYNC109
    interval: float = 0.02,
) -> None:
    """Wait until ``check()`` is true (``check`` may be a coroutine function, e.g.
    one that asks the server over HTTP); fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        done = check()
        if inspect.isawaitable(done):
            done = await done
        if done:
            return
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(interval)


async def frames_until(
    ws: aiohttp.ClientWebSocketResponse,
    done: Callable[[Frames], bool],
    timeout: float = 5.0,  # noqa: ASYNC109
) -> Frames:
    """Collect the JSON text frames of ``ws`` until ``done(frames)`` holds; fail on
    timeout or on a frame that is not text."""
    frames: Frames = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done(frames):
        remaining = deadline - loop.time()
        assert remaining > 0, f"timed out; got {frames}"
        msg = await ws.receive(timeout=remaining)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frames.append(json.loads(msg.data))
    return frames
