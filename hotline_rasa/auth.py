"""The secrets Rasa shares with the front door and the action server.

- ``RASA_AUTH_TOKEN``: Rasa's ``--auth-token`` (its HTTP API: trackers,
  events, models) and the token of its REST input channel
  (:mod:`hotline_rasa.channel`, through ``${RASA_AUTH_TOKEN}`` in
  credentials.yml). The front door sends it (bot/rasa_client.py).
- ``ACTION_SERVER_TOKEN``: sent to the action server on every action call
  (``${ACTION_SERVER_TOKEN}`` in endpoints.yml's ``action_endpoint``
  headers), checked by ``python -m bot.action_server``.

Each comes from the environment or, unset, from a file generated once under
``var/`` (``HOTLINE_VAR_DIR``) with mode 0600: the same files the front door
and the action server read (bot/config.py ``internal_secret``; this copy
keeps Rasa's process free of the ``bot`` package). The token is handed to
Rasa's command line inside this process (``sys.argv``), never on the real
command line, where ``ps`` would show it to every local user.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import MutableMapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: (environment variable, file under var/)
RASA_TOKEN = ("RASA_AUTH_TOKEN", "rasa_auth.token")
ACTION_TOKEN = ("ACTION_SERVER_TOKEN", "action_server.token")


def var_dir(environ: MutableMapping[str, str]) -> Path:
    return Path(environ.get("HOTLINE_VAR_DIR") or ROOT / "var")


def internal_secret(name: str, filename: str, environ: MutableMapping[str, str]) -> str:
    """``name`` from ``environ``, else ``var/<filename>`` (created once, 0600)."""
    value = environ.get(name, "").strip()
    if value:
        return value
    path = var_dir(environ) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
    for _ in range(50):  # its creator may still be writing it
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.01)
    raise SystemExit(f"{path} is empty: delete it or set {name}")


def with_tokens(argv: Sequence[str], environ: MutableMapping[str, str]) -> list[str]:
    """Put both tokens into ``environ`` (for ``${...}`` in Rasa's YAML files)
    and, for ``rasa run``, ``--auth-token`` into the returned argv unless given."""
    for name, filename in (RASA_TOKEN, ACTION_TOKEN):
        environ[name] = internal_secret(name, filename, environ)
    args = list(argv)
    if len(args) > 1 and args[1] == "run" and "--auth-token" not in args:
        args += ["--auth-token", environ[RASA_TOKEN[0]]]
    return args
