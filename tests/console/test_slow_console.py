"""Review: one console that stops reading does not stall the others.

Each console socket has a bounded queue of frames and its own writer: the
replica's event forwarder only queues. A console whose queue overflows, or
whose write does not finish within a few seconds (a frozen tab, a dead
link, its TCP buffers full), is cut off (its browser reconnects and gets a
fresh snapshot); the other consoles keep getting their frames. The slow
client is a raw TCP socket with a tiny receive buffer that never reads.
"""

from __future__ import annotations

import asyncio

from tests.console.conftest import MakeReplica, SignIn, connect, console_of, runtime_of
from tests.console.test_going_away import LONG, RawSocket, _cookie
from tests.support.waiting import eventually, frames_until


async def _dropped(raw: RawSocket) -> bool:
    """True once the server has closed the connection (all it sent read)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        try:
            if not await asyncio.wait_for(raw.reader.read(2**20), 5):
                return True
        except ConnectionError:
            return True
    return False


def _writers() -> int:
    return sum(1 for t in asyncio.all_tasks() if t.get_name() == "console-seat-writer")


async def test_a_console_that_stops_reading_is_cut_off_and_the_others_go_on(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica()
    sockets = runtime_of(client).sockets
    frozen = await sign_in(client, "zhangsan", display_name="张三")
    raw = await RawSocket.connect(
        client, f"/console/ws?csrf={frozen.csrf}", {"Cookie": _cookie(frozen)}
    )
    try:
        live = await sign_in(client, "lisi", display_name="李四")
        ws = await connect(live)

        async def both() -> bool:
            return len(sockets.seats) == 2

        await eventually(both)
        notifier = console_of(client).notifier
        for i in range(400):  # 12 MB for the frozen console, small frames for all
            await notifier.notice(frozen.id, LONG)
            if i % 20 == 0:
                await notifier.claimed(f"rest:t:x{i}", frozen.id, "张三")
        await notifier.notice(live.id, "还在")
        frames = await frames_until(
            ws, lambda fs: any(f.get("text") == "还在" for f in fs), timeout=10
        )
        assert sum(f["type"] == "claimed" for f in frames) == 20  # nothing skipped

        async def cut_off() -> bool:
            return [s.user.username for s in sockets.seats] == ["lisi"]

        await eventually(cut_off, timeout=10)
        assert await _dropped(raw)  # the connection was aborted
        # nothing left behind: one writer (the live console's), and it still works
        assert _writers() == 1
        await notifier.notice(live.id, "再次")
        await frames_until(ws, lambda fs: any(f.get("text") == "再次" for f in fs))
        await ws.close()

        async def none_left() -> bool:
            return not sockets.seats and _writers() == 0

        await eventually(none_left)
    finally:
        raw.close()
