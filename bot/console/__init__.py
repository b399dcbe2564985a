"""The agents' console: sign-in, the live handoff queue, chats with citizens.

``setup_console(app, hub)`` mounts everything under ``/console/`` on the
front door's application (after the app's own lifecycle, whose database
connection the console's background work needs); see docs/interfaces.md
("Console auth", "Console handoff").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from aiohttp import web

from bot.console.admin import add_admin_routes
from bot.console.auth_views import setup_auth
from bot.console.static import add_static_routes

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.hub import Hub

log = logging.getLogger(__name__)


def setup_console(app: web.Application, hub: Hub) -> None:
    """Mount the console on the front door (routes, middleware, background work)."""
    from bot.console import views
    from bot.console.runtime import build_runtime

    db = cast("Database", hub.db)  # the hub's protocol; a real Database in production
    setup_auth(app, hub.store, db, hub.settings)
    add_admin_routes(app)  # supervisors: audit log, users
    add_static_routes(app)
    if not callable(getattr(db, "read", None)):
        log.info("console handoff disabled: no SQL database (a test double)")
        return
    build_runtime(app, hub, db)
    views.add_routes(app)
