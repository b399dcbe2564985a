"""Settings of the front door, the action server and the tools, read from the
environment in this module only.

:meth:`Settings.from_env` reads every variable once (``load_settings()`` for
the process's own environment) and the result is passed on: ``create_app``
takes it, the console and the tickets get their groups (``settings.console``,
``settings.tickets``). No other module reads ``os.environ``
(tests/test_settings.py holds that).

Every setting has an embedded default that works on one machine, except
secrets: those come only from the environment (a channel whose secret is
unset is simply not enabled).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", ROOT / "var"))

log = logging.getLogger(__name__)


class Secret(str):
    """A string that never shows its value in a repr or a log line."""

    def __repr__(self) -> str:
        return "Secret('**********')"


class _Environ:
    """Typed reads of one environment mapping; a bad value raises ``ValueError``
    naming the variable (the start stops with that one line)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value; unset or empty gives ``default``."""
        value = self._environ.get(name)
        return value if value not in (None, "") else default

    def text(self, name: str, default: str) -> str:
        return self.get(name, default) or default

    def secret(self, name: str) -> Secret | None:
        value = self.get(name)
        return Secret(value) if value else None

    def flag(self, name: str) -> bool:
        """``1`` is on; anything else off."""
        return self.get(name, "0") == "1"

    def csv(self, name: str) -> tuple[str, ...]:
        """A comma-separated setting; blanks dropped."""
        raw = self.get(name) or ""
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    def positive(self, name: str, default: float, *, zero_ok: bool = False) -> float:
        """A number setting; a bad or negative value stops the start with a clear error."""
        raw = self.get(name)
        try:
            value = float(raw) if raw is not None else default
        except ValueError:
            raise ValueError(f"{name} must be a number, not {raw!r}") from None
        if value < 0 or (value == 0 and not zero_ok):
            raise ValueError(f"{name} must be {'zero or more' if zero_ok else 'more than zero'}")
        return value

    def seconds(self, name: str, default: float) -> float:
        """A number of seconds (the console's timings: any number)."""
        raw = self.get(name)
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ValueError(f"{name} must be a number of seconds") from None

    def count(self, name: str, default: int) -> int:
        """A whole number of at least 1; anything else stops the start with a clear error."""
        raw = self.get(name)
        if raw is None:
            return default
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
        return int(raw)


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


def internal_secret(name: str, filename: str, environ: Mapping[str, str] | None = None) -> Secret:
    """A secret shared by our own processes: ``name`` from ``environ`` (default:
    this process's environment), else the file ``var/<filename>``
    (:func:`secret_file`)."""
    value = _Environ(os.environ if environ is None else environ).get(name)
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


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class ServiceHours:
    """A daily opening time range in local minutes since midnight (``SERVICE_HOURS``)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> ServiceHours:
        match = _HOURS.match(text or "")
        if not match:
            raise ValueError("SERVICE_HOURS must look like 08:30-21:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60 or start >= end:
            raise ValueError("SERVICE_HOURS must be a range within one day, like 08:30-21:00")
        return cls(start, end)

    def is_open(self, at: dt.datetime | None = None) -> bool:
        from bot.db.models import LOCAL_TZ  # the database's models import this module

        local = (at or dt.datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
        minute = local.hour * 60 + local.minute
        return self.start <= minute < self.end

    def label(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


DEFAULT_SERVICE_HOURS = "08:30-21:00"


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's handoff timings (seconds), its cookie and its command line.

    ``SERVICE_HOURS`` (default 08:30-21:00, Asia/Shanghai, every day) is when
    agents answer; outside it citizens who ask for a person are offered a
    callback instead of a queue. ``24:00`` may end a range.
    """

    service_hours: ServiceHours = field(
        default_factory=lambda: ServiceHours.parse(DEFAULT_SERVICE_HOURS)
    )
    presence_ttl: float = 60.0  # an agent without a heartbeat this long is offline
    sweep_interval: float = 10.0  # presence expiry and rebuild check
    max_queue_wait: float = 30 * 60.0  # then the citizen is offered a callback instead
    answer_target: float = 20.0  # "answered within 20 s" in the service level
    # COOKIE_SECURE=1: the session cookie is Secure also on a plain-http request
    # (TLS ends at a proxy that is not a trusted one).
    cookie_secure: bool = False
    # CONSOLE_PASSWORD: the password ``python -m bot.console create-user`` and
    # ``set-password`` use instead of asking (scripts); never used by the server.
    cli_password: Secret | None = None

    @classmethod
    def from_env(cls, env: _Environ) -> ConsoleSettings:
        return cls(
            service_hours=ServiceHours.parse(env.text("SERVICE_HOURS", DEFAULT_SERVICE_HOURS)),
            presence_ttl=env.seconds("CONSOLE_PRESENCE_TTL", 60.0),
            sweep_interval=env.seconds("CONSOLE_SWEEP_INTERVAL", 10.0),
            max_queue_wait=env.seconds("HANDOFF_MAX_WAIT", 30 * 60.0),
            cookie_secure=env.flag("COOKIE_SECURE"),
            cli_password=env.secret("CONSOLE_PASSWORD"),
        )


TICKET_SWEEP_ENV = "TICKET_SWEEP_SECONDS"
CASE_API_TOKENS_ENV = "CASE_API_TOKENS"


@dataclass(frozen=True)
class TicketSettings:
    """The ticket loop (bot/tickets/).

    ``sweep_seconds`` (``TICKET_SWEEP_SECONDS``, default 300; 0 turns the
    background deadline sweep off, ``python -m bot.tickets sweep`` still
    works). ``api_tokens`` (``CASE_API_TOKENS``): the city's case system's
    bearer tokens, comma-separated ``token``, ``name:token`` or
    ``dept:<department key>:token``; parsed against the routing table's
    departments by :func:`bot.tickets.config.parse_tokens` when the app is
    built. Unset: the REST API answers 401 to everything.
    """

    sweep_seconds: float = 300.0
    api_tokens: Secret | None = None

    @classmethod
    def from_env(cls, env: _Environ) -> TicketSettings:
        raw = (env.get(TICKET_SWEEP_ENV) or "").strip()
        sweep = 300.0
        if raw:
            try:
                sweep = float(raw)
            except ValueError:
                raise ValueError(
                    f"{TICKET_SWEEP_ENV} must be a number of seconds, got {raw!r}"
                ) from None
            if sweep < 0:
                raise ValueError(f"{TICKET_SWEEP_ENV} must not be negative")
        tokens = (env.get(CASE_API_TOKENS_ENV) or "").strip()
        return cls(sweep_seconds=sweep, api_tokens=Secret(tokens) if tokens else None)


#: The fields of a ticket notice (bot.messages.TicketNotice) a template fills.
NOTICE_FIELDS = ("number", "status", "detail", "at", "due")
DEFAULT_TEMPLATE_FIELDS = "number:character_string1,status:phrase2,detail:thing3,at:time4"


def parse_template_fields(
    raw: str, name: str = "WECHAT_TEMPLATE_FIELDS"
) -> tuple[tuple[str, str], ...]:
    """``number:character_string1,status:phrase2,...``: which template keyword
    carries which notice field; raises ``ValueError`` naming ``name``."""
    pairs: list[tuple[str, str]] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        field_name, sep, keyword = (x.strip() for x in entry.partition(":"))
        if (
            not sep
            or field_name not in NOTICE_FIELDS
            or not re.fullmatch(r"[a-z_]+[0-9]*", keyword)
        ):
            raise ValueError(
                f"{name}: {entry!r} must be <field>:<template keyword> with field one of "
                f"{', '.join(NOTICE_FIELDS)} (e.g. number:character_string1)"
            )
        if any(f == field_name or k == keyword for f, k in pairs):
            raise ValueError(f"{name}: {entry!r} repeats a field or a keyword")
        pairs.append((field_name, keyword))
    if not pairs:
        raise ValueError(f"{name} must name at least one field")
    return tuple(pairs)


@dataclass(frozen=True)
class WeChatNoticeSettings:
    """Ticket notices on WeChat outside the 48-hour customer-service window
    (channels/wechat/_notice.py).

    ``progress_template`` (``WECHAT_TEMPLATE_PROGRESS``) and
    ``result_template`` (``WECHAT_TEMPLATE_RESULT``; unset: the progress one):
    template ids chosen in the Official Account's admin (模板消息). Neither
    set: no template messages, a notice outside the window is not delivered
    (the console says so). ``fields`` (``WECHAT_TEMPLATE_FIELDS``): which
    template keyword carries the ticket number, the status, the detail and
    the time; ``url`` (``WECHAT_TEMPLATE_URL``, optional): the page the
    notice opens, ``{number}`` replaced by the ticket number; ``keyword``
    (``TICKET_RESULT_KEYWORD``, default 查看结果): what the citizen replies to
    see the result and rate it.
    """

    progress_template: str | None = None
    result_template: str | None = None
    fields: tuple[tuple[str, str], ...] = parse_template_fields(DEFAULT_TEMPLATE_FIELDS)
    url: str | None = None
    keyword: str = "查看结果"

    def template_for(self, kind: str) -> str | None:
        """The template id for a ``progress`` or ``result`` notice, or ``None``."""
        if kind == "result":
            return self.result_template or self.progress_template
        return self.progress_template

    @classmethod
    def from_env(cls, env: _Environ) -> WeChatNoticeSettings:
        url = env.get("WECHAT_TEMPLATE_URL")
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("WECHAT_TEMPLATE_URL must start with https:// (or http://)")
        keyword = env.text("TICKET_RESULT_KEYWORD", "查看结果").strip()
        if not 1 <= len(keyword) <= 10:
            raise ValueError("TICKET_RESULT_KEYWORD must be 1 to 10 characters")
        return cls(
            progress_template=env.get("WECHAT_TEMPLATE_PROGRESS"),
            result_template=env.get("WECHAT_TEMPLATE_RESULT"),
            fields=parse_template_fields(
                env.text("WECHAT_TEMPLATE_FIELDS", DEFAULT_TEMPLATE_FIELDS)
            ),
            url=url,
            keyword=keyword,
        )


OPS_DEFAULT_BACKUP_DIR = VAR_DIR / "backups"


def _hour(env: _Environ, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 23:
        raise ValueError(f"{name} must be an hour from 0 to 23, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class OpsSettings:
    """Scheduled work (bot/ops/): backups, the restore check, report files, follow-up.

    One replica at a time runs the scheduler (a store lock, renewed while held).
    Hours are local (Asia/Shanghai).

    - ``scheduler_seconds`` (``OPS_SCHEDULER_SECONDS``, default 30; 0: no
      scheduler in this process): how often the scheduler looks for due jobs;
      ``start_delay`` (``OPS_START_DELAY``, default 60): seconds after start
      before its first look (a restart does not race the start-up);
      ``lock_ttl`` (``OPS_LOCK_TTL``, default 60): the scheduler lock's TTL (a
      replica that died hands over after at most this long).
    - ``backup_dir`` (``BACKUP_DIR``, default var/backups): where the daily
      backups go; ``backup_hour`` (``BACKUP_HOUR``, default 3);
      ``backup_keep_daily`` (``BACKUP_KEEP_DAILY``, default 7) newest backups of
      distinct days and ``backup_keep_weekly`` (``BACKUP_KEEP_WEEKLY``, default
      4) newest of distinct ISO weeks are kept, older ones deleted.
    - ``restore_check_weekday`` (``RESTORE_CHECK_WEEKDAY``, 1 = Monday ... 7 =
      Sunday, default 7) at ``restore_check_hour`` (``RESTORE_CHECK_HOUR``,
      default 5): the latest backup is restored into a scratch database
      (PostgreSQL: ``restore_check_database``, ``RESTORE_CHECK_DATABASE``,
      default ``hotline_restore_check``, created and dropped on the same
      server, so the database user needs CREATEDB; SQLite: a temporary file)
      and its row counts compared with the backup's manifest.
    - ``report_hour`` (``REPORT_HOUR``, default 1): the daily (yesterday),
      weekly (on Mondays: last Monday-Sunday) and monthly (on the 1st: last
      month) report documents are written to SQL at this hour.
    - ``followup_days`` (``FOLLOWUP_DAYS``, default 3): a ticket answered this
      many days ago and not rated goes on the agents' follow-up list (回访);
      ``followup_close_days`` (``FOLLOWUP_CLOSE_DAYS``, default 7): a ticket
      still unrated this many days after its first follow-up attempt with no
      answer (unreachable, or a message left) closes automatically
      (回访无应答自动办结); ``followup_sweep_seconds``
      (``FOLLOWUP_SWEEP_SECONDS``, default 3600) how often that is checked.
    """

    scheduler_seconds: float = 30.0
    start_delay: float = 60.0
    lock_ttl: float = 60.0
    backup_dir: Path = OPS_DEFAULT_BACKUP_DIR
    backup_hour: int = 3
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    restore_check_weekday: int = 7
    restore_check_hour: int = 5
    restore_check_database: str = "hotline_restore_check"
    report_hour: int = 1
    followup_days: float = 3.0
    followup_close_days: float = 7.0
    followup_sweep_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.restore_check_database):
            raise ValueError(
                "RESTORE_CHECK_DATABASE must be a plain lower-case name "
                "(letters, digits, '_'; at most 63 characters)"
            )
        if not 1 <= self.restore_check_weekday <= 7:
            raise ValueError("RESTORE_CHECK_WEEKDAY must be 1 (Monday) to 7 (Sunday)")

    @classmethod
    def from_env(cls, env: _Environ) -> OpsSettings:
        weekday = env.count("RESTORE_CHECK_WEEKDAY", 7)
        return cls(
            scheduler_seconds=env.positive("OPS_SCHEDULER_SECONDS", 30.0, zero_ok=True),
            start_delay=env.positive("OPS_START_DELAY", 60.0, zero_ok=True),
            lock_ttl=env.positive("OPS_LOCK_TTL", 60.0),
            backup_dir=Path(env.text("BACKUP_DIR", str(OPS_DEFAULT_BACKUP_DIR))),
            backup_hour=_hour(env, "BACKUP_HOUR", 3),
            backup_keep_daily=env.count("BACKUP_KEEP_DAILY", 7),
            backup_keep_weekly=env.count("BACKUP_KEEP_WEEKLY", 4),
            restore_check_weekday=weekday,
            restore_check_hour=_hour(env, "RESTORE_CHECK_HOUR", 5),
            restore_check_database=env.text("RESTORE_CHECK_DATABASE", "hotline_restore_check"),
            report_hour=_hour(env, "REPORT_HOUR", 1),
            followup_days=env.positive("FOLLOWUP_DAYS", 3.0),
            followup_close_days=env.positive("FOLLOWUP_CLOSE_DAYS", 7.0),
            followup_sweep_seconds=env.positive("FOLLOWUP_SWEEP_SECONDS", 3600.0),
        )


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; build one with :meth:`from_env` (or
    :func:`load_settings`), once per process, and pass it on."""

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
    # Web chat widget (channels/webchat/); its limits hold across replicas
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
    # Emergency mode (bot/emergency): a handoff that mentions the incident
    # (its keywords) counts ``emergency_handoff_head_start`` seconds older in
    # the queue (EMERGENCY_HANDOFF_HEAD_START, bounded like the others); a
    # replica re-reads the switch from the store at most every
    # ``emergency_refresh`` seconds (EMERGENCY_REFRESH; 0: on every message);
    # the broadcast reaches citizens who wrote within ``emergency_broadcast_hours``
    # (EMERGENCY_BROADCAST_HOURS); the public state endpoint (GET
    # /public/emergency, the widget's banner) answers an address at most
    # ``emergency_public_per_minute`` times a minute (EMERGENCY_PUBLIC_PER_MINUTE).
    emergency_handoff_head_start: float = 600.0
    emergency_refresh: float = 1.0
    emergency_broadcast_hours: float = 24.0
    emergency_public_per_minute: int = 30
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
    # ``python -m bot``: its log level (LOG_LEVEL) and event loop (EVENT_LOOP,
    # ``asyncio`` or ``uvloop``; checked by bot.__main__.choose_event_loop).
    log_level: str = "INFO"
    event_loop: str | None = None
    # The knowledge loop (bot/knowledge.py, bot/knowledge_editor/): the FAQ and
    # service files (KNOWLEDGE_DIR, default data/knowledge; the editor's page
    # writes there, the training data and fingerprint are taken from the
    # project around it), the trained models (MODELS_DIR, default models/,
    # where scripts/train.py writes its .trained-<fingerprint> stamp), and how
    # often at most a file's size and mtime are checked to reload answers
    # without a restart (KNOWLEDGE_RELOAD_SECONDS, default 3; 0: every use).
    knowledge_dir: Path = ROOT / "data" / "knowledge"
    models_dir: Path = ROOT / "models"
    knowledge_reload_seconds: float = 3.0
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    wechat_notices: WeChatNoticeSettings = field(default_factory=WeChatNoticeSettings)

    @property
    def sqlite_path(self) -> Path:
        return VAR_DIR / "hotline.db"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read every setting from ``environ`` (documented in the README); a bad
        value raises ``ValueError`` naming the variable."""
        env = _Environ(environ)
        return cls(
            host=env.get("HOST", "127.0.0.1") or "127.0.0.1",
            port=int(env.get("PORT", "8080") or 8080),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005") or "",
            action_server_url=env.get("ACTION_SERVER_URL", "http://127.0.0.1:5055") or "",
            rasa_timeout=float(env.get("RASA_TIMEOUT", "10") or 10),
            redis_url=env.get("REDIS_URL"),
            redis_prefix=env.get("REDIS_PREFIX", "hotline") or "hotline",
            database_url=env.get("DATABASE_URL"),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(64 * 1024)) or 65536),
            wechat_token=env.secret("WECHAT_TOKEN"),
            wechat_app_id=env.get("WECHAT_APP_ID"),
            wechat_app_secret=env.secret("WECHAT_APP_SECRET"),
            wechat_encoding_aes_key=env.secret("WECHAT_ENCODING_AES_KEY"),
            wechat_api_base_url=env.get("WECHAT_API_BASE_URL", "https://api.weixin.qq.com") or "",
            telegram_bot_token=env.secret("TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=env.secret("TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
            or "",
            telegram_polling=env.flag("TELEGRAM_POLLING"),
            shutdown_timeout=env.positive("SHUTDOWN_TIMEOUT", 10.0),
            webchat_secret=env.secret("WEBCHAT_SECRET"),
            webchat_allowed_origins=env.get("WEBCHAT_ALLOWED_ORIGINS", "*") or "*",
            webchat_idle_hours=env.positive("WEBCHAT_IDLE_HOURS", 4.0),
            webchat_sockets_per_session=env.count("WEBCHAT_SOCKETS_PER_SESSION", 5),
            webchat_sockets_per_address=env.count("WEBCHAT_SOCKETS_PER_ADDRESS", 100),
            webchat_sessions_per_minute=env.count("WEBCHAT_SESSIONS_PER_MINUTE", 20),
            webchat_message_limit=env.count("WEBCHAT_MESSAGE_LIMIT", 10),
            webchat_frame_limit=env.count("WEBCHAT_FRAME_LIMIT", 20),
            webchat_rate_window=env.positive("WEBCHAT_RATE_WINDOW", 10.0),
            trusted_proxies=env.csv("TRUSTED_PROXIES"),
            handoff_rate_window=env.positive("HANDOFF_RATE_WINDOW", 600.0),
            handoff_max_per_sender=env.count("HANDOFF_MAX_PER_SENDER", 3),
            handoff_max_per_address=env.count("HANDOFF_MAX_PER_ADDRESS", 10),
            handoff_urgent_head_start=env.positive(
                "HANDOFF_URGENT_HEAD_START", 120.0, zero_ok=True
            ),
            handoff_emergency_head_start=env.positive(
                "HANDOFF_EMERGENCY_HEAD_START", 600.0, zero_ok=True
            ),
            handoff_notice_interval=env.positive("HANDOFF_NOTICE_INTERVAL", 30.0),
            emergency_handoff_head_start=env.positive(
                "EMERGENCY_HANDOFF_HEAD_START", 600.0, zero_ok=True
            ),
            emergency_refresh=env.positive("EMERGENCY_REFRESH", 1.0, zero_ok=True),
            emergency_broadcast_hours=env.positive("EMERGENCY_BROADCAST_HOURS", 24.0),
            emergency_public_per_minute=env.count("EMERGENCY_PUBLIC_PER_MINUTE", 30),
            console_queue_page=env.count("CONSOLE_QUEUE_PAGE", 50),
            console_session_idle=env.positive("CONSOLE_SESSION_IDLE", 8 * 3600.0),
            console_session_max_age=env.positive("CONSOLE_SESSION_MAX_AGE", 12 * 3600.0),
            console_socket_recheck=env.positive("CONSOLE_SOCKET_RECHECK", 30.0),
            console_login_window=env.positive("CONSOLE_LOGIN_WINDOW", 15 * 60.0),
            console_login_per_user_address=env.count("CONSOLE_LOGIN_PER_USER_ADDRESS", 5),
            console_login_per_address=env.count("CONSOLE_LOGIN_PER_ADDRESS", 20),
            console_login_per_user=env.count("CONSOLE_LOGIN_PER_USER", 20),
            rest_tokens=parse_rest_tokens(env.get("REST_TOKENS")),
            data_keys=env.secret("HOTLINE_DATA_KEYS"),
            retention_days=env.positive("RETENTION_DAYS", 180.0),
            ticket_contact_days=env.positive("TICKET_CONTACT_RETENTION_DAYS", 365.0),
            retention_sweep_seconds=env.positive("RETENTION_SWEEP_SECONDS", 3600.0, zero_ok=True),
            rasa_auth_token=internal_secret("RASA_AUTH_TOKEN", "rasa_auth.token", environ),
            action_server_token=internal_secret(
                "ACTION_SERVER_TOKEN", "action_server.token", environ
            ),
            action_server_host=env.get("SANIC_HOST", "127.0.0.1") or "127.0.0.1",
            action_server_shutdown_grace=env.positive("ACTION_SERVER_SHUTDOWN_GRACE", 10.0),
            log_level=env.text("LOG_LEVEL", "INFO").upper(),
            event_loop=env.get("EVENT_LOOP"),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR") or ROOT / "data" / "knowledge"),
            models_dir=Path(env.get("MODELS_DIR") or ROOT / "models"),
            knowledge_reload_seconds=env.positive("KNOWLEDGE_RELOAD_SECONDS", 3.0, zero_ok=True),
            console=ConsoleSettings.from_env(env),
            tickets=TicketSettings.from_env(env),
            ops=OpsSettings.from_env(env),
            wechat_notices=WeChatNoticeSettings.from_env(env),
        )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of this process: :meth:`Settings.from_env` on ``environ``,
    by default the process's environment. Call it once, where the process
    starts (``python -m bot``, the action server, the command-line tools)."""
    return Settings.from_env(os.environ if environ is None else environ)


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
