"""A simulated Telegram Bot API server, so the demo and the tests never touch Telegram.

It answers the Bot API paths python-telegram-bot uses (`/bot<token>/<method>`) in
Telegram's shapes, records every call and every accepted message, checks HTML parse mode
and message length as Telegram does, can enforce a per-chat rate, and injects faults:
flood control (429 with `retry_after`), a blocked bot (403), a missing chat (400),
an outage (502) and latency. Incoming user messages are queued for `getUpdates`.

Loopback only. `start()` serves it from a background thread; `manage.py simtelegram`
serves it for the demo, where the `/_sim/...` control paths stand in for the Python API
(`GET /_sim/messages?format=text`: what the chats were sent, as plain text).
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from brokers.simbroker.server import LoopbackHTTPServer

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:SIM-not-a-real-token_0123456789abcdef"
MAX_MESSAGE_LENGTH = 4096
MAX_POLL_SECONDS = 50.0
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Auto-Hedge (simulated)",
    "username": "autohedge_sim_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Telegram's HTML parse mode: these tags, and only these named entities.
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
    "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([a-z][a-z0-9-]*)(\s[^<>]*)?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)

Answer = tuple[int, dict[str, Any]]
Reply = tuple[int, dict[str, Any] | str]  # a control path may answer plain text


class EntityParseError(ValueError):
    pass


def parse_html(text: str) -> str:
    """The visible text of an HTML-mode message, or EntityParseError as Telegram reports it."""
    visible: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG.match(text, i)
            if not match or match.group(2).lower() not in ALLOWED_TAGS:
                name = match.group(2) if match else text[i + 1 : i + 11].split(">")[0]
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}')
            closing, name = match.group(1) == "/", match.group(2).lower()
            if not closing:
                open_tags.append(name)
            elif not open_tags or open_tags[-1] != name:
                expected = open_tags[-1] if open_tags else ""
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_offset(text, i)}, "
                    f'expected "</{expected}>", found "</{name}>"'
                )
            else:
                open_tags.pop()
            i = match.end()
        elif char == "&":
            match = _ENTITY.match(text, i)
            if not match:
                raise EntityParseError(f"Character entity expected at byte offset {_offset(text, i)}")
            visible.append(_decode_entity(match.group(1), _offset(text, i)))
            i = match.end()
        else:
            visible.append(char)
            i += 1
    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(visible)


def _decode_entity(body: str, offset: int) -> str:
    if body.startswith("#"):
        number = int(body[2:], 16) if body[1:2].lower() == "x" else int(body[1:])
        return chr(number)
    if body.lower() not in NAMED_ENTITIES:
        raise EntityParseError(f'Unsupported HTML entity "&{body};" at byte offset {offset}')
    return NAMED_ENTITIES[body.lower()]


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, description: str, **parameters: Any) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}


def _chat(chat_id: str) -> dict[str, Any]:
    if chat_id.lstrip("-").isdigit():
        kind = "group" if chat_id.startswith("-") else "private"
        return {"id": int(chat_id), "type": kind, "title" if kind == "group" else "first_name": "Trader"}
    # "@channel": Telegram answers with the channel's numeric id.
    channel_id = -1000000000000 - zlib.crc32(chat_id.encode())
    return {"id": channel_id, "type": "channel", "username": chat_id.lstrip("@")}


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the simulated Telegram accepted from the bot."""

    chat_id: str
    text: str
    parse_mode: str | None
    time: float
    message_id: int


@dataclass(frozen=True)
class ApiCall:
    """Any request to the Bot API, accepted or refused."""

    method: str
    chat_id: str | None
    status: int
    time: float


class TelegramSim:
    """State and answers of the simulated Bot API, shared by the server's threads.

    `clock` timestamps calls and drives the optional per-chat rate check
    (`per_chat_interval` seconds between two messages to one chat; None: no check).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        clock: Callable[[], float] = time.time,
        per_chat_interval: float | None = None,
    ):
        self.token = token
        self.clock = clock
        self.per_chat_interval = per_chat_interval
        self.base_url: str | None = None  # set by start()
        self.messages: list[ReceivedMessage] = []
        self.calls: list[ApiCall] = []
        self.commands: list[dict[str, str]] = []
        self._cond = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._last_sent: dict[str, float] = {}
        self._closing = False
        self.clear_faults()

    # -- fault controls -------------------------------------------------------------

    def clear_faults(self) -> None:
        with self._cond:
            self.down = False
            self.latency = 0.0
            self._retry_after: list[int] = []
            self._blocked: set[str] = set()
            self._missing: set[str] = set()

    def flood(self, retry_after: int, times: int = 1) -> None:
        """The next `times` sendMessage calls get 429 with `retry_after` seconds."""
        with self._cond:
            self._retry_after.extend([retry_after] * times)

    def block(self, chat_id: str) -> None:
        """The user of `chat_id` blocked the bot: 403 from now on."""
        with self._cond:
            self._blocked.add(str(chat_id))

    def lose_chat(self, chat_id: str) -> None:
        """`chat_id` no longer exists: 400 "chat not found" from now on."""
        with self._cond:
            self._missing.add(str(chat_id))

    def set_down(self, down: bool = True) -> None:
        """While down, every call gets 502 Bad Gateway, as from Telegram's front end."""
        with self._cond:
            self.down = down

    # -- incoming updates --------------------------------------------------------------

    def push_update(self, chat_id: str, text: str, *, username: str = "trader") -> int:
        """Queue a message from a user in `chat_id` for the bot's getUpdates; returns its update_id."""
        chat = _chat(str(chat_id))
        message: dict[str, Any] = {
            "message_id": 0,
            "date": int(self.clock()),
            "chat": chat,
            "from": {"id": abs(chat["id"]), "is_bot": False, "first_name": "Trader", "username": username},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            message["message_id"] = self._new_message_id()
            self._updates.append({"update_id": update_id, "message": message})
            self._cond.notify_all()
        return update_id

    def sent_to(self, chat_id: str) -> list[ReceivedMessage]:
        with self._cond:
            return [m for m in self.messages if m.chat_id == str(chat_id)]

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for_messages(self, chat_id: str, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until `chat_id` has received `count` messages (or `timeout` passes)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.sent_to(chat_id)) >= count, timeout)
            return self.sent_to(chat_id)

    def close(self) -> None:
        """Release pending long polls (the server is going away)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    # -- the API -----------------------------------------------------------------------

    def answer(self, token: str, method: str, params: dict[str, Any]) -> Answer:
        """Telegram's answer (HTTP status, JSON body) to one call."""
        if self.latency:
            time.sleep(self.latency)
        with self._cond:
            status, body = self._answer_locked(token, method, params)
            self.calls.append(ApiCall(method, _str_or_none(params.get("chat_id")), status, self.clock()))
            self._cond.notify_all()
        if method.lower() == "getupdates" and status == 200 and not body["result"]:
            return self._long_poll(params)
        return status, body

    def _answer_locked(self, token: str, method: str, params: dict[str, Any]) -> Answer:
        if self.down:
            return 502, {}
        if token != self.token:
            return _error(401, "Unauthorized")
        handler = self._methods().get(method.lower())
        if handler is None:
            return _error(404, "Not Found")
        return handler(params)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Answer]]:
        return {
            "getme": lambda p: _ok(BOT_USER),
            "deletewebhook": lambda p: _ok(True),
            "setmycommands": self._set_commands,
            "getmycommands": lambda p: _ok(self.commands),
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
        }

    def _set_commands(self, params: dict[str, Any]) -> Answer:
        self.commands = _json_value(params.get("commands", "[]"))
        return _ok(True)

    def _get_updates(self, params: dict[str, Any]) -> Answer:
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        return _ok(self._updates[:limit])

    def _long_poll(self, params: dict[str, Any]) -> Answer:
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        with self._cond:
            self._cond.wait_for(lambda: self._updates or self._closing or self.down, timeout)
            return self._answer_locked(self.token, "getUpdates", params)

    def _send_message(self, params: dict[str, Any]) -> Answer:
        chat_id = _str_or_none(params.get("chat_id"))
        text = str(params.get("text") or "")
        parse_mode = _str_or_none(params.get("parse_mode"))
        if chat_id is None:
            return _error(400, "Bad Request: chat_id is empty")
        if chat_id in self._blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self._missing:
            return _error(400, "Bad Request: chat not found")
        if self._retry_after:
            seconds = self._retry_after.pop(0)
            return _error(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        wait = self._rate_wait(chat_id)
        if wait:
            return _error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        try:
            visible = parse_html(text) if (parse_mode or "").upper() == "HTML" else text
        except EntityParseError as exc:
            return _error(400, f"Bad Request: can't parse entities: {exc}")
        if not visible.strip():
            return _error(400, "Bad Request: message text is empty")
        if _utf16_length(visible) > MAX_MESSAGE_LENGTH:
            return _error(400, "Bad Request: message is too long")
        now = self.clock()
        self._last_sent[chat_id] = now
        message_id = self._new_message_id()
        self.messages.append(ReceivedMessage(chat_id, text, parse_mode, now, message_id))
        return _ok(
            {"message_id": message_id, "date": int(now), "chat": _chat(chat_id), "from": BOT_USER, "text": visible}
        )

    def _rate_wait(self, chat_id: str) -> int:
        if self.per_chat_interval is None or chat_id not in self._last_sent:
            return 0
        remaining = self._last_sent[chat_id] + self.per_chat_interval - self.clock()
        return math.ceil(remaining) if remaining > 0 else 0

    def _new_message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1

    # -- control over HTTP (the demo's separate process) -----------------------------

    def control(self, action: str, params: dict[str, Any]) -> Reply:
        if action == "messages":
            with self._cond:
                if params.get("format") == "text":
                    return 200, transcript(self.messages)
                return 200, {"messages": [asdict(m) for m in self.messages]}
        if action == "updates":
            return 200, {"update_id": self.push_update(str(params["chat_id"]), str(params["text"]))}
        if action == "faults":
            self._apply_faults(params)
            return 200, {"ok": True}
        if action == "reset":
            self.clear_faults()
            return 200, {"ok": True}
        return 404, {"error": f"unknown control {action!r}"}

    def _apply_faults(self, params: dict[str, Any]) -> None:
        if "retry_after" in params:
            self.flood(int(params["retry_after"]), int(params.get("times", 1)))
        for chat_id in params.get("blocked", []):
            self.block(str(chat_id))
        for chat_id in params.get("chat_not_found", []):
            self.lose_chat(str(chat_id))
        if "down" in params:
            self.set_down(bool(params["down"]))
        if "latency" in params:
            self.latency = float(params["latency"])


def transcript(messages: list[ReceivedMessage]) -> str:
    """The messages as a person reads them in Telegram, oldest first: HTML mode's tags
    dropped (they were parsed when accepted)."""
    shown = (parse_html(m.text) if (m.parse_mode or "").upper() == "HTML" else m.text for m in messages)
    return "".join(f"── to chat {m.chat_id} ──\n{text}\n\n" for m, text in zip(messages, shown))


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_API_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
_CONTROL_PATH = re.compile(r"^/_sim/(?P<action>[a-z_]+)$")


class _Handler(BaseHTTPRequestHandler):
    server: SimServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        params.update(self._body())
        sim = self.server.sim
        answer: Reply
        if api := _API_PATH.match(url.path):
            answer = sim.answer(api["token"], api["method"], params)
        elif control := _CONTROL_PATH.match(url.path):
            answer = sim.control(control["action"], params)
        else:
            answer = _error(404, "Not Found")
        self._reply(*answer)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        if self.headers.get_content_type() == "application/json":
            return json.loads(raw)
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}

    def _reply(self, status: int, body: dict[str, Any] | str) -> None:
        if status == 502:
            payload, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        elif isinstance(body, str):
            payload, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes the request line, which carries the token.
        method = urlsplit(self.path).path.rsplit("/", 1)[-1]
        logger.debug("simulated Telegram: %s %s", self.command, method)


class SimServer(LoopbackHTTPServer):
    daemon_threads = True  # long polls must not hold up shutdown
    request_queue_size = 64  # a notifier connects once per chat at once (5: 60 chats were reset)

    def __init__(self, sim: TelegramSim, host: str, port: int):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("The simulated Telegram serves loopback only")
        super().__init__((host, port), _Handler)
        self.sim = sim

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a long poll is normal; anything else is worth a trace.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            logger.exception("simulated Telegram: error answering %s", client_address)

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    def stop(self) -> None:
        self.sim.close()
        self.shutdown()
        self.server_close()


def start(sim: TelegramSim | None = None, port: int = 0, host: str = "127.0.0.1") -> tuple[SimServer, str]:
    """Serve `sim` (a fresh one by default) from a daemon thread; returns the server and
    the Bot API base URL to give python-telegram-bot (`Bot(token, base_url=...)`)."""
    server = SimServer(sim or TelegramSim(), host, port)
    server.sim.base_url = server.base_url
    # A short poll interval keeps stop() quick (tests start and stop one per test).
    threading.Thread(target=server.serve_forever, args=(0.05,), name="telegram-sim", daemon=True).start()
    return server, server.base_url
