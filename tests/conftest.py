import pytest
from django.db import connection

pytest_plugins = ["tests.fixtures.simbroker", "tests.fixtures.processes", "tests.fixtures.telegram", "tests.api.fixtures"]


def pytest_collection_modifyitems(config, items):
    """The suite is meant for PostgreSQL: refuse to pass on SQLite by accident."""
    if connection.vendor != "postgresql" and any("django_db" in item.keywords for item in items):
        raise pytest.UsageError(
            "Tests need PostgreSQL: run bin/test, or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/autohedge"
        )


@pytest.fixture(scope="session", autouse=True)
def fresh_market_cache():
    """Strike lists shared through Redis (by broker address) must not reach one test run
    from an earlier one."""
    from django.core.cache import caches

    caches["market"].clear()


@pytest.fixture(autouse=True)
def forget_cached_reference():
    """Holidays and margin constants are cached per process; a rolled-back test's rows
    must not outlive it."""
    from hedging.services.calculator import forget_reference

    forget_reference()
    yield
    forget_reference()


@pytest.fixture(autouse=True)
def fresh_throttles():
    """The API's per-user call counts (the process's own cache) start at zero in each test."""
    from django.core.cache import caches

    caches["default"].clear()
