"""Shared state of the front door: in process, or in Redis when REDIS_URL is set."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.store.base import HeldLock, LockTimeout, SharedStore, StoreUnavailable, Subscription
from bot.store.memory import MemoryStore

logger = logging.getLogger(__name__)

__all__ = [
    "HeldLock",
    "LockTimeout",
    "MemoryStore",
    "SharedStore",
    "StoreUnavailable",
    "Subscription",
    "make_store",
]


def make_store(settings: Settings) -> SharedStore:
    """Build the configured store; opens no connection yet."""
    if not settings.redis_url:
        logger.info("shared store: in process (single replica only)")
        return MemoryStore()
    from bot.store.redis import RedisStore

    logger.info("shared store: redis, prefix %s", settings.redis_prefix)
    return RedisStore(settings.redis_url, settings.redis_prefix)
