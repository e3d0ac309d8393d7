"""A lean HTTP/1.1 front for the fan-out's thousand simulated OpenAlgo servers.

The simulated broker's own server (brokers/simbroker/server.py) gives every connection
a thread and parses headers with the standard library's e-mail parser: about 1 ms of
CPU a request, taken from the same two cores as the workers being measured, where a
thousand traders' OpenAlgo servers would in truth run on other machines. This front
answers from one asyncio thread and reads only the request line and Content-Length.
It knows no faults and no held requests: the fan-out uses none. `latency` holds each
answer back that many seconds, without holding the thread, as a real OpenAlgo's own
trip to the broker's API would.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from http import HTTPStatus

from brokers.simbroker.server import API_PREFIX

Handle = Callable[[str, bytes], tuple[int, dict | str]]


class _Connection(asyncio.Protocol):
    def __init__(self, handle: Handle, latency: float):
        self._handle = handle
        self._latency = latency
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # asyncio sets TCP_NODELAY
        if not isinstance(transport, asyncio.Transport):  # a TCP server's always is: it writes the answers
            raise TypeError(f"a stream transport expected, not {type(transport).__name__}")
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (head_end := self._buffer.find(b"\r\n\r\n")) >= 0:
            lines = self._buffer[:head_end].decode("latin-1").split("\r\n")
            length = next((int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")), 0)
            body_end = head_end + 4 + length
            if len(self._buffer) < body_end:
                return  # the rest of the body is on its way
            body, self._buffer = self._buffer[head_end + 4:body_end], self._buffer[body_end:]
            self._answer(lines[0].split(" ")[1], body)

    def _answer(self, path: str, body: bytes) -> None:
        _, api, endpoint = path.partition(API_PREFIX)
        status, answer = self._handle(endpoint, body) if api else (404, {"message": "Not found"})
        payload = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        response = (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, HTTPStatus(status).phrase.encode(), len(payload), payload))
        if self._latency:
            asyncio.get_running_loop().call_later(self._latency, self._transport.write, response)
        else:
            self._transport.write(response)


class LeanFront:
    """Serves `handle(endpoint, body)` on a loopback port from a background thread."""

    def __init__(self, handle: Handle, latency: float = 0.0):
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(
            # A backlog for the first minute's connects: each worker process opens one to each
            # account's OpenAlgo at once (asyncio's 100 dropped some, retried a second later).
            self._loop.create_server(lambda: _Connection(handle, latency), "127.0.0.1", 0, backlog=4096))
        self.url = "http://127.0.0.1:%d" % self._server.sockets[0].getsockname()[1]
        threading.Thread(target=self._loop.run_forever, name="lean-front", daemon=True).start()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
