"""Complaint dispatch commands.

``python -m bot.dispatch train``: train the classifier from data/complaints
and the routing keywords, checking every file (run by ``make train``; the
action server trains the same way when it first needs the model, so nothing
is written).
``python -m bot.dispatch classify TEXT [--where LOCATION]``: what a complaint
would be: category, confidence, town, department, review flag.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from bot.db.routing import RoutingError, load_routing
from bot.dispatch.classifier import BACKGROUND, TrainingDataError, load_examples
from bot.dispatch.dispatcher import complaint_classifier, dispatch
from bot.dispatch.towns import TownsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.dispatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train and check the classifier")
    classify = sub.add_parser("classify", help="dispatch one complaint")
    classify.add_argument("text")
    classify.add_argument("--where", default=None, help="the location the citizen gave")
    args = parser.parse_args(argv)
    try:
        routing = load_routing()
        if args.command == "train":
            started = time.perf_counter()
            examples = load_examples()
            complaint_classifier(routing)
            took = time.perf_counter() - started
            per = Counter(category for _, category in examples)
            unknown = sorted(set(per) - set(routing.categories))
            if unknown:
                names = ", ".join(unknown)
                sys.stderr.write(f"error: unknown categories in data/complaints: {names}\n")
                return 1
            background = per.pop(BACKGROUND, 0)
            sys.stdout.write(
                f"dispatch classifier: {len(examples)} examples, {len(per)} categories "
                f"(fewest: {min(per.values())}) and {background} background "
                f"({BACKGROUND}: never predicted), trained in {took * 1000:.0f} ms\n"
            )
            return 0
        sent = dispatch(routing, args.text, args.where)
        town = routing.towns.name(sent.town) if routing.towns else None
        # the result only: the complaint's text (which may hold a phone number) is not echoed
        sys.stdout.write(
            f"category: {routing.category_name(sent.category)} ({sent.category})\n"
            f"confidence: {sent.confidence}\n"
            f"town: {town or '未识别'}\n"
            f"department: {sent.route.department_name} ({sent.route.department})\n"
            f"flagged for a person: {'yes' if sent.needs_review else 'no'}\n"
        )
        return 0
    except (RoutingError, TownsError, TrainingDataError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
