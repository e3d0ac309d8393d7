"""The decision core is pure (hedging/core imports no Django, no database, no Redis):
its tests run with neither PostgreSQL nor Redis up (.ci/run checks it)."""

import pytest


@pytest.fixture(scope="session")
def fresh_market_cache():
    """The suite's session-wide clearing of the market cache (Redis): nothing to clear here."""
