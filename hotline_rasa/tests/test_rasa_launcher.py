"""hotline_rasa's launcher: TensorFlow's thread pools for serving; the tokens
it shares with the front door and the action server."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline_rasa.__main__ import SERVING_THREADS, serving_defaults
from hotline_rasa.auth import with_tokens

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


# --- the shared secrets (hotline_rasa/auth.py) ---------------------------------


def test_tokens_are_generated_once_into_var_with_mode_0600(tmp_path: Path) -> None:
    env: dict[str, str] = {"HOTLINE_VAR_DIR": str(tmp_path)}
    argv = with_tokens(["hotline_rasa", "run", "--enable-api"], env)
    token = env["RASA_AUTH_TOKEN"]
    assert argv == ["hotline_rasa", "run", "--enable-api", "--auth-token", token]
    assert len(token) >= 32 and len(env["ACTION_SERVER_TOKEN"]) >= 32
    for name in ("rasa_auth.token", "action_server.token"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    again: dict[str, str] = {"HOTLINE_VAR_DIR": str(tmp_path)}
    with_tokens(["hotline_rasa", "run"], again)
    assert again["RASA_AUTH_TOKEN"] == token  # the front door reads the same file


def test_an_operators_tokens_are_used_and_given_flags_kept(tmp_path: Path) -> None:
    env = {
        "HOTLINE_VAR_DIR": str(tmp_path),
        "RASA_AUTH_TOKEN": "r" * 20,
        "ACTION_SERVER_TOKEN": "a" * 20,
    }
    argv = with_tokens(["hotline_rasa", "run", "--auth-token", "x" * 20], env)
    assert argv.count("--auth-token") == 1
    assert not list(tmp_path.iterdir())  # nothing generated
    # other commands get the variables for endpoints.yml, no --auth-token
    assert with_tokens(["hotline_rasa", "test", "core"], env) == ["hotline_rasa", "test", "core"]
    assert env["ACTION_SERVER_TOKEN"] == "a" * 20


# That the front door (bot.config) reads the token this writes is checked from
# the app's environment: tests/rasa/test_shared_token.py.
