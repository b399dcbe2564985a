"""Settings of the front door and the action server, read from the environment.

Every setting has an embedded default that works on one machine, except
secrets: those come only from the environment (a channel whose secret is
unset is simply not enabled).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", ROOT / "var"))

log = logging.getLogger(__name__)


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


MIN_REST_TOKEN_LENGTH = 16
#: A REST token's name: the namespace of its senders' conversation ids
#: ("rest:<name>:<sender>"). At most 32 characters, so the longest id
#: ("rest:" + 32 + ":" + 128-character sender = 166) and the ticket key built
#: from it (id + ":" + 32 hex digits = 199) fit their 200-character columns.
_REST_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@dataclass(frozen=True)
class RestToken:
    """One trusted REST integration: its bearer token and its senders' namespace."""

    namespace: str
    token: Secret


def parse_rest_tokens(raw: str | None) -> tuple[RestToken, ...]:
    """Parse ``REST_TOKENS``: comma-separated ``token`` or ``name:token`` entries.

    A bare token's namespace is a short hash of it (the token itself never
    appears in a conversation id). Raises ``ValueError`` naming the entry on a
    token under 16 characters, a bad name, or a repeated name or token.
    """
    tokens: list[RestToken] = []
    for index, entry in enumerate((raw or "").split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            token = parts[0]
            namespace = "h" + hashlib.sha256(token.encode()).hexdigest()[:15]
        elif len(parts) == 2:
            namespace, token = parts
            if not _REST_NAME.fullmatch(namespace):
                raise ValueError(
                    f"REST_TOKENS entry {index}: the name must be 1 to 32 characters "
                    "of letters, digits, '_', '.' or '-'"
                )
        else:
            raise ValueError(f"REST_TOKENS entry {index}: expected token or name:token")
        if len(token) < MIN_REST_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
            raise ValueError(
                f"REST_TOKENS entry {index}: the token must be at least "
                f"{MIN_REST_TOKEN_LENGTH} printable ASCII characters"
            )
        if " " in token:
            raise ValueError(f"REST_TOKENS entry {index}: the token must not contain spaces")
        if any(t.namespace == namespace or t.token == token for t in tokens):
            raise ValueError(f"REST_TOKENS entry {index}: repeats an earlier name or token")
        tokens.append(RestToken(namespace, Secret(token)))
    return tuple(tokens)


def internal_secret(name: str, filename: str) -> Secret:
    """A secret shared by our own processes: ``name`` from the environment, else
    the file ``var/<filename>`` (:func:`secret_file`)."""
    value = _env(name)
    if value:
        return Secret(value)
    return secret_file(VAR_DIR / filename, name)


def secret_file(path: Path, name: str) -> Secret:
    """The secret in ``path``, generated once when missing: created with mode 0600
    by ``os.open`` itself (never widened by a chmod) and O_EXCL, so two processes
    starting together read the same value. ``name`` is the variable that would
    replace it (named in the warning when the file is generated)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
            log.warning(
                "%s is not set: generated %s; set the same %s on every machine", name, path, name
            )
    for _ in range(50):  # its creator may still be writing it
        text = path.read_text().strip()
        if text:
            return Secret(text)
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it or set {name}")


def _positive(name: str, default: float, *, zero_ok: bool = False) -> float:
    """A number setting; a bad or negative value stops the start with a clear error."""
    raw = _env(name)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok):
        raise ValueError(f"{name} must be {'zero or more' if zero_ok else 'more than zero'}")
    return value


def _count(name: str, default: int) -> int:
    """A whole number of at least 1; anything else stops the start with a clear error."""
    raw = _env(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


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
    # Web chat widget (channels/webchat*.py); its limits hold across replicas
    # (counters in the shared store). None: the generated var/webchat.secret.
    webchat_secret: Secret | None = None
    webchat_allowed_origins: str = "*"
    webchat_idle_hours: float = 4.0
    webchat_sockets_per_session: int = 5
    webchat_sockets_per_address: int = 100
    webchat_sessions_per_minute: int = 20
    webchat_message_limit: int = 10
    webchat_frame_limit: int = 20
    webchat_rate_window: float = 10.0
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or
    # CIDR networks; empty: none, request.remote is the TCP peer). bot/proxy.py.
    trusted_proxies: tuple[str, ...] = ()
    # The human handoff under abuse (bot/handoff_limits.py, bot/console/queue.py):
    # requests per sender and per client address in one window; the head starts
    # an "urgent" (angry) request and an emergency get over normal ones (both
    # bounded: never ahead of who has waited longer, bot.hub_routing.handoff_score);
    # at most one position notice per citizen per interval; the console's page.
    handoff_rate_window: float = 600.0
    handoff_max_per_sender: int = 3
    handoff_max_per_address: int = 10
    handoff_urgent_head_start: float = 120.0
    handoff_emergency_head_start: float = 600.0
    handoff_notice_interval: float = 30.0
    console_queue_page: int = 50
    # Trusted REST integrations (REST_TOKENS); empty: the REST channel is off.
    rest_tokens: tuple[RestToken, ...] = ()
    # Sent to Rasa (its --auth-token) and checked by the action server; None in
    # tests that build Settings() themselves: nothing is sent.
    rasa_auth_token: Secret | None = None
    action_server_token: Secret | None = None
    # The action server (python -m bot.action_server): its listener and how long
    # SIGTERM waits for the requests in flight.
    action_server_host: str = "127.0.0.1"
    action_server_shutdown_grace: float = 10.0
    # Console sign-in and sessions (bot/console/throttle.py, sessions.py).
    console_session_idle: float = 8 * 3600.0
    console_session_max_age: float = 12 * 3600.0
    console_socket_recheck: float = 30.0
    console_login_window: float = 15 * 60.0
    console_login_per_user_address: int = 5
    console_login_per_address: int = 20
    console_login_per_user: int = 20
    # SIGTERM: seconds the turns in flight get to finish before the front door
    # closes its sockets and connections (bot/__main__.py).
    shutdown_timeout: float = 10.0
    # Citizens' personal data (bot/db/crypto.py): HOTLINE_DATA_KEYS, the Fernet
    # key ring; None: a key generated into var/data.key (one machine only).
    data_keys: Secret | None = None
    # Retention (bot/retention.py): transcripts, events, handoff records and
    # Rasa trackers are deleted after ``retention_days``; a closed ticket keeps
    # its record but loses the citizen's contact data ``ticket_contact_days``
    # after it closed. The sweep runs every ``retention_sweep_seconds`` (0: off).
    retention_days: float = 180.0
    ticket_contact_days: float = 365.0
    retention_sweep_seconds: float = 3600.0
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
        shutdown_timeout=_positive("SHUTDOWN_TIMEOUT", 10.0),
        webchat_secret=_secret("WEBCHAT_SECRET"),
        webchat_allowed_origins=_env("WEBCHAT_ALLOWED_ORIGINS", "*") or "*",
        webchat_idle_hours=_positive("WEBCHAT_IDLE_HOURS", 4.0),
        webchat_sockets_per_session=_count("WEBCHAT_SOCKETS_PER_SESSION", 5),
        webchat_sockets_per_address=_count("WEBCHAT_SOCKETS_PER_ADDRESS", 100),
        webchat_sessions_per_minute=_count("WEBCHAT_SESSIONS_PER_MINUTE", 20),
        webchat_message_limit=_count("WEBCHAT_MESSAGE_LIMIT", 10),
        webchat_frame_limit=_count("WEBCHAT_FRAME_LIMIT", 20),
        webchat_rate_window=_positive("WEBCHAT_RATE_WINDOW", 10.0),
        trusted_proxies=_list("TRUSTED_PROXIES"),
        handoff_rate_window=_positive("HANDOFF_RATE_WINDOW", 600.0),
        handoff_max_per_sender=_count("HANDOFF_MAX_PER_SENDER", 3),
        handoff_max_per_address=_count("HANDOFF_MAX_PER_ADDRESS", 10),
        handoff_urgent_head_start=_positive("HANDOFF_URGENT_HEAD_START", 120.0, zero_ok=True),
        handoff_emergency_head_start=_positive("HANDOFF_EMERGENCY_HEAD_START", 600.0, zero_ok=True),
        handoff_notice_interval=_positive("HANDOFF_NOTICE_INTERVAL", 30.0),
        console_queue_page=_count("CONSOLE_QUEUE_PAGE", 50),
        console_session_idle=_positive("CONSOLE_SESSION_IDLE", 8 * 3600.0),
        console_session_max_age=_positive("CONSOLE_SESSION_MAX_AGE", 12 * 3600.0),
        console_socket_recheck=_positive("CONSOLE_SOCKET_RECHECK", 30.0),
        console_login_window=_positive("CONSOLE_LOGIN_WINDOW", 15 * 60.0),
        console_login_per_user_address=_count("CONSOLE_LOGIN_PER_USER_ADDRESS", 5),
        console_login_per_address=_count("CONSOLE_LOGIN_PER_ADDRESS", 20),
        console_login_per_user=_count("CONSOLE_LOGIN_PER_USER", 20),
        rest_tokens=parse_rest_tokens(_env("REST_TOKENS")),
        data_keys=_secret("HOTLINE_DATA_KEYS"),
        retention_days=_positive("RETENTION_DAYS", 180.0),
        ticket_contact_days=_positive("TICKET_CONTACT_RETENTION_DAYS", 365.0),
        retention_sweep_seconds=_positive("RETENTION_SWEEP_SECONDS", 3600.0, zero_ok=True),
        rasa_auth_token=internal_secret("RASA_AUTH_TOKEN", "rasa_auth.token"),
        action_server_token=internal_secret("ACTION_SERVER_TOKEN", "action_server.token"),
        action_server_host=_env("SANIC_HOST", "127.0.0.1") or "127.0.0.1",
        action_server_shutdown_grace=_positive("ACTION_SERVER_SHUTDOWN_GRACE", 10.0),
    )


def require_shared_secrets(settings: Settings, *, webchat: bool = True) -> None:
    """Stop the start when several replicas would each make up their own keys.

    With ``REDIS_URL`` or ``DATABASE_URL`` set the hotline runs as several
    replicas. A missing ``HOTLINE_DATA_KEYS`` would make each machine generate
    its own data key into var/ (what one encrypts another cannot read, and a
    rebuilt machine loses its key, and with it the citizens' contact data, for
    good); a missing ``WEBCHAT_SECRET`` likewise gives each replica its own
    widget secret. ``webchat=False`` for the action server, which signs no
    widget sessions. Raises ``SystemExit`` naming the variables.
    """
    shared = [
        name
        for name, value in (
            ("REDIS_URL", settings.redis_url),
            ("DATABASE_URL", settings.database_url),
        )
        if value
    ]
    if not shared:
        return
    missing = [] if settings.data_keys else ["HOTLINE_DATA_KEYS"]
    if webchat and not settings.webchat_secret:
        missing.append("WEBCHAT_SECRET")
    if missing:
        raise SystemExit(
            f"configuration error: {' and '.join(missing)} must be set when "
            f"{' and '.join(shared)} is set (several replicas share one store): every "
            "replica needs the same values, or each machine makes up its own key and "
            "cannot read what another wrote. HOTLINE_DATA_KEYS: comma-separated Fernet "
            "keys (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'); WEBCHAT_SECRET: 32+ random characters."
        )
