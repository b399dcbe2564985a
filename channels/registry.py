"""Which channels the front door serves, from the settings.

The web chat is always on; REST only when ``REST_TOKENS`` is set (trusted
integrations); WeChat and Telegram only when their secret is configured.
Channel modules are imported lazily, so a channel whose module is not there
is skipped with a warning instead of taking the whole front door down.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from bot.config import Settings
from bot.inbound import InboundPort
from channels.base import Channel
from channels.rest import RestChannel

logger = logging.getLogger(__name__)

#: (module, class, enabled?) of the channels beyond REST.
OPTIONAL_CHANNELS: tuple[tuple[str, str, Callable[[Settings], bool]], ...] = (
    ("channels.webchat", "WebChatChannel", lambda s: True),
    ("channels.wechat", "WeChatChannel", lambda s: bool(s.wechat_token)),
    ("channels.telegram", "TelegramChannel", lambda s: bool(s.telegram_bot_token)),
)


def enabled_channels(inbound: InboundPort, settings: Settings) -> list[Channel]:
    """Build every enabled channel: ``XChannel(inbound, settings)``."""
    channels: list[Channel] = []
    if settings.rest_tokens:
        channels.append(RestChannel(inbound, settings))
    else:
        logger.info("channel channels.rest disabled (REST_TOKENS not set)")
    for module_name, class_name, enabled in OPTIONAL_CHANNELS:
        if not enabled(settings):
            logger.info("channel %s disabled (not configured)", module_name)
            continue
        channel_class = _load(module_name, class_name)
        if channel_class is not None:
            channels.append(channel_class(inbound, settings))
    logger.info("channels enabled: %s", ", ".join(c.name for c in channels))
    return channels


def _load(module_name: str, class_name: str) -> Callable[[InboundPort, Settings], Channel] | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the module exists but one of its imports is missing: a real error
        logger.warning("channel module %s not found; skipped", module_name)
        return None
    channel_class = getattr(module, class_name, None)
    if not (isinstance(channel_class, type) and issubclass(channel_class, Channel)):
        logger.warning("%s.%s is not a Channel; skipped", module_name, class_name)
        return None
    factory: Callable[[InboundPort, Settings], Channel] = channel_class
    return factory
