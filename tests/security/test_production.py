"""Production as the Procfile runs it: the web line (migrate, collectstatic, gunicorn on
0.0.0.0) with production settings serves the static files itself (WhiteNoise), and
believes X-Forwarded-Proto and X-Forwarded-For only from the proxy named in
AUTOHEDGE_PROXY_IPS: from anyone else, "I came over HTTPS" still gets the redirect to
HTTPS, and a made-up client address does not escape a login lock."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from tests.fixtures.processes import ROOT, database_url
from tests.security.conftest import PASSWORD
from tests.security.test_guessing import log_in
from tests.security.test_settings import SAFE, without_unsafe

pytestmark = pytest.mark.django_db
HTTPS = {"X-Forwarded-Proto": "https"}


def web_line() -> str:
    (line,) = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")]
    return line.removeprefix("web:").strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def production(tmp_path, **env):
    """The Procfile's web line on a free port, against the test database; its URL."""
    port = free_port()
    env = {**without_unsafe(os.environ), **SAFE, "ALLOWED_HOSTS": "127.0.0.1", "DATABASE_URL": database_url(), "PORT": str(port),
           "STATIC_ROOT": str(tmp_path / "static"), "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
           **env}
    log = open(tmp_path / "web.log", "wb")
    process = subprocess.Popen(["sh", "-c", web_line()], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def get(url, **headers):
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10)


def test_static_files_are_served_behind_the_proxy(tmp_path):
    with production(tmp_path, AUTOHEDGE_PROXY_IPS="127.0.0.1") as url:
        script = get(f"{url}/static/js/refresh.js", **HTTPS)
        assert script.status_code == 200 and script.content == (ROOT / "static/js/refresh.js").read_bytes()
        login = get(f"{url}/accounts/login/", **HTTPS)
        assert login.status_code == 200 and "default-src 'self'" in login.headers["Content-Security-Policy"]
        (css,) = re.findall(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login.text)  # named by its content
        style = get(url + css, **HTTPS, **{"Accept-Encoding": "gzip"})
        assert style.status_code == 200 and style.content == (ROOT / "static/css/app.css").read_bytes()
        assert "immutable" in style.headers["Cache-Control"] and style.headers["Content-Encoding"] == "gzip"
        plain = get(f"{url}/static/js/refresh.js")  # the proxy says it came over plain HTTP
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


def test_without_a_proxy_nobody_is_believed_to_be_on_https(tmp_path):
    with production(tmp_path) as url:
        for path in ("/accounts/login/", "/static/js/refresh.js"):
            answer = get(url + path, **HTTPS)
            assert answer.status_code == 301 and answer.headers["Location"] == f"https://127.0.0.1:{url.rsplit(':', 1)[1]}{path}"


def test_a_made_up_client_address_does_not_escape_a_lock(client, ravi, settings):
    settings.AUTOHEDGE_PROXY_IPS = []
    for n in range(5):
        log_in(client, "/accounts/login/", f"guess-{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert log_in(client, "/accounts/login/", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_behind_the_proxy_each_client_has_its_own_lock(client, ravi, settings):
    settings.AUTOHEDGE_PROXY_IPS = ["127.0.0.0/8"]
    for n in range(5):
        log_in(client, "/accounts/login/", f"guess-{n}", HTTP_X_FORWARDED_FOR="203.0.113.5")
    # The proxy appends the address it saw: what the client wrote before it counts for nothing.
    assert log_in(client, "/accounts/login/", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5").status_code == 429
    assert log_in(client, "/accounts/login/", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.7").status_code == 302
