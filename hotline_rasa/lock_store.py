"""Rasa's Redis lock store, configured from endpoints.redis.yml's ``${VAR}`` values.

Rasa 3.6 builds its own ``type: redis`` lock store with the YAML values as
they are; ``${VAR}`` expansion makes every one of them a string, so
``use_ssl: ${REDIS_USE_SSL}`` would turn TLS on for "false" too, and an empty
``ssl_ca_certs`` would be a path. This class (``type:
hotline_rasa.lock_store.RedisLockStore``) takes the same keys, converts them,
and is otherwise Rasa's own :class:`rasa.core.lock_store.RedisLockStore`
(same key layout: ``<key_prefix>:lock:<conversation>``).
"""

from __future__ import annotations

from typing import Any

from rasa.core import lock_store
from rasa.utils.endpoints import EndpointConfig

from hotline_rasa.redis_options import redis_options


class RedisLockStore(lock_store.RedisLockStore):
    """Rasa's lock store with string settings converted (see the module doc)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        settings = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        settings.update(kwargs)
        host = (endpoint_config.url if endpoint_config is not None else None) or settings.pop(
            "host", "localhost"
        )
        settings.pop("host", None)
        super().__init__(host=host, **redis_options(settings))
