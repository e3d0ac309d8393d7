"""Production settings: `check --deploy` clean, no start on unsafe settings, and no
development default for the OpenAlgo key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import BrokerAccountFactory, DailySessionFactory
from tests.fixtures.processes import database_url

ROOT = Path(__file__).resolve().parents[2]
SAFE = {
    "AUTOHEDGE_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-long-random-production-secret-key-9f8e7d",
    "ALLOWED_HOSTS": "hedge.example.com",
}


def without_unsafe(environ) -> dict[str, str]:
    """The environment less what production refuses or decides for itself (bin/test
    sets the fast hasher)."""
    unsafe = ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "AUTOHEDGE_FAST_PASSWORD_HASHER")
    return {k: v for k, v in environ.items() if k not in unsafe}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**without_unsafe(os.environ), **env},
                          capture_output=True, text=True)


def test_check_deploy_is_clean_in_production():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **SAFE)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    "unsafe, message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set in production"),
        ({"DEBUG": "1"}, "DEBUG must be off in production"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set in production"),
        ({"AUTOHEDGE_FAST_PASSWORD_HASHER": "1"}, "AUTOHEDGE_FAST_PASSWORD_HASHER is for tests, never production"),
    ],
)
def test_production_refuses_to_start_on_unsafe_settings(unsafe, message):
    done = manage("check", **{**SAFE, **unsafe})
    assert done.returncode != 0
    assert message in done.stderr


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_production_has_no_default_key_and_says_which_is_missing_in_one_line(monkeypatch):
    """Development gives OPENALGO_API_KEY, unset, the simulated broker's key (tests/demo);
    production does not: a command needing it names it, no traceback."""
    monkeypatch.delenv("OPENALGO_API_KEY", raising=False)
    session = DailySessionFactory(account=BrokerAccountFactory(host="http://127.0.0.1:9"))  # the default variable
    done = manage("forecast", str(session.pk), DATABASE_URL=database_url(), **SAFE)
    assert done.returncode == 1
    assert done.stderr == "CommandError: broker: No OpenAlgo API key: environment variable OPENALGO_API_KEY is empty or unset\n"
