"""The simulated Bot API itself, over plain HTTP: it must refuse what Telegram refuses."""

import pytest
import requests

from hedging.telegram.simulator import EntityParseError, parse_html


def call(sim, method, **params):
    return requests.post(f"{sim.base_url}{sim.token}/{method}", data=params, timeout=5)


@pytest.mark.parametrize(
    "text, error",
    [
        ("<P&1>", 'Unsupported start tag "P&1"'),
        ("a <br> b", 'Unsupported start tag "br"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("fish & chips", "Character entity expected"),
        ("&nbsp;", "Unsupported HTML entity"),
    ],
)
def test_parse_html_refuses_like_telegram(text, error):
    with pytest.raises(EntityParseError, match=error):
        parse_html(text)


def test_parse_html_accepts_telegram_html():
    text = '<b>a</b> <a href="https://x.y/?a=1&amp;b=2">l</a> &lt;&#65;&#x42;&quot;<tg-spoiler>s</tg-spoiler>'
    assert parse_html(text) == 'a l <AB"s'


def test_send_message_answers_in_telegram_shapes(telegram_sim):
    ok = call(telegram_sim, "sendMessage", chat_id="42", text="<b>hi</b>", parse_mode="HTML")
    assert ok.status_code == 200
    assert ok.json()["ok"] is True and ok.json()["result"]["text"] == "hi"
    assert telegram_sim.messages[0].text == "<b>hi</b>"

    bad = call(telegram_sim, "sendMessage", chat_id="42", text="<P&1>", parse_mode="HTML")
    assert bad.status_code == 400
    assert bad.json()["description"].startswith("Bad Request: can't parse entities")

    long = call(telegram_sim, "sendMessage", chat_id="42", text="x" * 4097)
    assert long.json() == {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}

    telegram_sim.flood(3)
    flood = call(telegram_sim, "sendMessage", chat_id="42", text="x")
    assert flood.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert len(telegram_sim.messages) == 1


def test_json_bodies_and_wrong_token(telegram_sim):
    url = f"{telegram_sim.base_url}{telegram_sim.token}/sendMessage"
    assert requests.post(url, json={"chat_id": 7, "text": "json"}, timeout=5).json()["ok"] is True
    assert telegram_sim.sent_to("7")[0].text == "json"
    wrong = requests.post(f"{telegram_sim.base_url}1:wrong/getMe", timeout=5)
    assert wrong.status_code == 401


def test_per_chat_rate_is_enforced_when_asked(telegram_sim):
    now = [100.0]
    telegram_sim.clock = lambda: now[0]
    telegram_sim.per_chat_interval = 1.0
    assert call(telegram_sim, "sendMessage", chat_id="42", text="one").status_code == 200
    assert call(telegram_sim, "sendMessage", chat_id="42", text="two").status_code == 429
    assert call(telegram_sim, "sendMessage", chat_id="43", text="other chat").status_code == 200
    now[0] += 1.0
    assert call(telegram_sim, "sendMessage", chat_id="42", text="two").status_code == 200


def test_control_paths_for_the_demo(telegram_sim):
    root = telegram_sim.base_url.removesuffix("/bot")
    requests.post(f"{root}/_sim/updates", json={"chat_id": "42", "text": "/status"}, timeout=5)
    updates = call(telegram_sim, "getUpdates", timeout="0").json()["result"]
    assert updates[0]["message"]["text"] == "/status"
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]

    requests.post(f"{root}/_sim/faults", json={"down": True}, timeout=5)
    assert call(telegram_sim, "getMe").status_code == 502
    requests.post(f"{root}/_sim/reset", timeout=5)
    assert call(telegram_sim, "getMe").status_code == 200
    call(telegram_sim, "sendMessage", chat_id="42", text="hello")
    call(telegram_sim, "sendMessage", chat_id="42", text="<b>NIFTY</b> 58% &amp; more", parse_mode="HTML")
    sent = requests.get(f"{root}/_sim/messages", timeout=5).json()["messages"]
    assert [m["text"] for m in sent] == ["hello", "<b>NIFTY</b> 58% &amp; more"]
    shown = requests.get(f"{root}/_sim/messages", params={"format": "text"}, timeout=5)
    assert shown.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert shown.text == "── to chat 42 ──\nhello\n\n── to chat 42 ──\nNIFTY 58% & more\n\n"
