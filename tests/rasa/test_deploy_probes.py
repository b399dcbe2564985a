"""The probe deploy/ gives Rasa (GET /, as Rasa's own Helm chart does;
tests/deploy/test_manifests.py RASA_PROBE_PATH) answers on a real Rasa server
started as the images start it (python -m hotline_rasa run --auth-token ...)
without the token, while /status, the other candidate, needs it."""

from __future__ import annotations

import pytest

from tests.deploy.test_manifests import RASA_PROBE_PATH
from tests.rasa.conftest import http_json

pytestmark = pytest.mark.rasa


def test_the_probe_path_answers_without_the_token(rasa_server: dict[str, str]) -> None:
    import urllib.request

    with urllib.request.urlopen(rasa_server["url"] + RASA_PROBE_PATH, timeout=10) as resp:  # noqa: S310 - loopback
        assert resp.status == 200
        assert b"Rasa" in resp.read()
    assert http_json(rasa_server["url"] + "/status")[0] == 401
