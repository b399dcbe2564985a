"""The web chat widget channel: ``/webchat/session``, ``/webchat/ws`` and the
widget's static files (served from bot/static).

Private modules: ``_channel`` (routes and sessions), ``_auth`` (session
tokens), ``_fanout`` (events to every replica's sockets), ``_http`` (CORS,
small bodies), ``_limits`` (rates and socket leases), ``_protocol`` (frames),
``_sessions`` (activity and expiry), ``_socket`` (one WebSocket),
``_static``.
"""

from channels.webchat._channel import WebChatChannel

__all__ = ["WebChatChannel"]
