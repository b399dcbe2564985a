"""The SQL data layer shared by the front door and the action server.

``Database(url)`` or ``Database.from_settings(settings)``, then
``await db.connect()``; use ``db.tickets``, ``db.transcripts`` and
``db.events``. See docs/interfaces.md.
"""

from bot.db.crypto import DataKeyError
from bot.db.database import Database
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.events import EventRepo
from bot.db.models import Ticket, TicketEvent, TranscriptEntry
from bot.db.routing import Route, Routing, load_routing
from bot.db.tickets import TicketRepo
from bot.db.transcripts import TranscriptRepo

__all__ = [
    "ConflictError",
    "DataKeyError",
    "Database",
    "EventRepo",
    "InvalidTransition",
    "Route",
    "Routing",
    "Ticket",
    "TicketEvent",
    "TicketNotFound",
    "TicketRepo",
    "TranscriptEntry",
    "TranscriptRepo",
    "load_routing",
]
