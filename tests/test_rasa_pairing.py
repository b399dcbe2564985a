"""Rasa 3.6 (Rasa environment) talks to the rasa-sdk 3.21 action server (app
environment). Two things would break the pair at run time without any error
at start, so they are checked here (README, "Libraries"):

- ``enable_selective_domain`` on the action endpoint: rasa-sdk 3.21 then
  expects a domain digest and answers 449 when it has none, a status Rasa 3.6
  does not know (every custom action would fail);
- the ``SessionEnded`` event (``session_ended``), unknown to Rasa 3.6's event
  schema: Rasa would refuse the action's whole response.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_no_endpoints_file_turns_on_the_selective_domain() -> None:
    files = sorted(ROOT.glob("endpoints*.yml"))
    assert files, "endpoints.yml is missing"
    for path in files:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        action = config.get("action_endpoint") or {}
        assert not action.get("enable_selective_domain"), path.name


def test_no_action_returns_a_session_ended_event() -> None:
    # Only actions/ returns events to Rasa ("session_ended" elsewhere is the
    # widget's and the console's own close code, not a Rasa event).
    pattern = re.compile(r"SessionEnded|session_ended")
    hits = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "actions").rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert hits == []


def test_the_action_server_speaks_the_response_format_rasa_36_validates() -> None:
    # Rasa 3.6 validates {"events": [...], "responses": [...]}: the SDK's
    # executor result must still serialise to exactly those two keys.
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    result = executor._create_api_response([], [])  # noqa: SLF001 - the SDK's own builder
    payload = result.model_dump() if hasattr(result, "model_dump") else dict(result)
    assert set(payload) == {"events", "responses"}
