import pytest

from tests.factories import StaffFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ravi():
    """A staff user with a known password, for the tests that type it."""
    user = StaffFactory(username="ravi")
    user.set_password(PASSWORD)
    user.save()
    return user
