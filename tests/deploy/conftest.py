"""Fixtures of tests/deploy: the fake Bot API of the console's tests."""

from tests.console.conftest import fake_telegram  # noqa: F401 - the shared fixture
