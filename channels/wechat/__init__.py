"""WeChat Official Account channel: ``GET``/``POST /webhooks/wechat``.

Private modules: ``_channel`` (the webhook and the customer-service sender),
``_api`` (WeChat's HTTP API and its access token), ``_auth`` (signature and
body checks), ``_crypto`` (the AES mode), ``_inbound`` (XML fields to an
inbound message), ``_menu`` (the custom menu, menu.yml), ``_notice`` (ticket
notices as template messages), ``_render`` (replies to WeChat text), ``_xml``.
"""

from channels.wechat._api import WeChatApi, mask_openid
from channels.wechat._channel import WeChatChannel, WeChatSendError
from channels.wechat._menu import MENU_FILE, MenuError, load_menu

__all__ = [
    "MENU_FILE",
    "MenuError",
    "WeChatApi",
    "WeChatChannel",
    "WeChatSendError",
    "load_menu",
    "mask_openid",
]
