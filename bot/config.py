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

Each field states its variable, how it is read and its default once
(:func:`setting`); :meth:`Settings.from_env` walks the fields
(:func:`read_fields`), so a default is never repeated in the reading code.
pydantic-settings was weighed and not taken: its readers would change what
the variables mean today (``TELEGRAM_POLLING=true`` would turn polling on;
only ``1`` does), its errors do not name the variable in one line, and the
flat variable names of the nested groups and the mapping passed to
``from_env`` (tests, tools) would each need a custom source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", ROOT / "var"))

log = logging.getLogger(__name__)


class Secret(str):
    """A string that never shows its value in a repr or a log line."""

    def __repr__(self) -> str:
        return "Secret('**********')"


class _Unset:
    """Marks a variable that is unset (or empty): the field keeps its default."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class Env:
    """Typed reads of one environment mapping. Each returns :data:`UNSET` for
    an unset or empty variable (the setting's default applies); a bad value
    raises ``ValueError`` naming the variable (the start stops with that one
    line)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def get(self, name: str) -> str | None:
        """The value; None when unset or empty."""
        value = self.environ.get(name)
        return value if value not in (None, "") else None

    def text(self, name: str) -> Any:
        return self.get(name) or UNSET

    def upper(self, name: str) -> Any:
        value = self.get(name)
        return value.upper() if value else UNSET

    def path(self, name: str) -> Any:
        value = self.get(name)
        return Path(value) if value else UNSET

    def secret(self, name: str) -> Any:
        value = self.get(name)
        return Secret(value) if value else UNSET

    def stripped_secret(self, name: str) -> Any:
        """A secret with blanks around it dropped (all blank: unset)."""
        value = (self.get(name) or "").strip()
        return Secret(value) if value else UNSET

    def flag(self, name: str) -> Any:
        """``1`` is on; anything else off."""
        value = self.get(name)
        return UNSET if value is None else value == "1"

    def csv(self, name: str) -> Any:
        """A comma-separated setting; blanks dropped."""
        raw = self.get(name)
        if raw is None:
            return UNSET
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    def _converted(self, name: str, convert: Callable[[str], Any], what: str) -> Any:
        """``convert`` of the value; ``what`` names what it must be (with the
        value shown at ``{raw}``) when it cannot be converted."""
        raw = self.get(name)
        try:
            return UNSET if raw is None else convert(raw)
        except ValueError:
            raise ValueError(f"{name} must be {what.format(raw=repr(raw))}") from None

    def number(self, name: str) -> Any:
        return self._converted(name, float, "a number, not {raw}")

    def integer(self, name: str) -> Any:
        return self._converted(name, int, "a whole number, not {raw}")

    def positive(self, name: str, *, zero_ok: bool = False) -> Any:
        """A number setting; a bad or negative value stops the start with a clear error."""
        value = self.number(name)
        if value is not UNSET and (value < 0 or (value == 0 and not zero_ok)):
            raise ValueError(f"{name} must be {'zero or more' if zero_ok else 'more than zero'}")
        return value

    def positive_or_zero(self, name: str) -> Any:
        return self.positive(name, zero_ok=True)

    def seconds(self, name: str) -> Any:
        """A number of seconds (the console's timings: any number)."""
        return self._converted(name, float, "a number of seconds")

    def count(self, name: str) -> Any:
        """A whole number of at least 1; anything else stops the start with a clear error."""
        raw = self.get(name)
        if raw is None:
            return UNSET
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
        return int(raw)

    def hour(self, name: str) -> Any:
        raw = self.get(name)
        if raw is None:
            return UNSET
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 23:
            raise ValueError(f"{name} must be an hour from 0 to 23, not {raw!r}")
        return int(raw)


#: How a setting is read: ``reader(env, variable)``, :data:`UNSET` for the default.
Reader = Callable[[Env, str], Any]


def setting(variable: str, read: Reader, default: Any = None, *, factory: Any = None) -> Any:
    """A settings field read from ``variable`` by ``read``; its default, stated
    once here (``factory`` for a default made per instance)."""
    meta = {"env": variable, "read": read}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def group(cls: type) -> Any:
    """A nested settings group, read from the same environment."""
    return field(default_factory=cls, metadata={"group": cls})


def read_fields[T](cls: type[T], env: Env) -> T:
    """An instance of the settings dataclass ``cls`` from ``env``: every
    :func:`setting` field its variable sets, the default for the others."""
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if "env" in f.metadata:
            value = f.metadata["read"](env, f.metadata["env"])
            if value is not UNSET:
                values[f.name] = value
        elif "group" in f.metadata:
            values[f.name] = read_fields(f.metadata["group"], env)
    return cls(**values)


def variables(cls: type, prefix: str = "") -> dict[str, str]:
    """Every environment variable the settings dataclass ``cls`` reads -> its
    field's dotted path (``"SERVICE_HOURS": "console.service_hours"``)."""
    found: dict[str, str] = {}
    for f in fields(cls):
        if "env" in f.metadata:
            found[f.metadata["env"]] = prefix + f.name
        elif "group" in f.metadata:
            found.update(variables(f.metadata["group"], f"{prefix}{f.name}."))
    return found


def read_rasa_urls(env: Env, name: str) -> Any:
    """RASA_URLS checked: each an http(s) URL with a host, none twice
    (trailing slashes dropped); a bad one stops the start naming it."""
    urls = env.csv(name)
    if urls is UNSET:
        return UNSET
    seen: list[str] = []
    for url in urls:
        clean = url.rstrip("/")
        parsed = urllib.parse.urlsplit(clean)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"RASA_URLS: {url!r} is not an http:// or https:// URL")
        if clean in seen:
            raise ValueError(f"RASA_URLS names {clean} twice")
        seen.append(clean)
    return tuple(seen)


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
    value = Env(os.environ if environ is None else environ).get(name)
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


def _rest_tokens(env: Env, name: str) -> Any:
    raw = env.get(name)
    return parse_rest_tokens(raw) if raw else UNSET


def _internal(filename: str) -> Reader:
    """Read an internal secret: the variable, else ``var/<filename>``."""

    def read(env: Env, name: str) -> Secret:
        return internal_secret(name, filename, env.environ)

    return read


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


def _service_hours(env: Env, name: str) -> Any:
    value = env.get(name)
    return ServiceHours.parse(value) if value else UNSET


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's handoff timings (seconds), its cookie and its command line.

    ``SERVICE_HOURS`` (default 08:30-21:00, Asia/Shanghai, every day) is when
    agents answer; outside it citizens who ask for a person are offered a
    callback instead of a queue. ``24:00`` may end a range.
    """

    service_hours: ServiceHours = setting(
        "SERVICE_HOURS", _service_hours, factory=lambda: ServiceHours.parse(DEFAULT_SERVICE_HOURS)
    )
    # an agent without a heartbeat this long is offline
    presence_ttl: float = setting("CONSOLE_PRESENCE_TTL", Env.seconds, 60.0)
    # presence expiry and rebuild check
    sweep_interval: float = setting("CONSOLE_SWEEP_INTERVAL", Env.seconds, 10.0)
    # then the citizen is offered a callback instead
    max_queue_wait: float = setting("HANDOFF_MAX_WAIT", Env.seconds, 30 * 60.0)
    answer_target: float = 20.0  # "answered within 20 s" in the service level (no variable)
    # COOKIE_SECURE=1: the session cookie is Secure also on a plain-http request
    # (TLS ends at a proxy that is not a trusted one).
    cookie_secure: bool = setting("COOKIE_SECURE", Env.flag, False)
    # CONSOLE_PASSWORD: the password ``python -m bot.console create-user`` and
    # ``set-password`` use instead of asking (scripts); never used by the server.
    cli_password: Secret | None = setting("CONSOLE_PASSWORD", Env.secret)


TICKET_SWEEP_ENV = "TICKET_SWEEP_SECONDS"
CASE_API_TOKENS_ENV = "CASE_API_TOKENS"


def _sweep_seconds(env: Env, name: str) -> Any:
    raw = (env.get(name) or "").strip()
    if not raw:
        return UNSET
    try:
        sweep = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if sweep < 0:
        raise ValueError(f"{name} must not be negative")
    return sweep


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

    sweep_seconds: float = setting(TICKET_SWEEP_ENV, _sweep_seconds, 300.0)
    api_tokens: Secret | None = setting(CASE_API_TOKENS_ENV, Env.stripped_secret)


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


def _template_fields(env: Env, name: str) -> Any:
    raw = env.get(name)
    return UNSET if raw is None else parse_template_fields(raw, name)


def _template_url(env: Env, name: str) -> Any:
    url = env.get(name)
    if url is not None and not url.startswith(("https://", "http://")):
        raise ValueError(f"{name} must start with https:// (or http://)")
    return UNSET if url is None else url


def _result_keyword(env: Env, name: str) -> Any:
    raw = env.get(name)
    if raw is None:
        return UNSET
    keyword = raw.strip()
    if not 1 <= len(keyword) <= 10:
        raise ValueError(f"{name} must be 1 to 10 characters")
    return keyword


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

    progress_template: str | None = setting("WECHAT_TEMPLATE_PROGRESS", Env.text)
    result_template: str | None = setting("WECHAT_TEMPLATE_RESULT", Env.text)
    fields: tuple[tuple[str, str], ...] = setting(
        "WECHAT_TEMPLATE_FIELDS", _template_fields, parse_template_fields(DEFAULT_TEMPLATE_FIELDS)
    )
    url: str | None = setting("WECHAT_TEMPLATE_URL", _template_url)
    keyword: str = setting("TICKET_RESULT_KEYWORD", _result_keyword, "查看结果")

    def template_for(self, kind: str) -> str | None:
        """The template id for a ``progress`` or ``result`` notice, or ``None``."""
        if kind == "result":
            return self.result_template or self.progress_template
        return self.progress_template


OPS_DEFAULT_BACKUP_DIR = VAR_DIR / "backups"


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

    scheduler_seconds: float = setting("OPS_SCHEDULER_SECONDS", Env.positive_or_zero, 30.0)
    start_delay: float = setting("OPS_START_DELAY", Env.positive_or_zero, 60.0)
    lock_ttl: float = setting("OPS_LOCK_TTL", Env.positive, 60.0)
    backup_dir: Path = setting("BACKUP_DIR", Env.path, OPS_DEFAULT_BACKUP_DIR)
    backup_hour: int = setting("BACKUP_HOUR", Env.hour, 3)
    backup_keep_daily: int = setting("BACKUP_KEEP_DAILY", Env.count, 7)
    backup_keep_weekly: int = setting("BACKUP_KEEP_WEEKLY", Env.count, 4)
    restore_check_weekday: int = setting("RESTORE_CHECK_WEEKDAY", Env.count, 7)
    restore_check_hour: int = setting("RESTORE_CHECK_HOUR", Env.hour, 5)
    restore_check_database: str = setting(
        "RESTORE_CHECK_DATABASE", Env.text, "hotline_restore_check"
    )
    report_hour: int = setting("REPORT_HOUR", Env.hour, 1)
    followup_days: float = setting("FOLLOWUP_DAYS", Env.positive, 3.0)
    followup_close_days: float = setting("FOLLOWUP_CLOSE_DAYS", Env.positive, 7.0)
    followup_sweep_seconds: float = setting("FOLLOWUP_SWEEP_SECONDS", Env.positive, 3600.0)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.restore_check_database):
            raise ValueError(
                "RESTORE_CHECK_DATABASE must be a plain lower-case name "
                "(letters, digits, '_'; at most 63 characters)"
            )
        if not 1 <= self.restore_check_weekday <= 7:
            raise ValueError("RESTORE_CHECK_WEEKDAY must be 1 (Monday) to 7 (Sunday)")


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; build one with :meth:`from_env` (or
    :func:`load_settings`), once per process, and pass it on."""

    host: str = setting("HOST", Env.text, "127.0.0.1")
    port: int = setting("PORT", Env.integer, 8080)
    rasa_url: str = setting("RASA_URL", Env.text, "http://127.0.0.1:5005")
    # Several Rasa servers (RASA_URLS, comma-separated; bot/rasa_pool.py): each
    # conversation keeps one while it is up. Empty: ``rasa_url`` alone
    # (RASA_URL). ``rasa_servers`` is the list either way.
    rasa_urls: tuple[str, ...] = setting("RASA_URLS", read_rasa_urls, ())
    # The pool's health: a server that failed a turn is left alone for
    # ``rasa_backoff`` seconds (doubling on failures in a row), and every
    # ``rasa_probe_interval`` seconds each server's /status is asked (0: never).
    rasa_backoff: float = setting("RASA_BACKOFF", Env.positive, 10.0)
    rasa_probe_interval: float = setting("RASA_PROBE_INTERVAL", Env.positive_or_zero, 5.0)
    action_server_url: str = setting("ACTION_SERVER_URL", Env.text, "http://127.0.0.1:5055")
    rasa_timeout: float = setting("RASA_TIMEOUT", Env.number, 10.0)
    redis_url: str | None = setting("REDIS_URL", Env.text)
    redis_prefix: str = setting("REDIS_PREFIX", Env.text, "hotline")
    database_url: str | None = setting("DATABASE_URL", Env.text)
    max_body_bytes: int = setting("MAX_BODY_BYTES", Env.integer, 64 * 1024)
    wechat_token: Secret | None = setting("WECHAT_TOKEN", Env.secret)
    wechat_app_id: str | None = setting("WECHAT_APP_ID", Env.text)
    wechat_app_secret: Secret | None = setting("WECHAT_APP_SECRET", Env.secret)
    wechat_encoding_aes_key: Secret | None = setting("WECHAT_ENCODING_AES_KEY", Env.secret)
    wechat_api_base_url: str = setting("WECHAT_API_BASE_URL", Env.text, "https://api.weixin.qq.com")
    telegram_bot_token: Secret | None = setting("TELEGRAM_BOT_TOKEN", Env.secret)
    telegram_webhook_secret: Secret | None = setting("TELEGRAM_WEBHOOK_SECRET", Env.secret)
    telegram_api_base_url: str = setting(
        "TELEGRAM_API_BASE_URL", Env.text, "https://api.telegram.org"
    )
    telegram_polling: bool = setting("TELEGRAM_POLLING", Env.flag, False)
    # Web chat widget (channels/webchat/); its limits hold across replicas
    # (counters in the shared store). None: the generated var/webchat.secret.
    webchat_secret: Secret | None = setting("WEBCHAT_SECRET", Env.secret)
    webchat_allowed_origins: str = setting("WEBCHAT_ALLOWED_ORIGINS", Env.text, "*")
    webchat_idle_hours: float = setting("WEBCHAT_IDLE_HOURS", Env.positive, 4.0)
    webchat_sockets_per_session: int = setting("WEBCHAT_SOCKETS_PER_SESSION", Env.count, 5)
    webchat_sockets_per_address: int = setting("WEBCHAT_SOCKETS_PER_ADDRESS", Env.count, 100)
    webchat_sessions_per_minute: int = setting("WEBCHAT_SESSIONS_PER_MINUTE", Env.count, 20)
    webchat_message_limit: int = setting("WEBCHAT_MESSAGE_LIMIT", Env.count, 10)
    webchat_frame_limit: int = setting("WEBCHAT_FRAME_LIMIT", Env.count, 20)
    webchat_rate_window: float = setting("WEBCHAT_RATE_WINDOW", Env.positive, 10.0)
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or
    # CIDR networks; empty: none, request.remote is the TCP peer). bot/proxy.py.
    trusted_proxies: tuple[str, ...] = setting("TRUSTED_PROXIES", Env.csv, ())
    # The human handoff under abuse (bot/handoff_limits.py, bot/console/queue.py):
    # requests per sender and per client address in one window; the head starts
    # an "urgent" (angry) request and an emergency get over normal ones (both
    # bounded: never ahead of who has waited longer, bot.hub_routing.handoff_score);
    # at most one position notice per citizen per interval; the console's page.
    handoff_rate_window: float = setting("HANDOFF_RATE_WINDOW", Env.positive, 600.0)
    handoff_max_per_sender: int = setting("HANDOFF_MAX_PER_SENDER", Env.count, 3)
    handoff_max_per_address: int = setting("HANDOFF_MAX_PER_ADDRESS", Env.count, 10)
    handoff_urgent_head_start: float = setting(
        "HANDOFF_URGENT_HEAD_START", Env.positive_or_zero, 120.0
    )
    handoff_emergency_head_start: float = setting(
        "HANDOFF_EMERGENCY_HEAD_START", Env.positive_or_zero, 600.0
    )
    handoff_notice_interval: float = setting("HANDOFF_NOTICE_INTERVAL", Env.positive, 30.0)
    console_queue_page: int = setting("CONSOLE_QUEUE_PAGE", Env.count, 50)
    # Emergency mode (bot/emergency): a handoff that mentions the incident
    # (its keywords) counts ``emergency_handoff_head_start`` seconds older in
    # the queue (EMERGENCY_HANDOFF_HEAD_START, bounded like the others); a
    # replica re-reads the switch from the store at most every
    # ``emergency_refresh`` seconds (EMERGENCY_REFRESH; 0: on every message);
    # the broadcast reaches citizens who wrote within ``emergency_broadcast_hours``
    # (EMERGENCY_BROADCAST_HOURS); the public state endpoint (GET
    # /public/emergency, the widget's banner) answers an address at most
    # ``emergency_public_per_minute`` times a minute (EMERGENCY_PUBLIC_PER_MINUTE).
    emergency_handoff_head_start: float = setting(
        "EMERGENCY_HANDOFF_HEAD_START", Env.positive_or_zero, 600.0
    )
    emergency_refresh: float = setting("EMERGENCY_REFRESH", Env.positive_or_zero, 1.0)
    emergency_broadcast_hours: float = setting("EMERGENCY_BROADCAST_HOURS", Env.positive, 24.0)
    emergency_public_per_minute: int = setting("EMERGENCY_PUBLIC_PER_MINUTE", Env.count, 30)
    # Trusted REST integrations (REST_TOKENS); empty: the REST channel is off.
    rest_tokens: tuple[RestToken, ...] = setting("REST_TOKENS", _rest_tokens, ())
    # Sent to Rasa (its --auth-token) and checked by the action server; None in
    # tests that build Settings() themselves: nothing is sent. From the
    # environment, else the file var/<name> (generated once: internal_secret).
    rasa_auth_token: Secret | None = setting("RASA_AUTH_TOKEN", _internal("rasa_auth.token"))
    action_server_token: Secret | None = setting(
        "ACTION_SERVER_TOKEN", _internal("action_server.token")
    )
    # The action server (python -m bot.action_server): its listener and how long
    # SIGTERM waits for the requests in flight.
    action_server_host: str = setting("SANIC_HOST", Env.text, "127.0.0.1")
    action_server_shutdown_grace: float = setting(
        "ACTION_SERVER_SHUTDOWN_GRACE", Env.positive, 10.0
    )
    # Console sign-in and sessions (bot/console/throttle.py, sessions.py).
    console_session_idle: float = setting("CONSOLE_SESSION_IDLE", Env.positive, 8 * 3600.0)
    console_session_max_age: float = setting("CONSOLE_SESSION_MAX_AGE", Env.positive, 12 * 3600.0)
    console_socket_recheck: float = setting("CONSOLE_SOCKET_RECHECK", Env.positive, 30.0)
    console_login_window: float = setting("CONSOLE_LOGIN_WINDOW", Env.positive, 15 * 60.0)
    console_login_per_user_address: int = setting("CONSOLE_LOGIN_PER_USER_ADDRESS", Env.count, 5)
    console_login_per_address: int = setting("CONSOLE_LOGIN_PER_ADDRESS", Env.count, 20)
    console_login_per_user: int = setting("CONSOLE_LOGIN_PER_USER", Env.count, 20)
    # SIGTERM: seconds the turns in flight get to finish before the front door
    # closes its sockets and connections (bot/__main__.py).
    shutdown_timeout: float = setting("SHUTDOWN_TIMEOUT", Env.positive, 10.0)
    # Citizens' personal data (bot/db/crypto.py): HOTLINE_DATA_KEYS, the Fernet
    # key ring; None: a key generated into var/data.key (one machine only).
    data_keys: Secret | None = setting("HOTLINE_DATA_KEYS", Env.secret)
    # Retention (bot/retention.py): transcripts, events, handoff records and
    # Rasa trackers are deleted after ``retention_days``; a closed ticket keeps
    # its record but loses the citizen's contact data ``ticket_contact_days``
    # after it closed. The sweep runs every ``retention_sweep_seconds`` (0: off).
    retention_days: float = setting("RETENTION_DAYS", Env.positive, 180.0)
    ticket_contact_days: float = setting("TICKET_CONTACT_RETENTION_DAYS", Env.positive, 365.0)
    retention_sweep_seconds: float = setting(
        "RETENTION_SWEEP_SECONDS", Env.positive_or_zero, 3600.0
    )
    # ``python -m bot``: its log level (LOG_LEVEL) and event loop (EVENT_LOOP,
    # ``asyncio`` or ``uvloop``; checked by bot.__main__.choose_event_loop).
    log_level: str = setting("LOG_LEVEL", Env.upper, "INFO")
    event_loop: str | None = setting("EVENT_LOOP", Env.text)
    # The knowledge loop (bot/knowledge.py, bot/knowledge_editor/): the FAQ and
    # service files (KNOWLEDGE_DIR, default data/knowledge; the editor's page
    # writes there, the training data and fingerprint are taken from the
    # project around it), the trained models (MODELS_DIR, default models/,
    # where scripts/train.py writes its .trained-<fingerprint> stamp), and how
    # often at most a file's size and mtime are checked to reload answers
    # without a restart (KNOWLEDGE_RELOAD_SECONDS, default 3; 0: every use).
    knowledge_dir: Path = setting("KNOWLEDGE_DIR", Env.path, ROOT / "data" / "knowledge")
    models_dir: Path = setting("MODELS_DIR", Env.path, ROOT / "models")
    knowledge_reload_seconds: float = setting("KNOWLEDGE_RELOAD_SECONDS", Env.positive_or_zero, 3.0)
    console: ConsoleSettings = group(ConsoleSettings)
    tickets: TicketSettings = group(TicketSettings)
    ops: OpsSettings = group(OpsSettings)
    wechat_notices: WeChatNoticeSettings = group(WeChatNoticeSettings)

    @property
    def rasa_servers(self) -> tuple[str, ...]:
        """The Rasa servers the front door spreads conversations over."""
        return self.rasa_urls or (self.rasa_url,)

    @property
    def sqlite_path(self) -> Path:
        return VAR_DIR / "hotline.db"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read every setting from ``environ`` (documented in the README); a bad
        value raises ``ValueError`` naming the variable. Each field states its
        variable and its default once (:func:`setting`)."""
        return read_fields(cls, Env(environ))

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every variable read -> its field (``"SERVICE_HOURS": "console.service_hours"``)."""
        return variables(cls)


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
