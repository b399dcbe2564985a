"""Speed fixes for Rasa Open Source 3.6, measured on this machine.

Action server responses. After every custom action Rasa 3.6 checks the
action server's JSON with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That function first validates
the *schema itself* against the JSON Schema meta-schema, on every call; with
Rasa's large ``EVENTS_SCHEMA`` this took 15 ms of CPU per action call here,
against 0.8 ms for validating the response with a validator compiled once
(docs/adr/0004-rasa-action-validator-compiled-once.md has the
figures and their effect on whole turns). A hotline turn
runs one to three custom actions, so this was the largest single cost of a
Rasa turn after the models themselves.

:func:`install` replaces that method with one that checks the schema once,
compiles the validator once per action class and raises the same
``ValidationError`` (the best match, with Rasa's own hint appended) for an
invalid response. Nothing else in Rasa changes. It is idempotent, and it
leaves Rasa alone (with a warning) if the method it replaces is not there,
so a Rasa upgrade cannot silently run patched code it was not written for.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_MARK = "_hotline_compiled_validator"


def install() -> bool:
    """Install the fixes into this process; true when they are active."""
    import jsonschema
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    original = getattr(RemoteAction, "_validate_action_result", None)
    if original is None or not callable(getattr(RemoteAction, "action_response_format_spec", None)):
        logger.warning("hotline_rasa: Rasa's RemoteAction changed; speed fix not installed")
        return False
    if getattr(original, _MARK, False):
        return True

    validators: dict[type, Any] = {}

    def _validator_for(action: Any) -> Any:
        cls = type(action)
        validator = validators.get(cls)
        if validator is None:
            schema = action.action_response_format_spec()
            validator_cls = jsonschema.validators.validator_for(schema)
            validator_cls.check_schema(schema)  # once, instead of on every response
            validator = validators[cls] = validator_cls(schema)
        return validator

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(_validator_for(self).iter_errors(result))
        if error is not None:
            # The same message Rasa's own method gives.
            error.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    setattr(_validate_action_result, _MARK, True)
    _validate_action_result.__doc__ = original.__doc__
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True
