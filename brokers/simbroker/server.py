"""The HTTP face of a SimBroker, on loopback only.

POST /api/v1/<name>   OpenAlgo's calls, answered by SimBroker.handle
GET  /sim/orders      the order log
GET  /sim/faults      pending faults and held requests
POST /sim/faults      {"endpoint", "kind", "count"?, ...params} injects; {"clear": true} clears;
                      {"release": true} lets held requests go on
POST /sim/clock       {"set": ISO datetime} or {"advance": seconds}, for a SteppedClock
GET  /sim/state       positions, margin, time
POST /sim/reset       back to the opening account
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hedging.core.clock import SteppedClock

from .broker import SimBroker
from .faults import RequestDropped, SimulatedTimeout

API_PREFIX = "/api/v1/"
log = logging.getLogger(__name__)


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A simulator's server (the broker's, Telegram's), with the URL it answers at."""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, (bytes, bytearray)):  # typed so; a bound TCP socket's host is a str
            host = host.decode()
        return f"http://{host}:{port}"


class SimServer(LoopbackHTTPServer):
    daemon_threads = True

    def __init__(self, sim: SimBroker, host: str = "127.0.0.1", port: int = 0):
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the simulated broker binds loopback only, not {host}")
        self.sim = sim
        super().__init__((host, port), SimRequestHandler)


class SimRequestHandler(BaseHTTPRequestHandler):
    server: SimServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mount, api, endpoint = self.path.partition(API_PREFIX)
        if api:  # OpenAlgo at the root, or under a path of a reverse proxy's
            self._api(endpoint, body)
        elif self.path in CONTROL_POST:
            self._control(CONTROL_POST[self.path], body)
        else:
            self._send(404, {"message": "Not found"})

    def do_GET(self) -> None:
        if self.path in CONTROL_GET:
            self._send(200, CONTROL_GET[self.path](self.server.sim))
        else:
            self._send(404, {"message": "Not found"})

    def _api(self, endpoint: str, body: bytes) -> None:
        is_json = (self.headers.get("Content-Type") or "").split(";")[0].strip() == "application/json"
        try:
            status, answer = self.server.sim.handle(endpoint, body, self.client_address[0], json_content=is_json,
                                                    gone=self._client_gone)
        except SimulatedTimeout as late:
            time.sleep(late.seconds)
            if late.answer is None:
                self.close_connection = True
                return
            status, answer = late.answer
        except RequestDropped:
            self.close_connection = True
            return
        except Exception:  # as OpenAlgo does: a bug is a 500, not a dropped connection
            log.exception("simulated broker failed on %s", endpoint)
            status, answer = 500, {"status": "error", "message": "An unexpected error occurred"}
        self._send(status, answer)

    def _control(self, action: Any, body: bytes) -> None:
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError("expected a JSON object")
            self._send(200, action(self.server.sim, request))
        except (ValueError, TypeError, KeyError) as problem:
            self._send(400, {"error": str(problem)})

    def _client_gone(self) -> bool:
        """The client closed its end (a killed process's sockets are closed by the kernel)."""
        try:
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _send(self, status: int, answer: dict | str) -> None:
        payload = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault), as real clients do

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _orders(sim: SimBroker) -> dict:
    return {"orders": [entry.to_dict() for entry in sim.order_log]}


def _faults(sim: SimBroker) -> dict:
    return {"faults": [fault.to_dict() for fault in sim.faults.pending()],
            "held": [held.to_dict() for held in sim.faults.held()], "dropped": sim.faults.dropped(),
            "late": [late.to_dict() for late in sim.late_orders()]}


def _change_faults(sim: SimBroker, request: dict) -> dict:
    if request.get("clear"):
        sim.faults.clear()
    elif request.get("release"):
        return {"released": sim.faults.release()}
    else:
        params = {k: v for k, v in request.items() if k not in ("endpoint", "kind", "count")}
        sim.faults.inject(request["endpoint"], request["kind"], int(request.get("count", 1)), **params)
    return {"faults": [fault.to_dict() for fault in sim.faults.pending()]}


def _clock(sim: SimBroker, request: dict) -> dict:
    if not isinstance(sim.clock, SteppedClock):
        raise ValueError("the clock is not a SteppedClock")
    if "set" in request:
        moment = datetime.fromisoformat(request["set"])
        if moment.tzinfo is None:
            raise ValueError("set needs a datetime with its UTC offset, e.g. 2026-11-24T10:00:00+05:30")
        sim.clock.set(moment)
    else:
        sim.clock.advance(float(request["advance"]))
    return {"now": sim.clock.now().isoformat()}


def _reset(sim: SimBroker, request: dict) -> dict:
    sim.reset()
    return {"status": "reset"}


CONTROL_GET = {"/sim/orders": _orders, "/sim/faults": _faults, "/sim/state": lambda sim: sim.state()}
CONTROL_POST = {"/sim/faults": _change_faults, "/sim/clock": _clock, "/sim/reset": _reset}


def start_server(sim: SimBroker, port: int = 0, host: str = "127.0.0.1") -> tuple[SimServer, str]:
    """Serve `sim` from a background thread; port 0 picks a free one. Returns (server, url)."""
    server = SimServer(sim, host, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="simbroker", daemon=True).start()
    return server, server.url


def stop_server(server: SimServer) -> None:
    server.sim.faults.release(drop=True)  # no handler thread left waiting on a hold
    server.shutdown()
    server.server_close()
