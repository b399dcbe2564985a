"""Measure how messages that ask two questions are answered (issue 21).

Pairs of held-out FAQ phrasings (eval/heldout/faq.yml, never trained on) of
two different FAQ entries are joined the way citizens join questions ("，另外",
"？还有", "。顺便问一下"), and each joined message is sent as a fresh
conversation to a running Rasa server (its REST channel, with the action
server behind it). For each message it counts:

- both: both entries' answers are in the reply;
- one + offer: one answer, and the other question offered as a button;
- one: one answer, the other question lost;
- wrong: an answer of an entry that was not asked;
- none: no answer at all (the fallback).

"before" is what the model alone gives for the whole message (its
``/model/parse``: one FAQ answer when the intent is ``faq`` with the
fallback threshold and the FAQ confidence threshold met, else nothing), the
behaviour before the message was split.

Usage (app environment; Rasa with --enable-api and the action server running):
    .venv/bin/python eval/several_questions.py --rasa http://127.0.0.1:5005 \
        --token "$RASA_AUTH_TOKEN" [--pairs 60]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.thresholds import FAQ_ANSWER_CONFIDENCE  # noqa: E402
from bot.knowledge import load_faq  # noqa: E402

JOINERS = ("，另外", "？还有", "。顺便问一下，", "，还想问一下")
FALLBACK_THRESHOLD = 0.6  # config.yml's FallbackClassifier


def heldout() -> dict[str, list[str]]:
    data = yaml.safe_load((ROOT / "eval" / "heldout" / "faq.yml").read_text(encoding="utf-8"))
    return {
        item["intent"].split("/", 1)[1]: [
            line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")
        ]
        for item in data["nlu"]
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--token", default="")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    faq = load_faq()
    phrasings = heldout()
    rng = random.Random(args.seed)
    ids = sorted(phrasings)
    pairs = [p for p in itertools.permutations(ids, 2) if p[0][:3] != p[1][:3]]
    rng.shuffle(pairs)
    after = dict.fromkeys(("both", "one + offer", "one", "wrong", "none"), 0)
    before = dict.fromkeys(("one", "wrong", "none"), 0)
    params = {"token": args.token} if args.token else {}
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    async with aiohttp.ClientSession() as http:
        for n, (a, b) in enumerate(pairs[: args.pairs]):
            first, second = rng.choice(phrasings[a]), rng.choice(phrasings[b])
            text = first.rstrip("？?。") + JOINERS[n % len(JOINERS)] + second
            async with http.post(
                f"{args.rasa}/model/parse", json={"text": text}, params=params
            ) as resp:
                parse = await resp.json()
            intent = parse.get("intent") or {}
            chosen = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
            key = str(chosen.get("intent_response_key") or "")
            if (
                intent.get("name") == "faq"
                and float(intent.get("confidence") or 0) >= FALLBACK_THRESHOLD
                and float(chosen.get("confidence") or 0) >= FAQ_ANSWER_CONFIDENCE
            ):
                before["one" if key.split("/")[-1] in (a, b) else "wrong"] += 1
            else:
                before["none"] += 1
            async with http.post(
                f"{args.rasa}/webhooks/rest/webhook",
                json={"sender": f"rest:measure-{uuid.uuid4().hex[:10]}", "message": text},
                headers=headers,
            ) as resp:
                replies: list[dict[str, Any]] = await resp.json()
            said = "\n".join(r.get("text") or "" for r in replies)
            buttons = [b["payload"] for r in replies for b in r.get("buttons") or []]
            answered = {i for i, e in faq.items() if e.answer in said}
            if answered - {a, b}:
                after["wrong"] += 1
            elif answered == {a, b}:
                after["both"] += 1
            elif answered:
                missing = second if a in answered else first
                offered = any(p and p in missing for p in buttons if not p.startswith("/"))
                after["one + offer" if offered else "one"] += 1
            else:
                after["none"] += 1
    total = min(args.pairs, len(pairs))
    print(json.dumps({"messages": total, "before": before, "after": after}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
