"""WeChat Official Account channel: ``GET``/``POST /webhooks/wechat``.

Private modules: ``_channel`` (the webhook and the customer-service sender),
``_api`` (WeChat's HTTP API and its access token), ``_auth`` (signature and
body checks), ``_crypto`` (the AES mode), ``_inbound`` (XML fields to an
inbound message), ``_render`` (replies to WeChat text), ``_xml``.
"""

from channels.wechat._api import mask_openid
from channels.wechat._channel import WeChatChannel, WeChatSendError

__all__ = ["WeChatChannel", "WeChatSendError", "mask_openid"]
