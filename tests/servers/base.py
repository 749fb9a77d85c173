"""Plumbing shared by the fake service servers: a threaded HTTP server on 127.0.0.1 that
records every request, counts overlapping streams, and answers from per-key scripts."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """How a fake answers one chat request."""

    text: str | None = None  # None: echo the last user message
    chunks: list[str] | None = None
    status: int = 200
    error_body: str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    error_at: int | None = None  # an in-stream error before chunk N
    truncate_at: int | None = None  # end the body before chunk N, without the end marker
    ping: bool = False  # keep-alives between chunks (Anthropic ping, SSE comments)
    quirks: bool = False  # service-specific oddities real servers send
    byte_split: int | None = None  # write the body N bytes at a time
    hold_until_active: int = 0  # wait (up to 5 s) until this many streams have been open at once
    body: Callable[[], Iterator[bytes]] | None = None  # a 200 body written as it is generated
    hold_body_at: int | None = (
        None  # with body: after this many bytes, wait for the client to close
    )


def split_tokens(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeService:
        return self.server.fake

    def read_body(self) -> tuple[bytes, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        if "x-www-form-urlencoded" in ctype:
            from urllib.parse import parse_qsl

            return raw, dict(parse_qsl(raw.decode()))
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def send_body(
        self,
        status: int,
        body: bytes | str | Any,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def write(self, data: bytes, script: Script | None = None) -> None:
        step = script.byte_split if script and script.byte_split else 0
        if step:
            for i in range(0, len(data), step):
                self.wfile.write(data[i : i + step])
                self.wfile.flush()
        else:
            self.wfile.write(data)
            self.wfile.flush()

    def record(self, body: Any, **extra: Any) -> dict[str, Any]:
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers),
            "body": body,
            **extra,
        }
        with self.fake.lock:
            self.fake.requests.append(rec)
        return rec

    def stream_body(self, script: Script, record: dict[str, Any]) -> None:
        """A 200 whose body (``script.body``, with ``script.headers``) is generated as it is
        written until the connection closes, recording in ``record`` the bytes sent, whether the
        client closed first, and when the handler ended."""
        assert script.body is not None
        record.update(sent=0, closed=False, held=False, end=None)
        self.send_response(200)
        self.send_header("Content-Type", script.content_type)
        for k, v in script.headers.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for piece in script.body():
                self.wfile.write(piece)
                self.wfile.flush()
                record["sent"] += len(piece)
                if script.hold_body_at is not None and record["sent"] >= script.hold_body_at:
                    record["held"] = True
                    record["closed"] = self._client_closed(60)
                    return
        except (BrokenPipeError, ConnectionResetError):
            record["closed"] = True
        finally:
            record["end"] = time.monotonic()

    def _client_closed(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the client to close its end (it sends nothing more)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True
        return False

    def streaming(self, script: Script) -> _Active:
        return _Active(self.fake, script)

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def route(self, method: str) -> None:
        raise NotImplementedError


class _Active:
    """Counts a stream as open; optionally waits for others so the overlap is seen, not timed.

    Once that many have been open together nobody waits: a stream that comes later on its
    own (the odd one behind a concurrency cap) would otherwise wait out the whole 5 s."""

    def __init__(self, fake: FakeService, script: Script) -> None:
        self.fake, self.script = fake, script

    def __enter__(self) -> None:
        with self.fake.cond:
            self.fake.active += 1
            self.fake.max_active = max(self.fake.max_active, self.fake.active)
            self.fake.cond.notify_all()
            if self.script.hold_until_active:
                self.fake.cond.wait_for(
                    lambda: self.fake.max_active >= self.script.hold_until_active, timeout=5
                )

    def __exit__(self, *exc: object) -> None:
        with self.fake.cond:
            self.fake.active -= 1
            self.fake.cond.notify_all()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeService


class FakeService:
    """Start with ``with Fake() as f``; ``script(key, ...)`` queues answers, the last one repeats."""

    handler: type[Handler] = Handler

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.requests: list[dict[str, Any]] = []
        self.active = 0
        self.max_active = 0
        self._scripts: dict[str, deque[Script]] = defaultdict(deque)
        self._server: Server | None = None

    def reset(self) -> None:
        with self.lock:
            self._scripts.clear()
            self.requests.clear()
            self.max_active = 0

    def script(self, key: str, *scripts: Script) -> None:
        with self.lock:
            self._scripts[key] = deque(scripts)

    def next_script(self, key: str) -> Script:
        with self.lock:
            queue = self._scripts.get(key)
            if not queue:
                return Script()
            return queue.popleft() if len(queue) > 1 else queue[0]

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"].split("?")[0] == path]

    def start(self) -> FakeService:
        self._server = Server(("127.0.0.1", self.port), self.handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            content = m.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def serve_forever(fake: FakeService, label: str) -> None:
    """For trying the app by hand: ``python -m tests.servers.<name>``."""
    fake.start()
    print(f"fake {label} on {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
