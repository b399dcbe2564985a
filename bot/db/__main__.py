"""``python -m bot.db``: see ``bot.db.cli``."""

from bot.db.cli import main

raise SystemExit(main())
