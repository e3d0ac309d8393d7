"""The transactions list, its CSV export and the API list share one set of filters
(hedging/filters.py): the same names, the same values, the same refusals."""

import csv
import io
import re
from datetime import time

import pytest

from tests.api.fixtures import make_tx
from tests.factories import DailySessionFactory
from tests.fixtures.simbroker import SIM_DAY
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def trader_client(client, trader):
    client.force_login(trader)
    return client


@pytest.fixture
def actions(staff):
    session = DailySessionFactory(date=SIM_DAY)
    replay = DailySessionFactory(date=SIM_DAY, is_replay=True, replay_name="one-entry-breach")
    return {
        "auto": make_tx(session, time(9, 40), for_entries=["P2"], cost="1830.5", latency_ms=179.58974838256836),
        "manual": make_tx(session, time(11, 0), action="EXIT", cost="120", origin="manual", requested_by=staff),
        "replayed": make_tx(replay, time(10, 0), cost="650", latency_ms=None),
    }


def test_the_page_filters_by_origin_as_the_api_does(trader_client, trader_api, actions):
    page = text(trader_client.get("/transactions/", {"origin": "manual"}))
    assert "EXIT 1" in page and "BUY 1" not in page
    assert '<option value="manual" selected>Manual</option>' in page
    api = trader_api.get("/api/hedge/transactions", {"origin": "manual"}).json()
    assert [row["id"] for row in api["results"]] == [actions["manual"].pk]
    exported = csv_rows(trader_client.get("/transactions.csv", {"origin": "manual"}))
    assert [int(row["id"]) for row in exported] == [actions["manual"].pk]


@pytest.mark.parametrize(
    "params, label",
    [({"action": "HOLD"}, "Action"), ({"origin": "robot"}, "Origin"), ({"date": "24-11-2026"}, "Date"),
     ({"session": "x"}, "Session"), ({"status": "done"}, "Status")],
)
def test_a_bad_filter_on_the_page_is_a_form_error_and_shows_no_rows(trader_client, actions, params, label):
    page = text(trader_client.get("/transactions/", params))
    assert "No rows shown: fix the filter above." in page and "No hedge actions." in page
    assert "BUY 1" not in page and "EXIT 1" not in page
    assert re.search(rf"<label>{label} (?:(?!</label>).)*class=\"errorlist", page)  # under that field


@pytest.mark.parametrize(
    "params, words",
    [({"action": "HOLD"}, "Action: Select a valid choice. HOLD is not one of the available choices."),
     ({"origin": "robot"}, "Origin: Select a valid choice."),
     ({"date": "24-11-2026"}, "Date: Enter a valid date."),
     ({"session": "999999"}, "Session: No daily session has the id 999999.")],
)
def test_a_bad_filter_in_the_csv_url_is_refused_naming_the_field(trader_client, actions, params, words):
    response = trader_client.get("/transactions.csv", params)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert body.startswith("Not exported: ") and words in body
    assert "_" not in body and "non field" not in body


def test_the_csv_reads_as_a_spreadsheet_would(trader_client, actions):
    rows = {int(row["id"]): row for row in csv_rows(trader_client.get("/transactions.csv"))}
    auto, replayed = rows[actions["auto"].pk], rows[actions["replayed"].pk]
    assert auto["latency_ms"] == "180" and replayed["latency_ms"] == ""
    assert (auto["replay"], replayed["replay"]) == ("no", "yes")
    assert (auto["cost"], auto["expected_cost"], rows[actions["manual"].pk]["cost"]) == ("1830.50", "1830.50", "120.00")
    assert auto["prices"] == "CE 5.00 PE 5.00"


def test_the_sessions_api_refuses_a_replay_filter_it_cannot_read(trader_api, actions):
    response = trader_api.get("/api/hedge/session", {"is_replay": "maybe"})
    assert response.status_code == 400 and response.json() == {"is_replay": ["Give true or false."]}
    replays = trader_api.get("/api/hedge/session", {"is_replay": "true"}).json()["results"]
    assert [row["replay_name"] for row in replays] == ["one-entry-breach"]
