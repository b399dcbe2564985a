"""benchmarks/knowledge_scale.py: its table, its target checks and the trees it
trains (no Rasa training here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks import knowledge_scale as ks  # noqa: E402
from bot.knowledge import read_faq  # noqa: E402

SHIPPED = ks.shipped_size()


def result(entries: int, **figures: float) -> dict:
    base = {
        "entries": entries,
        "synthetic_entries": max(0, entries - SHIPPED),
        "nlu_examples": 2000 + 10 * entries,
        "train_seconds": 300.0,
        "train_peak_rss_mib": 1600.0,
        "model_mib": 40.0,
        "rss_loaded_mib": 950.0,
        "rss_after_parses_mib": 1030.0,
        "rasa_rss_mib": 1030.0,
        "parse_p50_ms": 12.0,
        "parse_p99_ms": 40.0,
    }
    return base | figures


def statuses(checks: list[ks.Check]) -> dict[tuple[str, str | int], str]:
    return {(c.target.name, c.target.level): c.status for c in checks}


def test_the_default_levels_are_the_shipped_size_300_and_2000() -> None:
    assert ks.default_levels(73) == [73, 300, 2000]
    assert ks.default_levels(316) == [300, 316, 2000]


def test_all_targets_pass_within_their_limits() -> None:
    checks = ks.check_targets([result(SHIPPED), result(2000)], SHIPPED, smoke=False)
    assert {c.status for c in checks} == {"PASS"}
    assert len(checks) == len(ks.TARGETS) == 5


def test_each_target_is_checked_at_its_own_level() -> None:
    results = [
        result(SHIPPED, model_mib=58.0, rasa_rss_mib=1200.0),  # 58 MiB > 60 MB
        result(300, model_mib=500.0, rasa_rss_mib=9999.0),  # no target at 300
        result(2000, train_seconds=1201.0, rasa_rss_mib=1500.0, parse_p50_ms=50.0),
    ]
    got = statuses(ks.check_targets(results, SHIPPED, smoke=False))
    assert got == {
        ("model archive", "shipped"): "FAIL",
        ("Rasa RSS", "shipped"): "PASS",
        ("training time", 2000): "FAIL",
        ("Rasa RSS", 2000): "PASS",
        ("parse p50", 2000): "PASS",  # the limit itself passes
    }


def test_mb_and_gb_are_decimal_compared_in_mib() -> None:
    limits = {(t.name, t.level): t.limit for t in ks.TARGETS}
    assert limits[("model archive", "shipped")] == pytest.approx(57.22, abs=0.01)
    assert limits[("Rasa RSS", "shipped")] == pytest.approx(1239.78, abs=0.01)
    assert limits[("Rasa RSS", 2000)] == pytest.approx(1525.88, abs=0.01)
    assert limits[("training time", 2000)] == 1200


def test_levels_not_run_are_not_measured() -> None:
    got = statuses(ks.check_targets([result(SHIPPED)], SHIPPED, smoke=False))
    assert got[("parse p50", 2000)] == "not measured"
    assert got[("model archive", "shipped")] == "PASS"


def test_a_smoke_run_does_not_check_the_training_time() -> None:
    results = [result(SHIPPED), result(2000, train_seconds=5.0)]
    got = statuses(ks.check_targets(results, SHIPPED, smoke=True))
    assert got[("training time", 2000)] == "not checked (smoke)"
    assert got[("parse p50", 2000)] == "PASS"


def test_the_table_has_a_row_per_level_in_aligned_columns() -> None:
    table = ks.format_table([result(73), result(2000, parse_p99_ms=None)])
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].split()[0] == "entries" and set(lines[1]) == {"-", " "}
    assert len({len(line) for line in lines}) == 1
    assert lines[2].split()[:3] == ["73", "0", "2730"]
    assert lines[3].split()[0] == "2000" and lines[3].endswith(" -")


def test_the_checks_name_the_level_the_value_and_the_limit() -> None:
    checks = ks.check_targets([result(SHIPPED, model_mib=34.3)], SHIPPED, smoke=False)
    text = ks.format_checks(checks, SHIPPED)
    first = text.splitlines()[0]
    assert f"shipped knowledge ({SHIPPED} entries)" in first
    assert "34.3 MiB" in first and "<= 60 MB (57.2 MiB)" in first and first.endswith("PASS")
    assert "2,000 entries" in text and "not measured" in text


def test_a_smoke_config_changes_only_the_epochs(tmp_path: Path) -> None:
    smoke = yaml.safe_load(ks.smoke_config(ks.ROOT / "config.yml", 2))
    real = yaml.safe_load((ks.ROOT / "config.yml").read_text(encoding="utf-8"))
    for section in ("pipeline", "policies"):
        for got, want in zip(smoke[section], real[section], strict=True):
            assert got == (want | {"epochs": 2} if "epochs" in want else want)
    assert any("epochs" in c for c in real["pipeline"])


def test_a_tree_holds_the_synthetic_catalog_and_its_training_data(tmp_path: Path) -> None:
    counts = ks.build_tree(tmp_path / "tree", SHIPPED + 20, SHIPPED, seed=18)
    data = tmp_path / "tree" / "data"
    catalog = read_faq(data / "knowledge" / "faq.yml")
    assert counts["entries"] == len(catalog) == SHIPPED + 20
    assert counts["synthetic_entries"] == 20
    generated = yaml.safe_load((data / "nlu" / "generated_faq.yml").read_text(encoding="utf-8"))
    intents = [item["intent"] for item in generated["nlu"]]
    assert intents == [f"faq/{entry_id}" for entry_id in catalog]
    assert set(generated["responses"]) == {f"utter_faq/{entry_id}" for entry_id in catalog}
    # Everything else is the project's, unchanged; config.yml as it is.
    for name in ("domain.yml", "config.yml", "data/stories.yml", "data/nlu/core.yml"):
        assert (tmp_path / "tree" / name).read_bytes() == (ks.ROOT / name).read_bytes()
    generated_services = data / "nlu" / "generated_services.yml"
    shipped_services = ks.ROOT / "data" / "nlu" / "generated_services.yml"
    assert generated_services.read_bytes() == shipped_services.read_bytes()
    assert counts["nlu_examples"] == ks.count_nlu_examples(data / "nlu")


def test_the_shipped_level_trains_the_shipped_catalog_as_is(tmp_path: Path) -> None:
    counts = ks.build_tree(tmp_path / "tree", SHIPPED, SHIPPED, seed=18)
    tree = tmp_path / "tree" / "data"
    assert counts["synthetic_entries"] == 0
    assert (tree / "knowledge" / "faq.yml").read_bytes() == ks.REAL_FAQ.read_bytes()
    shipped_generated = ks.ROOT / "data" / "nlu" / "generated_faq.yml"
    assert (tree / "nlu" / "generated_faq.yml").read_bytes() == shipped_generated.read_bytes()


def test_counting_nlu_examples(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n    - 在吗\n'
        "- regex: x\n  examples: |\n    - a+\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text("version: '3.1'\nrules: []\n", encoding="utf-8")
    assert ks.count_nlu_examples(tmp_path) == 2  # intents' examples only


def test_levels_beyond_the_synthetic_capacity_are_refused() -> None:
    with pytest.raises(SystemExit):
        ks.main(["--levels", "999999"])
    with pytest.raises(SystemExit):
        ks.main(["--levels", "73", "--epochs", "0"])
