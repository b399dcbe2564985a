"""The agents' console: sign-in, the live handoff queue, chats with citizens.

``setup_console(app, hub, db, settings)`` mounts everything under ``/console/``
on the front door's application (after the app's own lifecycle, whose
database connection the console's background work needs); see
docs/interfaces.md ("Console auth", "Console handoff").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.console.admin import add_admin_routes
from bot.console.auth import COOKIE_SECURE_KEY
from bot.console.auth_views import setup_auth
from bot.console.canned_views import add_canned_routes
from bot.console.emergency import add_emergency_routes
from bot.console.knowledge import add_knowledge_routes
from bot.console.static import add_static_routes
from bot.console.wallboard import add_dashboard_routes

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db.database import Database
    from bot.hub import Hub


def setup_console(app: web.Application, hub: Hub, db: Database, settings: Settings) -> None:
    """Mount the console on the front door (routes, middleware, background work)."""
    from bot.console import views
    from bot.console.runtime import build_runtime

    app[COOKIE_SECURE_KEY] = settings.console.cookie_secure
    setup_auth(app, hub.store, db, settings)
    add_admin_routes(app)  # supervisors: audit log, users
    add_knowledge_routes(app, db, settings)  # supervisors: unanswered questions -> FAQ
    add_emergency_routes(app)  # the emergency switch (supervisors switch, all see)
    add_static_routes(app)
    build_runtime(app, hub, db, settings.console)
    views.add_routes(app)
    add_canned_routes(app)  # agents search canned replies, supervisors edit them
    from bot.reports import console as figures

    figures.add_routes(app)  # supervisors and departments: the figures and their exports
    add_dashboard_routes(app)  # supervisors' dashboard and live wallboard
