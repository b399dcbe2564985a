"""hotline_rasa.speedups: the compiled action-response validator behaves as Rasa's own."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from hotline_rasa import install

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "complaint_category", "value": "noise"},
            {"event": "active_loop", "name": "complaint_form"},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [{"text": "您好", "buttons": [{"title": "是", "payload": "/affirm"}]}],
    },
    {"responses": [{"custom": {"handoff": {"reason": "citizen asked"}}}]},
]
INVALID = [
    {"events": [{"event": "slot"}]},  # a slot event without a name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": ["not an object"]},
    ["not", "an", "object"],
]


def rasa_original(result: object) -> str | None:
    """What Rasa 3.6's own method does, without the appended hint."""
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError as exc:
        return exc.message
    return None


@pytest.fixture(scope="module")
def action() -> object:
    assert install() is True
    return RemoteAction("action_faq", None)


def test_install_is_idempotent_and_marks_the_method(action: object) -> None:
    patched = RemoteAction._validate_action_result
    assert install() is True
    assert RemoteAction._validate_action_result is patched
    assert getattr(patched, "_hotline_compiled_validator") is True


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(action: object, result: dict) -> None:
    assert rasa_original(result) is None
    assert action._validate_action_result(result) is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_own_error(action: object, result: object) -> None:
    expected = rasa_original(result)
    assert expected is not None
    with pytest.raises(jsonschema.ValidationError) as caught:
        action._validate_action_result(result)  # type: ignore[attr-defined]
    assert caught.value.message.startswith(expected)
    assert "Failed to validate Action server response" in caught.value.message


def test_the_schema_is_not_rechecked_per_response(
    action: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    validator_cls = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
    calls = []
    original = validator_cls.check_schema
    monkeypatch.setattr(
        validator_cls,
        "check_schema",
        classmethod(lambda cls, schema, *a, **k: calls.append(1) or original(schema, *a, **k)),  # type: ignore[func-returns-value]
    )
    for _ in range(5):
        action._validate_action_result(VALID[1])  # type: ignore[attr-defined]
    assert calls == []
