"""The REST integration token the tests' front doors accept (``make_settings``
configures it): ``REST_AUTH`` is the header, ``rest_cid(sender)`` the
conversation id a REST sender gets (``rest:<token name>:<sender>``)."""

from __future__ import annotations

from bot.config import parse_rest_tokens

REST_TOKEN = "test-integration-token-0123456789"
REST_TOKENS = parse_rest_tokens(f"t:{REST_TOKEN}")
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}


def rest_cid(sender: str) -> str:
    return f"rest:t:{sender}"
