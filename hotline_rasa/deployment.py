"""What ``python -m hotline_rasa run`` takes from the environment besides the
tokens: where the action server is, the Redis stores, the model version.

- ``ACTION_SERVER_URL`` (default ``http://127.0.0.1:5055``, the front door's
  setting of the same name): endpoints.yml and endpoints.redis.yml call
  ``${ACTION_SERVER_URL}/webhook``. Rasa 3.6 expands ``${VAR}`` in its YAML
  files but has no default value syntax, so the default is put into the
  environment here.
- ``REDIS_URL`` (``redis://`` or ``rediss://`` for TLS, with an optional
  ``:password@`` or ``user:password@``, ``/db``, and ``?ssl_ca_certs=PATH``
  for a private CA): split into ``REDIS_HOST``, ``REDIS_PORT``, ``REDIS_DB``,
  ``REDIS_USERNAME``, ``REDIS_PASSWORD``, ``REDIS_USE_SSL`` (``true`` /
  ``false``) and ``REDIS_SSL_CA_CERTS`` for endpoints.redis.yml: the same URL
  the front door and the action server use (``bot.store.redis``), one
  setting for all three processes. The values are never put on a command
  line.
- ``MODEL_VERSION`` (a version ``make model`` printed, e.g.
  ``hotline-20261205-0123456789abcdef``): ``--model`` becomes that file in
  the ``--model`` directory (default ``MODELS_DIR``, else ``models``); a
  missing file, or one whose ``.sha256`` beside it does not match, stops the
  start with a clear error instead of loading another model. Unset: Rasa's
  own rule (the newest model in the directory), the local default.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import MutableMapping, Sequence
from pathlib import Path

DEFAULT_ACTION_SERVER_URL = "http://127.0.0.1:5055"
#: Keys endpoints.redis.yml reads, derived from REDIS_URL.
REDIS_KEYS = (
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_DB",
    "REDIS_USERNAME",
    "REDIS_PASSWORD",
    "REDIS_USE_SSL",
    "REDIS_SSL_CA_CERTS",
)
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MODEL_SUFFIX = ".tar.gz"


class DeploymentError(SystemExit):
    """A bad deployment setting: the start stops with this one line."""

    def __init__(self, message: str) -> None:
        super().__init__(f"configuration error: {message}")


def redis_settings(url: str) -> dict[str, str]:
    """endpoints.redis.yml's variables from a ``redis://`` or ``rediss://`` URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise DeploymentError("REDIS_URL must start with redis:// or rediss:// (TLS)")
    try:
        port = parts.port or 6379
    except ValueError:
        raise DeploymentError("REDIS_URL has a bad port") from None
    db = (parts.path or "/").lstrip("/") or "0"
    if not db.isdigit():
        raise DeploymentError(f"REDIS_URL's database must be a number, not {db!r}")
    query = urllib.parse.parse_qs(parts.query)
    return {
        "REDIS_HOST": parts.hostname or "127.0.0.1",
        "REDIS_PORT": str(port),
        "REDIS_DB": db,
        "REDIS_USERNAME": urllib.parse.unquote(parts.username or ""),
        "REDIS_PASSWORD": urllib.parse.unquote(parts.password or ""),
        "REDIS_USE_SSL": "true" if parts.scheme == "rediss" else "false",
        "REDIS_SSL_CA_CERTS": (query.get("ssl_ca_certs") or [""])[0],
    }


def endpoint_environment(environ: MutableMapping[str, str]) -> None:
    """Put what endpoints.yml / endpoints.redis.yml expand into ``environ``."""
    if not environ.get("ACTION_SERVER_URL"):
        environ["ACTION_SERVER_URL"] = DEFAULT_ACTION_SERVER_URL
    environ["ACTION_SERVER_URL"] = environ["ACTION_SERVER_URL"].rstrip("/")
    url = environ.get("REDIS_URL")
    if url:
        environ.update(redis_settings(url))
    else:
        for key in REDIS_KEYS:  # endpoints.redis.yml fails loudly on a missing one
            environ.setdefault(key, "")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versioned_model(version: str, models_dir: Path) -> Path:
    """The model file of ``version`` in ``models_dir``, its checksum verified."""
    name = version.removesuffix(MODEL_SUFFIX)
    if not VERSION_PATTERN.fullmatch(name):
        raise DeploymentError(
            f"MODEL_VERSION must be a model's version name like hotline-20261205-0123abcd "
            f"(letters, digits, '.', '_', '-'), not {version!r}"
        )
    model = models_dir / f"{name}{MODEL_SUFFIX}"
    if not model.is_file():
        kept = sorted(
            p.name.removesuffix(MODEL_SUFFIX) for p in models_dir.glob(f"*{MODEL_SUFFIX}")
        )
        raise DeploymentError(
            f"MODEL_VERSION {name} is not in {models_dir} (there: {', '.join(kept) or 'none'})"
        )
    checksum = model.with_name(model.name + ".sha256")
    if checksum.is_file():
        expected = checksum.read_text(encoding="utf-8").split()[0]
        if file_sha256(model) != expected:
            raise DeploymentError(f"{model} does not match its checksum {checksum.name}")
    return model


def with_model_version(argv: Sequence[str], environ: MutableMapping[str, str]) -> list[str]:
    """``rasa run`` argv with ``--model`` set to ``MODEL_VERSION``'s file (when set)."""
    args = list(argv)
    version = (environ.get("MODEL_VERSION") or "").strip()
    if not version or len(args) < 2 or args[1] != "run":
        return args
    models_dir = Path(environ.get("MODELS_DIR") or "models")
    for flag in ("--model", "-m"):
        if flag in args:
            index = args.index(flag)
            given = Path(args[index + 1]) if index + 1 < len(args) else models_dir
            models_dir = given if given.is_dir() else given.parent
            del args[index : index + 2]
    return [*args, "--model", str(versioned_model(version, models_dir))]
