"""Every answer carries a Content-Security-Policy that lets a page load only from this
server and run no inline script or style; and no page of ours needs more: no inline
script, style or event handler, nothing fetched from elsewhere (the manual buy's "are
you sure?" is asked by static/js/refresh.js, not an onclick)."""

from datetime import time
from html.parser import HTMLParser

import pytest

from hedging.models import HedgeTransaction
from tests.api.fixtures import make_tx
from tests.security.test_secrets_everywhere import staff_urls

pytestmark = pytest.mark.django_db
LOADS = {"script": "src", "img": "src", "iframe": "src", "link": "href", "source": "src", "embed": "src"}


class Blocked(HTMLParser):
    """What the policy would block in a page: inline code and style, outside loads."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "style" or (tag == "script" and "src" not in attrs and attrs.get("type") != "application/json"):
            self.found.append(f"inline <{tag}>")
        self.found += [f"{tag} {name}=" for name in attrs if name == "style" or name.startswith("on")]
        self.found += [f"{tag} {name}={value}" for name, value in attrs.items() if (value or "").startswith("javascript:")]
        url = attrs.get(LOADS.get(tag, ""), "") or ""
        if url.startswith(("http:", "https:", "//")):
            self.found.append(f"{tag} from {url}")


def blocked(html: str) -> list[str]:
    parser = Blocked()
    parser.feed(html)
    return parser.found


def test_the_policy_is_sent_with_every_answer(client, staff):
    client.force_login(staff)
    for url in ("/", "/accounts/login/", "/admin/", "/api/hedge/schedule", "/no/such/page"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'", (url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_no_page_needs_more_than_the_policy_allows(client, staff, trading_day):
    make_tx(trading_day, time(9, 40))
    client.force_login(staff)
    pks = {"plan": trading_day.pk, "session": trading_day.pk, "transaction": HedgeTransaction.objects.get().pk,
           "schedule": trading_day.account.schedules.first().pk}
    pages = {url: client.get(url) for url in staff_urls(pks)}
    html = {url: page.content.decode() for url, page in pages.items() if page["Content-Type"].startswith("text/html")}
    assert len(html) > 40 and 'data-confirm="Buy 1 hedge basket now?"' in html["/"]
    assert {url: blocked(text) for url, text in html.items() if blocked(text)} == {}


def test_the_checker_sees_what_the_policy_blocks():
    page = ('<script>alert(1)</script><p style="color:red" onclick="x()">'
            '<script src="https://cdn.example/x.js"></script><a href="javascript:x()">')
    assert len(blocked(page)) == 5
    assert blocked('<script src="/static/js/refresh.js"></script><link rel="icon" href="data:,">') == []
