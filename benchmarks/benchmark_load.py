"""Scripted citizens and the loads of the benchmark.

A citizen runs short scripted conversations in Chinese (greeting, an FAQ
question, a service guidance request, the online/offline choice, an
out-of-scope line, goodbye); none creates a ticket or asks for a person, so
every path carries the same work. Each citizen has its own seeded random
generator (seeded by its index, not by the path), so every path gets exactly
the same conversations and pauses.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field

from benchmark_paths import ClientPath, Conversation, Turn

log = logging.getLogger("benchmark.load")

COOL_DOWN = 1.0  # seconds between two measured runs, for queues to drain


@dataclass(frozen=True)
class Script:
    name: str
    turns: tuple[str, ...]


SCRIPTS: tuple[Script, ...] = (
    Script(
        "residence-permit-online",
        ("你好", "社保断缴了有什么影响?", "我想办居住证", "网上办", "讲个笑话", "好的谢谢再见"),
    ),
    Script(
        "social-security-card-offline",
        (
            "您好请问一下",
            "公积金贷款最多能贷多少",
            "社保卡丢了在哪里补",
            "去窗口办",
            "今天天气怎么样",
            "再见",
        ),
    ),
    Script(
        "business-license-online",
        (
            "在吗",
            "东莞积分入学的积分是怎么计算的?",
            "我想办个营业执照",
            "在网上办",
            "你喜欢吃什么",
            "拜拜",
        ),
    ),
    Script(
        "id-card-offline",
        (
            "早上好",
            "怎么查自己的社保缴费记录?",
            "身份证丢了要补办",
            "我想去大厅办",
            "帮我写篇作文",
            "没事了谢谢再见",
        ),
    ),
    Script(
        "residence-permit-offline",
        (
            "有人在吗",
            "深圳交的社保可以合并到东莞吗",
            "居住证在哪里办",
            "线下办",
            "股票明天会涨吗",
            "先这样吧再见",
        ),
    ),
    Script(
        "social-security-card-online",
        (
            "你好 小助手",
            "个人所得税起征点是多少?",
            "我想办社保卡",
            "用手机办",
            "唱首歌给我听",
            "好的谢谢再见",
        ),
    ),
)


class Reference:
    """The expected reply texts of every (script, turn), recorded from Rasa directly."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, int], tuple[str, ...]] = {}

    def expected(self, script: Script, turn: int) -> tuple[str, ...] | None:
        return self.replies.get((script.name, turn))

    def record(self, script: Script, turns: list[Turn]) -> None:
        for index, turn in enumerate(turns):
            if turn.error is None:
                self.replies[(script.name, index)] = tuple(turn.replies)

    def as_dict(self) -> dict[str, list[str]]:
        return {f"{name}#{index}": list(r) for (name, index), r in sorted(self.replies.items())}


@dataclass
class Run:
    """One path under one load: every turn and every conversation opened."""

    path: str
    started: float
    elapsed: float = 0.0
    turns: list[Turn] = field(default_factory=list)
    conversations: list[tuple[str, int]] = field(default_factory=list)  # (id, sent)
    scripts: list[str] = field(default_factory=list)  # the script of each turn

    def add(self, conversation: Conversation, script: Script, turns: list[Turn]) -> None:
        self.turns.extend(turns)
        self.scripts.extend([script.name] * len(turns))
        self.conversations.append((conversation.conversation_id, len(turns)))


Pause = tuple[float, float]


# --- reference and warm-up -------------------------------------------------------


async def record_reference(rasa: ClientPath, reference: Reference) -> Run:
    """Each script once on Rasa directly: the expected replies (and a warm-up)."""
    run = Run(rasa.name, time.monotonic())
    for script in SCRIPTS:
        conversation = await rasa.open(f"ref-{script.name}")
        for text in script.turns:
            await conversation.say(text, None)
        turns = await conversation.finish()
        reference.record(script, turns)
        run.add(conversation, script, turns)
    run.elapsed = time.monotonic() - run.started
    return run


async def warm_up(path: ClientPath, reference: Reference) -> Run:
    """Each script once on a path (checked against the reference, not measured)."""
    run = Run(path.name, time.monotonic())
    for script in SCRIPTS:
        conversation = await path.open(f"warm-{script.name}")
        for index, text in enumerate(script.turns):
            await conversation.say(text, reference.expected(script, index))
        run.add(conversation, script, await conversation.finish())
    run.elapsed = time.monotonic() - run.started
    return run


# --- one conversation after another, paths interleaved turn by turn -----------------


async def sequential(paths: list[ClientPath], rounds: int, reference: Reference) -> dict[str, Run]:
    """Single-conversation latency; the paths take turns, so machine noise hits all alike."""
    runs = {path.name: Run(path.name, time.monotonic()) for path in paths}
    for round_no in range(rounds):
        for script in SCRIPTS:
            conversations = {p.name: await p.open(f"seq{round_no}") for p in paths}
            for index, text in enumerate(script.turns):
                shift = (index + round_no) % len(paths)
                for path in paths[shift:] + paths[:shift]:
                    expected = reference.expected(script, index)
                    await conversations[path.name].say(text, expected)
            for name, conversation in conversations.items():
                runs[name].add(conversation, script, await conversation.finish())
    for run in runs.values():  # msg/s here: one conversation's pace on that path alone
        run.elapsed = sum(t.latency for t in run.turns if t.latency is not None)
    return runs


# --- many citizens at once ----------------------------------------------------------


@dataclass
class Load:
    """``citizens`` concurrent conversations for ``duration`` seconds."""

    citizens: int
    duration: float
    pause: Pause | None  # None: the next message right after the reply (saturation)
    seed: int


async def run_load(path: ClientPath, load: Load, reference: Reference, tag: str) -> Run:
    """Run ``load`` on ``path``; no message is sent after the deadline."""
    run = Run(path.name, time.monotonic())
    deadline = run.started + load.duration
    citizens = [
        _citizen(path, load, index, deadline, reference, run, f"{tag}-{index}")
        for index in range(load.citizens)
    ]
    await asyncio.gather(*citizens)
    run.elapsed = time.monotonic() - run.started
    await asyncio.sleep(COOL_DOWN)
    return run


async def run_mixed_load(
    paths: list[ClientPath], load: Load, reference: Reference, tag: str, shift: int
) -> dict[str, Run]:
    """``load`` with the paths side by side: citizen ``i`` talks through path
    ``(i + shift) % len(paths)``, all at once until the one deadline. Every
    path meets the same moments of the machine (Rasa's own pace drifted by a
    fifth between consecutive two-minute runs), and the machine carries the
    load of ``load.citizens`` citizens, not of that many per path."""
    started = time.monotonic()
    runs = {path.name: Run(path.name, started) for path in paths}
    deadline = started + load.duration
    citizens = []
    for index in range(load.citizens):
        path = paths[(index + shift) % len(paths)]
        run = runs[path.name]
        citizens.append(
            _citizen(path, load, index, deadline, reference, run, f"{tag}-{path.name}-{index}")
        )
    await asyncio.gather(*citizens)
    elapsed = time.monotonic() - started
    for run in runs.values():
        run.elapsed = elapsed
    await asyncio.sleep(COOL_DOWN)
    return runs


async def _citizen(
    path: ClientPath,
    load: Load,
    index: int,
    deadline: float,
    reference: Reference,
    run: Run,
    tag: str,
) -> None:
    rng = random.Random(f"{load.seed}-{index}")
    if load.pause is not None:
        await _sleep_until(min(deadline, time.monotonic() + rng.uniform(0, load.pause[1])))
    number = 0
    while time.monotonic() < deadline:
        script = rng.choice(SCRIPTS)
        number += 1
        try:
            conversation = await path.open(f"{tag}-{number}")
        except Exception as exc:  # a refused session is an error of this turn, not a crash
            log.warning("%s: could not open a conversation: %s", path.name, exc)
            failed = Turn(script.turns[0], None, error=f"open: {type(exc).__name__}")
            run.turns.append(failed)
            run.scripts.append(script.name)
            await asyncio.sleep(1.0)
            continue
        await _converse(conversation, script, load, rng, deadline, reference)
        run.add(conversation, script, await conversation.finish())


async def _converse(
    conversation: Conversation,
    script: Script,
    load: Load,
    rng: random.Random,
    deadline: float,
    reference: Reference,
) -> None:
    for index, text in enumerate(script.turns):
        if time.monotonic() >= deadline:
            return
        await conversation.say(text, reference.expected(script, index))
        if load.pause is not None:
            await _sleep_until(min(deadline, time.monotonic() + rng.uniform(*load.pause)))


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))
