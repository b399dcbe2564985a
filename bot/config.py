"""Settings of the front door and the action server, read from the environment.

Every setting has an embedded default that works on one machine, except
secrets: those come only from the environment (a channel whose secret is
unset is simply not enabled).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", ROOT / "var"))


class Secret(str):
    """A string that never shows its value in a repr or a log line."""

    def __repr__(self) -> str:
        return "Secret('**********')"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _secret(name: str) -> Secret | None:
    value = _env(name)
    return Secret(value) if value else None


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated setting; blanks dropped."""
    return tuple(part.strip() for part in (_env(name) or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; build one with :func:`load_settings`."""

    host: str = "127.0.0.1"
    port: int = 8080
    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout: float = 10.0
    redis_url: str | None = None
    redis_prefix: str = "hotline"
    database_url: str | None = None
    max_body_bytes: int = 64 * 1024
    wechat_token: Secret | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: Secret | None = None
    wechat_encoding_aes_key: Secret | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    telegram_bot_token: Secret | None = None
    telegram_webhook_secret: Secret | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_polling: bool = False
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or
    # CIDR networks; empty: none, request.remote is the TCP peer). bot/proxy.py.
    trusted_proxies: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sqlite_path(self) -> Path:
        return VAR_DIR / "hotline.db"


def load_settings() -> Settings:
    """Read the settings from the environment (documented in the README)."""
    return Settings(
        host=_env("HOST", "127.0.0.1") or "127.0.0.1",
        port=int(_env("PORT", "8080") or 8080),
        rasa_url=_env("RASA_URL", "http://127.0.0.1:5005") or "",
        action_server_url=_env("ACTION_SERVER_URL", "http://127.0.0.1:5055") or "",
        rasa_timeout=float(_env("RASA_TIMEOUT", "10") or 10),
        redis_url=_env("REDIS_URL"),
        redis_prefix=_env("REDIS_PREFIX", "hotline") or "hotline",
        database_url=_env("DATABASE_URL"),
        max_body_bytes=int(_env("MAX_BODY_BYTES", str(64 * 1024)) or 65536),
        wechat_token=_secret("WECHAT_TOKEN"),
        wechat_app_id=_env("WECHAT_APP_ID"),
        wechat_app_secret=_secret("WECHAT_APP_SECRET"),
        wechat_encoding_aes_key=_secret("WECHAT_ENCODING_AES_KEY"),
        wechat_api_base_url=_env("WECHAT_API_BASE_URL", "https://api.weixin.qq.com") or "",
        telegram_bot_token=_secret("TELEGRAM_BOT_TOKEN"),
        telegram_webhook_secret=_secret("TELEGRAM_WEBHOOK_SECRET"),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", "https://api.telegram.org") or "",
        telegram_polling=(_env("TELEGRAM_POLLING", "0") == "1"),
        trusted_proxies=_list("TRUSTED_PROXIES"),
    )
