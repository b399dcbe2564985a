"""The console's settings: service hours, presence and sweep timing.

They are read from the environment with every other setting
(:class:`bot.config.ConsoleSettings`, ``settings.console``); this module
keeps the names the console uses for them.
"""

from __future__ import annotations

from bot.config import ConsoleSettings, ServiceHours

#: The console's timings (seconds) and service hours: ``Settings.console``.
ConsoleConfig = ConsoleSettings

__all__ = ["ConsoleConfig", "ServiceHours"]
