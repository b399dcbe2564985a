"""Driving the running `make cluster` for the fault tests.

The cluster's ports and secrets come from ``CLUSTER_DIR/cluster.env``
(written by scripts/cluster.sh). The citizens are the benchmark's scripted
ones (benchmarks/benchmark_load.py) on the benchmark's client paths
(benchmarks/benchmark_paths.py), through nginx; the clients here add what
real senders do when something fails: WeChat resends the same MsgId after 5
seconds or a 5xx, a REST client resends its message id on 503, the widget
reconnects and resumes after its socket drops. The transcript audit is the
benchmark's (benchmark_report.audit_conversations) over the cluster's
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import random
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from benchmark_load import SCRIPTS, Reference, Run, Script, record_reference  # noqa: E402
from benchmark_paths import (  # noqa: E402
    HTTP_TIMEOUT,
    TURN_TIMEOUT,
    ClientPath,
    Conversation,
    FakeWeChatApi,
    RestConversation,
    RestPath,
    Turn,
    TurnWatch,
    WebChatConversation,
    WebChatPath,
    WeChatConversation,
    WeChatPath,
    _busy,
    _replies_after,
    compare,
    compare_wechat,
)
from benchmark_report import audit_conversations, percentile  # noqa: E402

from tests.fakes.telegram_api import FakeTelegramApi, text_update  # noqa: E402

log = logging.getLogger("faults")

__all__ = [
    "SCRIPTS",
    "ClientPath",
    "Conversation",
    "FakeTelegramApi",
    "FakeWeChatApi",
    "Reference",
    "Run",
    "Script",
    "Turn",
]

#: WeChat waits 5 s for an answer, then resends the same MsgId (three tries in all).
WECHAT_WAIT = 5.0
WECHAT_TRIES = 3
#: How long a REST client or the widget keeps resending one message through a fault.
RESEND_FOR = 90.0
#: The widget sends a message again after these errors (bot/static/widget.js).
RESEND_ON = frozenset({"socket closed", "ws error server_error", "ws error rate_limited"})
WIDGET_RETRY_LATER = 2.0
#: Telegram redelivers an update its webhook did not answer with 2xx; it waits
#: longer each time (seconds to minutes), the test waits 1 s, then 2 s, then 4 s.
TELEGRAM_RETRY_FIRST = 1.0
TELEGRAM_RETRY_MAX = 4.0


def say(text: str) -> None:
    """What happened, on the test's output (`make faults` runs pytest -s)."""
    sys.stdout.write(f"[faults] {text}\n")
    sys.stdout.flush()


# --- the cluster ---------------------------------------------------------------------


@dataclass
class Cluster:
    dir: Path
    env: dict[str, str]

    @classmethod
    def load(cls) -> Cluster:
        directory = Path(os.environ.get("CLUSTER_DIR") or ROOT / "var" / "cluster")
        env_file = directory / "cluster.env"
        if not env_file.exists():
            raise FileNotFoundError(f"{env_file}: start the cluster first (make cluster)")
        env = {}
        for line in env_file.read_text().splitlines():
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                env[key] = value
        return cls(directory, env)

    def port(self, name: str) -> int:
        return int(self.env[name])

    @property
    def url(self) -> str:
        """nginx: the citizens' way in."""
        return f"http://127.0.0.1:{self.port('CLUSTER_PORT')}"

    def door_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port(f'FRONTDOOR_{n}_PORT')}"

    def rasa_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port(f'RASA_{n}_PORT')}"

    def ctl(self, *args: str, timeout: float = 900) -> str:
        """scripts/cluster.sh with this cluster's directory; its output is printed."""
        result = subprocess.run(  # noqa: S603 - our own script
            [str(ROOT / "scripts" / "cluster.sh"), *args],
            env={**os.environ, "CLUSTER_DIR": str(self.dir)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        for line in (result.stdout + result.stderr).splitlines():
            say(f"cluster.sh {' '.join(args)}: {line}")
        if result.returncode != 0:
            raise RuntimeError(f"scripts/cluster.sh {' '.join(args)} failed ({result.returncode})")
        return result.stdout

    def status_ok(self) -> bool:
        result = subprocess.run(  # noqa: S603 - our own script
            [str(ROOT / "scripts" / "cluster.sh"), "status"],
            env={**os.environ, "CLUSTER_DIR": str(self.dir)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return result.returncode == 0

    @property
    def rest_token(self) -> tuple[str, str]:
        name, _, token = self.env["REST_TOKENS"].split(",")[0].partition(":")
        return name, token

    def rest_path(self, base_url: str | None = None) -> ResendingRestPath:
        name, token = self.rest_token
        return ResendingRestPath("rest", base_url or self.url, True, token, name)

    def rasa_path(self, n: int = 1) -> RestPath:
        return RestPath("rasa", self.rasa_url(n), False, self.env["RASA_AUTH_TOKEN"])

    def widget_path(self, base_url: str | None = None) -> ResumingWebChatPath:
        return ResumingWebChatPath(base_url or self.url)

    def wechat_path(self, api: FakeWeChatApi, base_url: str | None = None) -> ResendingWeChatPath:
        return ResendingWeChatPath(base_url or self.url, self.env["WECHAT_TOKEN"], api)

    def telegram_path(self, api: ClusterTelegramApi, base_url: str | None = None) -> TelegramPath:
        return TelegramPath(base_url or self.url, self.env["TELEGRAM_WEBHOOK_SECRET"], api)

    def fake_telegram_api(self) -> ClusterTelegramApi:
        return ClusterTelegramApi(self.env["TELEGRAM_BOT_TOKEN"])

    def fake_wechat_api(self) -> FakeWeChatApi:
        return FakeWeChatApi(self.env["WECHAT_APP_ID"], self.env["WECHAT_APP_SECRET"])

    # --- the database --------------------------------------------------------------
    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.env["DATABASE_URL"], connect_timeout=10) as db:
            return db.execute(query, params).fetchall()  # type: ignore[arg-type]

    def transcript_rows(self, conversation_id: str) -> list[tuple[str, str | None]]:
        rows = self.sql(
            "SELECT direction, message_id FROM transcripts WHERE conversation_id = %s ORDER BY seq",
            conversation_id,
        )
        return [(str(d), m) for d, m in rows]

    def audit(self, runs: Iterable[Run]) -> dict[str, Any]:
        with psycopg.connect(self.env["DATABASE_URL"], connect_timeout=10) as db:

            def fetch(cid: str) -> list[tuple[str, str | None]]:
                return db.execute(
                    "SELECT direction, message_id FROM transcripts "
                    "WHERE conversation_id = %s ORDER BY seq",
                    (cid,),
                ).fetchall()

            return audit_conversations(fetch, runs)

    async def wait_ready(self, deadline_s: float = 120.0) -> float:
        """Seconds until a REST message through nginx is answered (not busy)."""
        started = time.monotonic()
        path = self.rest_path()
        try:
            while True:
                conversation = await path.open("probe")
                turn = await conversation.say("你好", None)
                if turn.error is None and turn.replies and not _busy(turn.replies):
                    return time.monotonic() - started
                if time.monotonic() - started > deadline_s:
                    raise TimeoutError(f"no answer through nginx within {deadline_s:.0f} s")
                await asyncio.sleep(0.5)
        finally:
            await path.close()


# --- clients that behave like the real senders through a fault ----------------------


class ResendingRestConversation(RestConversation):
    """A REST client that resends the same message id on 5xx or a dropped connection."""

    async def _exchange(self, turn: Turn) -> None:
        started = time.monotonic()
        resends = 0
        self.answer_statuses: tuple[str, ...] = ("ok",)
        while True:
            turn.error = None
            try:
                await super()._exchange(turn)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                turn.error = type(exc).__name__
            except ValueError:  # not JSON: nginx's 502 page (the front door died mid-request)
                turn.error = "HTTP 5xx from the proxy"
            retriable = turn.error is not None and (
                turn.error.startswith("HTTP 5") or not turn.error.startswith(("HTTP", "status"))
            )
            if not retriable or time.monotonic() - started > RESEND_FOR:
                break
            resends += 1
            # The front door answers a resent message id with the first copy's
            # replies and status "duplicate" (bot/hub.py, Hub._replay).
            self.answer_statuses = ("ok", "duplicate")
            await asyncio.sleep(1.0)
        turn.extra["resends"] = resends


class ResendingRestPath(RestPath):
    async def open(self, tag: str) -> Conversation:
        return ResendingRestConversation(self, f"faults-{tag}-{secrets.token_hex(4)}")


class ResendingWeChatConversation(WeChatConversation):
    """WeChat's own behaviour: no answer within 5 s, or a 5xx -> the same MsgId again."""

    async def _post(
        self,
        text: str,
        msg_id: int | None = None,
        timeout: aiohttp.ClientTimeout = HTTP_TIMEOUT,
    ) -> str | None:
        msg_id = self.path.next_msg_id() if msg_id is None else msg_id
        wait = aiohttp.ClientTimeout(total=WECHAT_WAIT)
        last: Exception | None = None
        for attempt in range(WECHAT_TRIES):
            started = time.monotonic()
            try:
                return await super()._post(text, msg_id, wait)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                last = exc
                if isinstance(self.path, ResendingWeChatPath):
                    self.path.resends += 1
                if attempt + 1 < WECHAT_TRIES:  # the next try 5 s after this one began
                    await asyncio.sleep(max(0.0, WECHAT_WAIT - (time.monotonic() - started)))
        raise TimeoutError(f"WeChat gave up after {WECHAT_TRIES} tries: {last!r}")


class ResendingWeChatPath(WeChatPath):
    def __init__(self, base_url: str, token: str, api: FakeWeChatApi) -> None:
        super().__init__(base_url, token, api)
        self.resends = 0

    async def open(self, tag: str) -> Conversation:
        return ResendingWeChatConversation(self, f"oFault{secrets.token_hex(11)}")


class ClusterTelegramApi(FakeTelegramApi):
    """The fake Bot API where the cluster's front doors send (FAKE_TELEGRAM_API_PORT),
    with each chat's delivered texts in order and an event per chat."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.texts: dict[int, list[str]] = {}
        self.events: dict[int, asyncio.Event] = {}

    def event(self, chat_id: int) -> asyncio.Event:
        return self.events.setdefault(chat_id, asyncio.Event())

    async def _answer(self, method: str, params: dict[str, Any]) -> web.StreamResponse:
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(params["chat_id"])
            text = params.get("text") or params.get("caption") or ""
            self.texts.setdefault(chat_id, []).append(str(text))
            self.event(chat_id).set()
        return await super()._answer(method, params)


class TelegramConversation(Conversation):
    """A Telegram private chat: the update is posted to the webhook with the
    secret token; a non-2xx answer or a dropped connection gets the same
    update again (as Telegram redelivers), for up to ``RESEND_FOR`` seconds;
    the replies arrive at the fake Bot API."""

    def __init__(self, path: TelegramPath, chat_id: int) -> None:
        super().__init__()
        self.path = path
        self.chat_id = chat_id
        self.conversation_id = f"telegram:{chat_id}"
        self.seen = 0

    async def _exchange(self, turn: Turn) -> None:
        started = time.perf_counter()
        update = text_update(self.path.next_update_id(), self.chat_id, turn.text)
        await self._deliver(update, turn)
        turn.extra["response_s"] = time.perf_counter() - started
        delivered: list[str] = []
        await asyncio.wait_for(self._until_delivered(turn, delivered), TURN_TIMEOUT)
        turn.replies = delivered
        turn.latency = time.perf_counter() - started
        if _busy(delivered):
            turn.error = "busy reply"

    async def _deliver(self, update: dict[str, Any], turn: Turn) -> None:
        url = self.path.base_url + "/webhooks/telegram"
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.path.secret}
        first = time.monotonic()
        wait = TELEGRAM_RETRY_FIRST
        resends = 0
        while True:
            status: int | str
            try:
                async with self.path.http.post(
                    url, json=update, headers=headers, timeout=HTTP_TIMEOUT
                ) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                status = type(exc).__name__
            if status == 200:
                break
            if isinstance(status, int) and status < 500:
                raise ValueError(f"HTTP {status}")  # Telegram drops a 4xx'd update
            if time.monotonic() - first > RESEND_FOR:
                raise TimeoutError(f"the webhook kept failing: {status}")
            resends += 1
            self.path.resends += 1
            await asyncio.sleep(wait)
            wait = min(wait * 2, TELEGRAM_RETRY_MAX)
        turn.extra["resends"] = resends

    async def _until_delivered(self, turn: Turn, delivered: list[str]) -> None:
        api = self.path.api
        event = api.event(self.chat_id)
        while compare_wechat(delivered, turn.expected) not in ("ok", "duplicated"):
            if (turn.expected is None and delivered) or _busy(delivered):
                return
            event.clear()
            fresh = api.texts.get(self.chat_id, [])[self.seen :]
            if fresh:
                self.seen += len(fresh)
                delivered.extend(fresh)
                continue
            await event.wait()

    async def finish(self) -> list[Turn]:
        late = self.path.api.texts.get(self.chat_id, [])[self.seen :]
        if late and self.turns:
            self.turns[-1].replies.extend(late)  # a send nobody was waiting for
        for turn in self.turns:
            if turn.error is None:
                turn.verdict = compare_wechat(turn.replies, turn.expected)
        return self.turns


class TelegramPath(ClientPath):
    """Telegram's webhook through nginx; chat ids and update ids unique per run."""

    name = "frontdoor-telegram"
    channel = "telegram"

    def __init__(self, base_url: str, secret: str, api: ClusterTelegramApi) -> None:
        super().__init__(base_url)
        self.secret = secret
        self.api = api
        self.resends = 0
        self._update_ids = itertools.count(secrets.randbits(30))
        self._chat_ids = itertools.count(secrets.randbits(40) + 10**9)

    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def open(self, tag: str) -> Conversation:
        return TelegramConversation(self, next(self._chat_ids))


class ResumingWebChatConversation(WebChatConversation):
    """The widget: after its socket drops it reconnects (any replica, through
    nginx) with ``after_seq`` = the last entry it saw, and resends the message
    that was not answered yet with the same client id."""

    def __init__(self, path: ResumingWebChatPath, ws: Any, session: dict[str, Any]) -> None:
        super().__init__(ws, session["session_id"])
        self.path = path
        self.token = session["token"]
        self.reconnects = 0
        self.resends = 0

    def last_seq(self) -> int:
        seqs = [int(f["seq"]) for f in self.frames if f.get("type") == "message" and "seq" in f]
        return max(seqs, default=0)

    async def _reconnect(self) -> None:
        started = time.monotonic()
        while True:
            url = f"{self.path.base_url}/webchat/ws?token={self.token}&after_seq={self.last_seq()}"
            try:
                ws = await self.path.http.ws_connect(
                    url, timeout=aiohttp.ClientWSTimeout(ws_close=TURN_TIMEOUT), heartbeat=None
                )
                break
            except (aiohttp.ClientError, OSError, TimeoutError):
                if time.monotonic() - started > RESEND_FOR:
                    raise
                await asyncio.sleep(0.5)
        self.ws = ws
        self.reader = asyncio.create_task(self._read())
        self.reconnects += 1
        self.path.reconnects += 1

    async def _exchange(self, turn: Turn) -> None:
        client_id = f"f{len(self.turns)}{secrets.token_hex(6)}"
        self.client_ids.append(client_id)
        wanted = len(turn.expected) if turn.expected else 1
        frame = json.dumps({"type": "message", "id": client_id, "text": turn.text})
        started = time.monotonic()
        while True:
            watch = self.watch = TurnWatch(client_id, wanted)
            for seen in self.frames:  # what arrived before (not the error that ended a try)
                if seen.get("type") != "error":
                    watch.see(seen)
            if watch.done.done():
                turn.error = watch.done.result()
                return
            try:
                if self.reader.done():
                    raise ConnectionResetError("socket closed")
                await self.ws.send_str(frame)
                error = await asyncio.wait_for(asyncio.shield(watch.done), TURN_TIMEOUT)
            except (aiohttp.ClientError, ConnectionResetError):
                error = "socket closed"
            if error not in RESEND_ON or time.monotonic() - started > RESEND_FOR:
                turn.error = error
                return
            if error == "socket closed":
                await self._reconnect()
            else:  # the widget keeps the message and sends it again a little later
                self.resends += 1
                await asyncio.sleep(WIDGET_RETRY_LATER)

    async def finish(self) -> list[Turn]:
        await asyncio.sleep(0.2)
        await self.ws.close()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
        verdicts = judge_resumed_log(self.frames, self.client_ids, [t.expected for t in self.turns])
        for turn, client_id, verdict in zip(self.turns, self.client_ids, verdicts, strict=True):
            turn.replies = _replies_after(_unique_entries(self.frames), client_id)
            if turn.error is None:
                turn.verdict = verdict
        return self.turns


def _unique_entries(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcript frames once per seq (a resume may send an entry again: the
    widget shows each seq once)."""
    seen: set[int] = set()
    unique = []
    for frame in frames:
        if frame.get("type") == "message":
            seq = int(frame.get("seq", -1))
            if seq in seen:
                continue
            seen.add(seq)
        unique.append(frame)
    return unique


def judge_resumed_log(
    frames: list[dict[str, Any]],
    client_ids: list[str],
    expected: Sequence[tuple[str, ...] | None],
) -> list[str]:
    """Per sent message: ``ok`` / ``lost`` / ``duplicated`` / ``reordered`` /
    ``mismatch``, over a log that spans reconnects. A message resent after a
    reconnect may be acked twice (the hub drops the copy); it must be in the
    transcript once, and the entries must arrive in increasing seq order."""
    entries = [f for f in _unique_entries(frames) if f.get("type") == "message"]
    seqs = [int(f["seq"]) for f in entries]
    order_broken = any(b <= a for a, b in itertools.pairwise(seqs))
    acked = {f.get("id") for f in frames if f.get("type") == "ack"}
    echoes = [f.get("id") for f in entries if f.get("direction") == "in"]
    verdicts = []
    for index, client_id in enumerate(client_ids):
        verdict = compare(_replies_after(entries, client_id), expected[index])
        if client_id not in acked or client_id not in echoes:
            verdict = "lost"
        elif echoes.count(client_id) > 1:
            verdict = "duplicated"
        elif order_broken or echoes.index(client_id) != index:
            verdict = "reordered"
        verdicts.append(verdict)
    return verdicts


class ResumingWebChatPath(WebChatPath):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.reconnects = 0

    async def open(self, tag: str) -> Conversation:
        url = self.base_url + "/webchat/session"
        started = time.monotonic()
        while True:
            try:
                async with self.http.post(url, timeout=HTTP_TIMEOUT) as resp:
                    resp.raise_for_status()
                    session = await resp.json()
                ws = await self.http.ws_connect(
                    f"{self.base_url}/webchat/ws?token={session['token']}",
                    timeout=aiohttp.ClientWSTimeout(ws_close=TURN_TIMEOUT),
                    heartbeat=None,
                )
                return ResumingWebChatConversation(self, ws, session)
            except (aiohttp.ClientError, OSError, TimeoutError):
                if time.monotonic() - started > RESEND_FOR:
                    raise
                await asyncio.sleep(1.0)


# --- a load bounded by a message count -----------------------------------------------


@dataclass
class Tally:
    """The messages of one load, by path and verdict."""

    runs: dict[str, Run]
    elapsed: float
    verdicts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    by_path: dict[str, Counter[str]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, runs: dict[str, Run], elapsed: float) -> Tally:
        tally = cls(runs, elapsed)
        for name, run in runs.items():
            counts = tally.by_path.setdefault(name, Counter())
            for turn in run.turns:
                key = f"error: {turn.error}" if turn.error else turn.verdict
                counts[key] += 1
                if turn.error:
                    tally.errors[turn.error] += 1
                else:
                    tally.verdicts[turn.verdict] += 1
                    if turn.latency is not None:
                        tally.latencies.append(turn.latency)
        return tally

    @property
    def sent(self) -> int:
        return sum(len(run.turns) for run in self.runs.values())

    def count(self, *verdicts: str) -> int:
        return sum(self.verdicts[v] for v in verdicts)

    def report(self, title: str) -> None:
        lat = sorted(self.latencies)
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        say(
            f"{title}: {self.sent} messages in {self.elapsed:.0f} s "
            f"({self.sent / max(self.elapsed, 1e-9):.1f}/s); verdicts {dict(self.verdicts)}; "
            f"errors {dict(self.errors)}; p50 {1000 * (p50 or 0):.0f} ms, "
            f"p99 {1000 * (p99 or 0):.0f} ms"
        )
        for name, counts in self.by_path.items():
            say(f"  {name}: {dict(counts)}")
        self.show_examples()

    def show_examples(self, per_kind: int = 3) -> None:
        """A few turns of each kind that went wrong (besides busy replies), to look up
        in the front doors' logs and the transcript: conversation, turn, what came."""
        shown: Counter[str] = Counter()
        for name, run in self.runs.items():
            owners = [cid for cid, sent in run.conversations for _ in range(sent)]
            for index, turn in enumerate(run.turns):
                kind = turn.error or turn.verdict
                if kind in ("ok", "unchecked", "busy reply", "status busy"):
                    continue
                if shown[kind] >= per_kind:
                    continue
                shown[kind] += 1
                cid = owners[index] if index < len(owners) else "?"
                latency = f"{turn.latency:.1f} s" if turn.latency is not None else "-"
                say(
                    f"    {kind} on {name} {cid}: {turn.text!r} after {latency}; "
                    f"got {[r[:30] for r in turn.replies]}, expected "
                    f"{[e[:30] for e in turn.expected or ()]} {turn.extra}"
                )


async def count_load(
    paths: Sequence[ClientPath],
    citizens: int,
    messages: int,
    reference: Reference,
    seed: int = 19,
    pause: tuple[float, float] | None = None,
) -> Tally:
    """``citizens`` at once, citizen ``i`` on ``paths[i % len(paths)]``, each
    running scripted conversations one after another, until ``messages``
    messages were sent in all (a message is sent only while the budget lasts)."""
    started = time.monotonic()
    runs = {path.name: Run(path.name, started) for path in paths}
    budget = itertools.count()

    async def citizen(index: int) -> None:
        path = paths[index % len(paths)]
        rng = random.Random(f"{seed}-{index}")
        number = 0
        while True:
            script = rng.choice(SCRIPTS)
            number += 1
            conversation = await path.open(f"c{index}-{number}")
            spent = False
            # After a busy reply the script's replies no longer apply: the turn
            # may still have run in Rasa (a slow server finishes it after the
            # front door gave up), so the dialogue can be a step further on.
            # The rest of the conversation takes any reply (unchecked).
            off_script = False
            for turn_no, text in enumerate(script.turns):
                if next(budget) >= messages:
                    spent = True
                    break
                expected = None if off_script else reference.expected(script, turn_no)
                turn = await conversation.say(text, expected)
                off_script = off_script or turn.error in ("busy reply", "status busy")
                if pause is not None:
                    await asyncio.sleep(rng.uniform(*pause))
            turns = await conversation.finish()
            if turns:
                runs[path.name].add(conversation, script, turns)
            if spent:
                return

    await asyncio.gather(*(citizen(i) for i in range(citizens)))
    elapsed = time.monotonic() - started
    for run in runs.values():
        run.elapsed = elapsed
    return Tally.of(runs, elapsed)


async def reference_replies(cluster: Cluster) -> Reference:
    """The expected replies of every script, from Rasa 1 directly."""
    reference = Reference()
    rasa = cluster.rasa_path(1)
    try:
        await record_reference(rasa, reference)
    finally:
        await rasa.close()
    # Rasa's own answer to an FAQ carries a second message with no text (the
    # custom payload the front door turns into the answer's feedback buttons):
    # the citizen sees text replies only.
    reference.replies = {
        key: tuple(t for t in texts if t) for key, texts in reference.replies.items()
    }
    missing = [s.name for s in SCRIPTS for i in range(len(s.turns)) if not reference.expected(s, i)]
    if missing:
        raise RuntimeError(f"Rasa gave no reference replies for {sorted(set(missing))}")
    return reference


# --- complaints: the path that writes tickets ------------------------------------------

#: A noise complaint up to its summary (tests/rasa/test_dialogue.py walks the same path).
COMPLAINT = (
    "楼下KTV每天半夜唱歌太吵了我要投诉",
    "在南城区鸿福路",
    "每天晚上十一点以后",
    "13812345678",
    "王先生",
)
TICKET_DONE = "工单编号"


class Complainant:
    """One citizen on REST through nginx who files a complaint and, when the
    confirmation does not come back with a ticket number, confirms again (what
    a citizen does: the buttons stay on screen)."""

    def __init__(self, cluster: Cluster, path: ResendingRestPath) -> None:
        self.cluster = cluster
        self.path = path
        self.conversation: RestConversation | None = None
        self.confirmations = 0

    async def start(self, tag: str, texts: Sequence[str] = COMPLAINT) -> None:
        conversation = await self.path.open(tag)
        assert isinstance(conversation, RestConversation)
        self.conversation = conversation
        await self.go_on(texts)

    async def go_on(self, texts: Sequence[str]) -> None:
        assert self.conversation is not None
        for text in texts:
            await self.conversation.say(text, None)

    async def confirm(self) -> Turn:
        assert self.conversation is not None
        self.confirmations += 1
        return await self.conversation.say("/affirm", None)

    async def confirm_until_ticket(self, tries: int = 8, wait: float = 3.0) -> bool:
        for _ in range(tries):
            turn = await self.confirm()
            if turn.error is None and any(TICKET_DONE in text for text in turn.replies):
                return True
            await asyncio.sleep(wait)
        return False

    @property
    def conversation_id(self) -> str:
        assert self.conversation is not None
        return self.conversation.conversation_id

    def tickets(self) -> list[str]:
        rows = self.cluster.sql(
            "SELECT number FROM tickets WHERE conversation_id = %s", self.conversation_id
        )
        return [str(number) for (number,) in rows]


# --- the three ways in, together ------------------------------------------------------


def citizens(default: int) -> int:
    """``FAULTS_CITIZENS`` or the test's own number (a busy machine needs fewer)."""
    return int(os.environ.get("FAULTS_CITIZENS") or default)


def pause(default: tuple[float, float] | None) -> tuple[float, float] | None:
    """``FAULTS_PAUSE=a,b`` (seconds between a citizen's messages) or the test's own."""
    text = os.environ.get("FAULTS_PAUSE")
    if not text:
        return default
    low, _, high = text.partition(",")
    return float(low), float(high or low)


class Channels:
    """The widget, WeChat and REST through nginx: the citizens of a mixed load."""

    def __init__(
        self, cluster: Cluster, api: FakeWeChatApi, telegram: ClusterTelegramApi | None = None
    ) -> None:
        self.cluster = cluster
        self.widget = cluster.widget_path()
        self.wechat = cluster.wechat_path(api)
        self.rest = cluster.rest_path()
        self.paths: list[ClientPath] = [self.widget, self.wechat, self.rest]
        self.telegram = cluster.telegram_path(telegram) if telegram is not None else None
        if self.telegram is not None:
            self.paths.append(self.telegram)

    def load(
        self,
        citizens: int,
        messages: int,
        reference: Reference,
        pause: tuple[float, float] | None = None,
    ) -> asyncio.Task[Tally]:
        return asyncio.create_task(
            count_load(self.paths, citizens, messages, reference, pause=pause)
        )

    async def close(self) -> None:
        for path in self.paths:
            await path.close()

    def report(self, tally: Tally, title: str) -> dict[str, Any]:
        """Print what happened; the transcript audit of the load."""
        tally.report(title)
        resent = f"widget reconnects {self.widget.reconnects}, WeChat resends {self.wechat.resends}"
        if self.telegram is not None:
            resent += f", Telegram redeliveries {self.telegram.resends}"
        say(resent)
        audit = self.cluster.audit(tally.runs.values())
        say(f"transcript audit: {audit}")
        return audit
