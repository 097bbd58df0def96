"""A loopback HTTP proxy in front of the real LLM server that injects faults no real server gives on
demand (429 with Retry-After, 500, 401, replies slower than the client's timeout, dropped connections) and
counts what it delivered, per request body, so that tests can prove no successful call was repeated.

    proxy = FaultProxy("http://127.0.0.1:PORT")      # upstream, without /v1
    proxy.faults.extend(["429", "500", "slow", "drop"])   # one per incoming request, in order
    proxy.url                                         # http://127.0.0.1:PPPP/v1 for the client
    proxy.delivered                                   # body hash -> number of 200 replies fully written
    proxy.hold()/release(), proxy.hold_after = N      # park new requests (to kill a client mid-run)
    proxy.refuse_format = True                        # 400 to any request with response_format, as servers
                                                      # without structured output answer
    proxy.bodies                                      # every POST body (JSON), in arrival order
"""

import hashlib
import http.client
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FaultProxy:
    def __init__(self, upstream: str, slow_seconds: float = 3.0, retry_after: str = "1"):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.faults: list[str] = []
        self.delivered: Counter[str] = Counter()  # body hash -> 200 replies written in full
        self.usage: list[dict] = []  # the usage block of every delivered 200 reply
        self.log: list[tuple[float, str]] = []  # (time, what happened) per request, in arrival order
        self.bodies: list[dict] = []
        self.refuse_format = False
        self.lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self.waiting = 0  # requests parked by hold() or hold_after
        self.hold_after: int | None = None  # park requests arriving once this many replies were delivered
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._forward(b"")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.waiting += 1
                while not proxy._open.is_set() or (proxy.hold_after is not None
                                                   and sum(proxy.delivered.values()) >= proxy.hold_after):
                    time.sleep(0.02)
                with proxy.lock:
                    proxy.waiting -= 1
                    fault = proxy.faults.pop(0) if proxy.faults else None
                    request = json.loads(body or b"{}")
                    if fault is None and proxy.refuse_format and "response_format" in request:
                        fault = "refuse-format"
                    proxy.log.append((time.monotonic(), fault or "forward"))
                    proxy.bodies.append(request)
                if fault == "refuse-format":
                    self._reply(400, {"error": {"message": "response_format is not supported (injected)"}})
                elif fault == "429":
                    self._reply(429, {"error": {"message": "rate limited (injected)"}}, {"Retry-After": proxy.retry_after})
                elif fault == "401":  # as some servers do, the message repeats the key it was given
                    given = self.headers.get("Authorization", "")
                    self._reply(401, {"error": {"message": f"Incorrect API key provided: {given}"}})
                elif fault == "500":
                    self._reply(500, {"error": {"message": "server error (injected)"}})
                elif fault == "slow":
                    time.sleep(proxy.slow_seconds)  # the client has given up by then
                    self.close_connection = True
                elif fault == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                else:
                    try:
                        self._forward(body)
                    except (BrokenPipeError, ConnectionResetError):  # the client gave up: nothing delivered
                        self.close_connection = True

            def _forward(self, body: bytes):
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=300)
                headers = {"Content-Type": "application/json"}
                if self.headers.get("Authorization"):
                    headers["Authorization"] = self.headers["Authorization"]
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type") or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                if self.command == "POST" and answer.status == 200:
                    key = hashlib.sha256(body).hexdigest()
                    with proxy.lock:
                        proxy.delivered[key] += 1
                        proxy.usage.append(json.loads(data).get("usage") or {})

            def _reply(self, status: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
