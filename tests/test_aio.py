"""bot.aio.cancel_and_wait: background tasks are stopped and their outcome collected."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.aio import cancel_and_wait


async def test_running_tasks_are_cancelled_and_awaited() -> None:
    started = asyncio.Event()

    async def sleeper() -> None:
        started.set()
        await asyncio.sleep(60)

    task = asyncio.create_task(sleeper())
    await started.wait()
    await asyncio.wait_for(cancel_and_wait([task]), timeout=5)
    assert task.cancelled()


async def test_finished_and_failed_tasks_are_collected(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    async def waits() -> None:
        await asyncio.sleep(60)

    failed = asyncio.create_task(fails(), name="fails")
    done = asyncio.create_task(asyncio.sleep(0))
    waiting = asyncio.create_task(waits())
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.ERROR, logger="bot.aio"):
        await cancel_and_wait([failed, done, waiting])
    assert waiting.cancelled() and done.done() and not done.cancelled()
    assert "fails" in caplog.text and "boom" in caplog.text


async def test_the_callers_own_cancellation_propagates() -> None:
    stop = asyncio.Event()

    async def ignores_cancel() -> None:
        while not stop.is_set():
            try:
                await stop.wait()
            except asyncio.CancelledError:
                pass

    stubborn = asyncio.create_task(ignores_cancel())
    stopper = asyncio.create_task(cancel_and_wait([stubborn]))
    await asyncio.sleep(0.05)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    stop.set()
    await stubborn
