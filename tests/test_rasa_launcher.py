"""hotline_rasa's launcher: TensorFlow's thread pools for serving."""

from __future__ import annotations

import pytest

from hotline_rasa.__main__ import SERVING_THREADS, serving_defaults

INTRA, INTER = "TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"


def test_rasa_run_gets_one_thread_per_pool() -> None:
    env: dict[str, str] = {"PATH": "/usr/bin"}
    added = serving_defaults(["hotline_rasa", "run", "--enable-api"], env)
    assert added == {INTRA: "1", INTER: "1"} == SERVING_THREADS
    assert env == {"PATH": "/usr/bin", INTRA: "1", INTER: "1"}


def test_an_operators_value_is_kept() -> None:
    env = {INTRA: "4"}
    added = serving_defaults(["hotline_rasa", "run"], env)
    assert added == {INTER: "1"}
    assert env == {INTRA: "4", INTER: "1"}


def test_an_empty_value_counts_as_unset() -> None:
    # Rasa itself ignores an empty value, so it would fall back to TensorFlow's default.
    env = {INTRA: "", INTER: "2"}
    serving_defaults(["hotline_rasa", "run"], env)
    assert env == {INTRA: "1", INTER: "2"}


@pytest.mark.parametrize(
    "argv",
    [
        ["hotline_rasa"],
        ["hotline_rasa", "train"],
        ["hotline_rasa", "test", "core", "--stories", "tests/conversations"],
        ["hotline_rasa", "--help"],
    ],
)
def test_training_and_tests_keep_tensorflows_choice(argv: list[str]) -> None:
    env: dict[str, str] = {}
    assert serving_defaults(argv, env) == {}
    assert env == {}
