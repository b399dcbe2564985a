"""Several replicas (REDIS_URL or DATABASE_URL set) need the same data keys and
widget secret everywhere: the front door refuses to start without them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot import __main__ as front_door
from bot.config import load_settings, require_shared_secrets

SHARED = ("REDIS_URL", "DATABASE_URL", "HOTLINE_DATA_KEYS", "WEBCHAT_SECRET")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SHARED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []

    async def serve(*_args: object) -> int:
        started.append("served")
        return 0

    monkeypatch.setattr(front_door, "serve", serve, raising=False)
    monkeypatch.setattr(front_door.web, "run_app", lambda *_a, **_k: started.append("served"))
    monkeypatch.setattr(front_door, "create_app", lambda *_a, **_k: object())
    return started


@pytest.mark.parametrize(
    "shared", [{"REDIS_URL": "redis://127.0.0.1:6379/0"}, {"DATABASE_URL": "postgresql://db/x"}]
)
@pytest.mark.parametrize("missing", [("HOTLINE_DATA_KEYS",), ("WEBCHAT_SECRET",), SHARED[2:]])
def test_front_door_refuses_to_start_without_shared_secrets(
    monkeypatch: pytest.MonkeyPatch,
    no_server: list[str],
    shared: dict[str, str],
    missing: tuple[str, ...],
) -> None:
    for name, value in shared.items():
        monkeypatch.setenv(name, value)
    given = {"HOTLINE_DATA_KEYS": Fernet.generate_key().decode(), "WEBCHAT_SECRET": "w" * 40}
    for name, value in given.items():
        if name not in missing:
            monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        front_door.main()
    message = str(exc.value)
    assert all(name in message for name in missing)
    assert next(iter(shared)) in message
    assert no_server == []


def test_front_door_starts_with_shared_secrets_or_on_one_machine(
    monkeypatch: pytest.MonkeyPatch, no_server: list[str]
) -> None:
    front_door.main()  # one machine: generated files are fine
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("HOTLINE_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("WEBCHAT_SECRET", "w" * 40)
    front_door.main()
    assert no_server == ["served", "served"]


def test_action_server_needs_only_the_data_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    with pytest.raises(SystemExit, match="HOTLINE_DATA_KEYS"):
        require_shared_secrets(load_settings(), webchat=False)
    monkeypatch.setenv("HOTLINE_DATA_KEYS", Fernet.generate_key().decode())
    require_shared_secrets(load_settings(), webchat=False)
