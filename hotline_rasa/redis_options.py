"""Redis connection settings from endpoints.redis.yml, where ``${VAR}``
expansion makes every value a string (hotline_rasa/deployment.py sets them
from REDIS_URL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off", ""})
#: Settings whose empty value means "not set".
OPTIONAL = ("username", "password", "ssl_certfile", "ssl_keyfile", "ssl_ca_certs")


def flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def redis_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with ``port``/``db`` as numbers, ``use_ssl`` as a flag and
    empty optional values dropped (Rasa's defaults apply)."""
    options = dict(settings)
    for key in ("port", "db"):
        if key in options and options[key] not in (None, ""):
            options[key] = int(options[key])
        else:
            options.pop(key, None)
    if "use_ssl" in options:
        options["use_ssl"] = flag("use_ssl", options["use_ssl"])
    for key in OPTIONAL:
        if options.get(key) in (None, ""):
            options.pop(key, None)
    return options
