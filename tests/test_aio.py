"""bot.aio.cancel_and_wait: shutdowns end even when a cancellation is lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.aio import cancel_and_wait


async def test_a_task_that_loses_a_cancellation_is_cancelled_again() -> None:
    lost = 0

    async def loses_the_first_cancel() -> None:
        nonlocal lost
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            lost += 1  # what a library bug does: carry on as if nothing happened
        await asyncio.sleep(60)

    task = asyncio.create_task(loses_the_first_cancel())
    await asyncio.sleep(0)
    # A plain ``task.cancel(); await task`` would wait the full 60 s here.
    await asyncio.wait_for(cancel_and_wait([task]), timeout=5)
    assert lost == 1
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
