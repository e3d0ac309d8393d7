import pytest
import responses


@pytest.fixture
def api():
    """Every HTTP call answered by `responses`; an unexpected call fails the test."""
    with responses.RequestsMock() as mock:
        yield mock
