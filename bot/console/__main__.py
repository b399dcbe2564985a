"""``python -m bot.console``: see :mod:`bot.console.cli`."""

from bot.console.cli import main

raise SystemExit(main())
