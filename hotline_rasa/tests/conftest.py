"""Tests of hotline_rasa, run by Rasa's own environment (.venv-rasa).

Nothing here imports bot/, channels/, actions/ or tests/: that code is the
app's (Python 3.13, SQLAlchemy 2) and is never loaded next to Rasa. What
both sides must agree on is shared as data (tests/data/masking_cases.json)
or checked over HTTP (tests/rasa/, run by the app's environment).

pytest-asyncio is not installed here: an ``async def`` test runs in a fresh
event loop of its own (``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
