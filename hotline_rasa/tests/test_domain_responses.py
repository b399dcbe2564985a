"""domain.yml responses: what Rasa sends after filling its {slot} placeholders."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from rasa.core.nlg import interpolator

from hotline_rasa.tests.conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))
PAYLOAD = re.compile(r"^/(?P<intent>\w+)(?P<entities>\{.*\})?$")


def _buttons() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            for button in variation.get("buttons", []):
                found.append((name, button))
    return found


def _names(items: list[Any]) -> set[str]:
    return {next(iter(item)) if isinstance(item, dict) else item for item in items}


@pytest.mark.parametrize(("response", "button"), _buttons())
def test_button_payloads_survive_slot_filling_without_an_error(
    response: str, button: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[Any] = []
    monkeypatch.setattr(
        interpolator.structlogger, "exception", lambda *a, **kw: errors.append((a, kw))
    )
    slots = dict.fromkeys(DOMAIN["slots"], None)
    sent = interpolator.interpolate(dict(button), slots)
    assert errors == [], f"{response}: Rasa logged an interpolation error"
    match = PAYLOAD.match(sent["payload"])
    assert match, f"{response}: {sent['payload']!r} is not /intent or /intent{{json}}"
    assert match["intent"] in _names(DOMAIN["intents"])
    if match["entities"]:
        entities = json.loads(match["entities"])
        assert set(entities) <= _names(DOMAIN["entities"])
    assert sent["title"] == button["title"]
