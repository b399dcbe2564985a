"""Helpers shared by the tests, one version of each.

- ``waiting``: ``eventually`` (poll a condition until it holds) and
  ``frames_until`` (collect a WebSocket's frames until a condition holds);
- ``ports``: ``free_port`` (a loopback port nothing listens on);
- ``processes``: start a real process (the front door, the action server) and
  wait for its health check;
- ``rest_auth``: the REST integration token the tests' front doors accept.

The fake outside services (Rasa, the WeChat and Telegram APIs, the database)
live in ``tests/fakes/``.
"""
