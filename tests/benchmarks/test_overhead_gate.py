"""benchmarks/frontdoor_overhead.py's gate (issue 16): with --against, each path's
added p50 and CPU per message may be at most 10 % worse than the other checkout's."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from frontdoor_overhead import gate  # noqa: E402


def _row(added: float, cpu: float) -> dict[str, float]:
    return {"p50_ms": 30.0, "p95_ms": 40.0, "added_p50_ms": added, "frontdoor_cpu_ms_per_msg": cpu}


def test_up_to_ten_percent_worse_passes_and_more_fails() -> None:
    results = {
        "direct": {"p50_ms": 28.0, "p95_ms": 35.0},
        "rest:this": _row(2.2, 3.3),
        "rest:other": _row(2.0, 3.0),
        "widget:this": _row(2.21, 3.31),
        "widget:other": _row(2.0, 3.0),
    }
    verdicts = {figure: passed for figure, _, _, passed in gate(results)}
    assert verdicts == {
        "rest added_p50_ms": True,
        "rest frontdoor_cpu_ms_per_msg": True,
        "widget added_p50_ms": False,
        "widget frontdoor_cpu_ms_per_msg": False,
    }


def test_better_passes() -> None:
    results = {"rest:this": _row(1.0, 2.0), "rest:other": _row(2.0, 3.0)}
    assert [passed for *_, passed in gate(results)] == [True, True]


def test_without_a_second_checkout_there_is_no_gate() -> None:
    assert gate({"direct": {"p50_ms": 1.0}, "rest:this": _row(1.0, 2.0)}) == []
