"""The fault tests' own judge of a widget log that spans reconnects (runs in
every pytest run: it needs no cluster)."""

from __future__ import annotations

from typing import Any

from tests.faults.harness import judge_resumed_log


def entry(seq: int, direction: str, text: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "seq": seq, "direction": direction, "text": text, **extra}


def ack(client_id: str) -> dict[str, Any]:
    return {"type": "ack", "id": client_id, "status": "ok"}


def test_a_resend_after_a_reconnect_is_judged_once() -> None:
    frames = [
        ack("a"), entry(1, "in", "你好", id="a"), entry(2, "out", "您好"),
        entry(2, "out", "您好"),  # sent again by the resume after the reconnect
        ack("b"), entry(3, "in", "再见", id="b"),
        ack("b"),  # the widget resent b: the hub dropped the copy and acked it
        entry(4, "out", "再见!"),
    ]  # fmt: skip
    verdicts = judge_resumed_log(frames, ["a", "b"], [("您好",), ("再见!",)])
    assert verdicts == ["ok", "ok"]


def test_lost_duplicated_and_reordered_are_told_apart() -> None:
    expected: list[tuple[str, ...] | None] = [("1",), ("2",)]
    never_echoed = [ack("a"), entry(1, "in", id="a"), entry(2, "out", "1"), ack("b")]
    assert judge_resumed_log(never_echoed, ["a", "b"], expected) == ["ok", "lost"]
    twice = [ack("a"), entry(1, "in", id="a"), entry(2, "in", id="a"), entry(3, "out", "1")]
    assert judge_resumed_log(twice, ["a"], expected[:1]) == ["duplicated"]
    swapped = [ack("a"), ack("b"), entry(1, "in", id="b"), entry(2, "out", "2"),
               entry(3, "in", id="a"), entry(4, "out", "1")]  # fmt: skip
    assert judge_resumed_log(swapped, ["a", "b"], expected) == ["reordered", "reordered"]
    backwards = [ack("a"), entry(5, "in", id="a"), entry(4, "out", "1")]
    assert judge_resumed_log(backwards, ["a"], expected[:1]) == ["reordered"]


def test_the_burst_judge_finds_a_reply_after_another_message() -> None:
    from tests.faults.test_bursts import interleaving

    whole = [("in", "m0"), ("out", "m0#0"), ("out", "m0#1"), ("in", "m1"), ("out", "m1#0")]
    assert interleaving(whole) is None
    # Both messages recorded on arrival, before the first reply (the old hub).
    split = [("in", "m0"), ("in", "m1"), ("out", "m0#0"), ("out", "m1#0")]
    assert interleaving(split) == "m0"


async def test_the_telegram_client_redelivers_a_503d_update_and_is_judged_once() -> None:
    """Telegram's side of a store outage: the webhook answers 503, the same
    update comes again, the reply reaches the Bot API once."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from tests.faults.harness import ClusterTelegramApi, TelegramPath

    api = ClusterTelegramApi("1:fault-token")
    await api.start()
    seen: list[int] = []

    async def webhook(request: web.Request) -> web.Response:
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
        update = await request.json()
        seen.append(update["update_id"])
        if len(seen) == 1:
            return web.Response(status=503, text="busy")  # the store is down
        chat_id = update["message"]["chat"]["id"]
        async with request.app["http"].post(
            f"{api.url}/bot1:fault-token/sendMessage",
            data={"chat_id": str(chat_id), "text": "您好，我是东莞12345智能助手"},
        ) as resp:
            assert resp.status == 200
        return web.Response(status=200)

    async def session(app: web.Application) -> Any:
        import aiohttp

        app["http"] = aiohttp.ClientSession()
        yield
        await app["http"].close()

    door = web.Application()
    door.router.add_post("/webhooks/telegram", webhook)
    door.cleanup_ctx.append(session)
    server = TestServer(door, host="127.0.0.1")
    await server.start_server()
    path = TelegramPath(str(server.make_url("")), "s3cret", api)
    try:
        chat = await path.open("t")
        turn = await chat.say("你好", ("您好，我是东莞12345智能助手",))
        turns = await chat.finish()
    finally:
        await path.close()
        await server.close()
        await api.close()
    assert turn.error is None, turn.error
    assert len(seen) == 2 and seen[0] == seen[1]  # the same update, delivered again
    assert path.resends == 1 and turn.extra["resends"] == 1
    assert [t.verdict for t in turns] == ["ok"]
