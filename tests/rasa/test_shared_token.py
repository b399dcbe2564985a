"""The front door (bot.config, this environment) and Rasa's launcher
(hotline_rasa.auth, run by the Rasa environment's interpreter as
`python -m hotline_rasa` runs it) read the same generated token file.

No model is needed: only Rasa's interpreter ($RASA_PYTHON), which this test
runs as a subprocess; the launcher's own tests are in hotline_rasa/tests.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.rasa.conftest import RASA_PYTHON, ROOT

LAUNCHER = """
import json, os
from hotline_rasa.auth import with_tokens
env = {"HOTLINE_VAR_DIR": os.environ["HOTLINE_VAR_DIR"]}
with_tokens(["hotline_rasa", "run"], env)
print(json.dumps(env))
"""


def rasa_launcher_env(var: Path) -> dict[str, str]:
    """What hotline_rasa.auth.with_tokens sets, run by Rasa's interpreter."""
    if not RASA_PYTHON.exists():
        pytest.skip(f"no Rasa environment at {RASA_PYTHON} (set RASA_PYTHON)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOTLINE_VAR_DIR": str(var)}
    for name in ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    done = subprocess.run(  # noqa: S603 - the Rasa environment's interpreter
        [str(RASA_PYTHON), "-c", LAUNCHER],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_front_door_and_rasa_read_the_same_generated_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import config

    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    front_door = config.internal_secret("RASA_AUTH_TOKEN", "rasa_auth.token")
    env = rasa_launcher_env(tmp_path)
    assert env["RASA_AUTH_TOKEN"] == front_door


def test_rasa_generates_the_token_the_front_door_then_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import config

    env = rasa_launcher_env(tmp_path)  # Rasa starts first this time
    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    assert config.internal_secret("RASA_AUTH_TOKEN", "rasa_auth.token") == env["RASA_AUTH_TOKEN"]
