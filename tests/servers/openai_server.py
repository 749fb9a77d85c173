"""A real HTTP server on 127.0.0.1 speaking the OpenAI Chat Completions wire format, scriptable.

Run by the tests in a background thread; also runnable by hand for trying the app:
``python -m tests.servers.openai_server --port 8000``.
"""

from __future__ import annotations

import argparse
import json
import re
import select
import socket
import ssl
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEMO_MARKDOWN = """Here is a short answer with **bold**, `code` and a list:

1. Create the environment: `python -m venv .venv`
2. Activate it:
   - Linux/macOS: `source .venv/bin/activate`
   - Windows: `.venv\\Scripts\\activate`

```python
import sys
print(sys.prefix)  # shows the venv path
```

| command | what it does |
|---|---|
| `pip install x` | installs x |
| `pip freeze` | lists packages |

That's all you need.
"""


@dataclass
class Script:
    """How the server answers one chat request for a model."""

    text: str | None = None  # None: echo the last user message
    chunks: list[str] | None = None  # explicit chunks (overrides text)
    delay: float = 0.0  # seconds between chunks
    first_delay: float = 0.0  # seconds before the first chunk
    usage: bool = True
    status: int = 200
    error_body: str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None  # for error bodies / raw bodies
    raw_body: bytes | None = None  # a 200 reply that is not SSE
    drop_after: int | None = None  # close the socket after N chunks
    stall_after: int | None = None  # stop sending after N chunks, keep the socket open
    malformed_at: int | None = None  # send a broken JSON chunk before chunk N
    error_at: int | None = None  # send an {"error": ...} data line before chunk N
    no_finish: bool = False  # end the body without finish_reason and [DONE]
    repeat: int = 1  # repeat the text N times (big replies)
    burst: bool = False  # every text event in one network write, as a fast server's often arrive
    body: Callable[[], Iterator[bytes]] | None = (
        None  # a 200 body written as it is generated (headers: headers)
    )
    hold_body_at: int | None = (
        None  # with body: after this many bytes, wait for the client to close (up to 60 s)
    )
    close_if_busy: bool = (
        False  # a second stream while another is open: 200, then close (llama-cpp-python)
    )
    finish_after_drops: int = (
        0  # hold the finish until that many busy streams were closed (up to 30 s)
    )
    hold_until_active: int = (
        0  # before the first chunk, wait until this many replies have streamed at once
    )
    hold_at: int | None = None  # before chunk N, wait until the test calls ``release()``
    until_released: bool = False  # send the text over and over (paced by delay) until ``release()``
    # call these tools instead of answering: (name, arguments) each, streamed as OpenAI
    # ``tool_calls`` deltas (the arguments split in two pieces), finish_reason "tool_calls"
    tool_calls: list[tuple[str, dict[str, Any]]] | None = None
    echo_tool: bool = False  # answer "Read: <the last tool result>" (None text: echo the user)


def split_tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+$", text) or [text]


class _Chunked:
    """HTTP/1.1 chunked transfer encoding, so a dropped connection is detectable as such."""

    def __init__(self, raw: Any, on_end: Callable[[], None]) -> None:
        self.raw = raw
        self.on_end = on_end

    def write(self, data: bytes) -> None:
        if data:
            self.raw.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def flush(self) -> None:
        self.raw.flush()

    def end(self) -> None:
        self.on_end()
        self.raw.write(b"0\r\n\r\n")
        self.raw.flush()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE writes go out at once, as real servers do
    _record: dict[str, Any] | None = None

    def _ended(self) -> None:
        """Note when the reply ended, before its last bytes go out: once the client has them,
        the record must already say so (the thread writing them may run later)."""
        if self._record is not None:
            with self.server.fake.lock:
                if self._record["end"] is None:
                    self._record["end"] = time.monotonic()

    def log_message(self, format: str, *args: Any) -> None:  # silence
        pass

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._ended()
        self.wfile.write(body)

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path.rstrip("/").endswith("/models"):
            if fake.models_script is not None:
                self.record = fake.models_record = {"sent": 0, "closed": False, "end": None}
                try:
                    self._stream_body(fake.models_script)
                finally:
                    self.record["end"] = time.monotonic()
                return
            if fake.models_status != 200:
                self._send_json(fake.models_status, {"error": {"message": "models unavailable"}})
                return
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": m, "object": "model"} for m in fake.model_ids()],
                },
            )
            return
        self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            self._send_json(400, {"error": {"message": "invalid JSON body"}})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        model = body.get("model", "")
        record = {
            "model": model,
            "body": body,
            "headers": dict(self.headers),
            "start": time.monotonic(),
            "end": None,
            "sent": 0,
            "closed": False,
            "dropped": False,
        }
        self.record = self._record = record
        with fake.lock:
            fake.requests.append(record)
            fake.active += 1
            fake.max_active = max(fake.max_active, fake.active)
            busy = fake.active > 1
            fake.cond.notify_all()
        try:
            self._chat(fake, model, body, record, busy)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self._ended()
            with fake.lock:
                fake.active -= 1
                fake.cond.notify_all()

    def _tool_calls(
        self,
        w: _Chunked,
        chunk: Callable[..., bytes],
        calls: list[tuple[str, dict[str, Any]]],
        request_no: int,
    ) -> None:
        for delta in _tool_call_deltas(calls, request_no):
            w.write(chunk(delta))
            w.flush()
        w.write(chunk({}, "tool_calls"))
        w.write(b"data: [DONE]\n\n")
        w.end()

    def _client_closed(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the client to close its end (it sends nothing more)."""
        stop = self.server.fake.stop_event
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True
        return False

    def _stream_body(self, script: Script) -> None:
        """A 200 whose body is generated as it is written (chunked), recording what was sent and
        whether the client closed the connection before the end."""
        assert script.body is not None
        record = self.record
        self.send_response(200)
        self.send_header("Content-Type", script.content_type or "text/event-stream")
        for k, v in script.headers.items():
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        w = _Chunked(self.wfile, self._ended)
        try:
            for piece in script.body():
                w.write(piece)
                w.flush()
                record["sent"] += len(piece)
                if (
                    script.hold_body_at is not None
                    and record["sent"] >= script.hold_body_at
                    and not record.get("held")
                ):
                    record["held"] = True
                    if self._client_closed(60):
                        record["closed"] = True
                        return
            w.end()
        except (BrokenPipeError, ConnectionResetError):
            record["closed"] = True

    def _chat(
        self,
        fake: FakeOpenAI,
        model: str,
        body: dict[str, Any],
        record: dict[str, Any],
        busy: bool = False,
    ) -> None:
        script = fake.next_script(model)
        if script is not None and script.close_if_busy and busy:
            # what llama-cpp-python's server does to a second concurrent stream
            self.record["dropped"] = True
            with fake.lock:
                fake.drops += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if script is not None and script.body is not None:
            self._stream_body(script)
            return
        if script is None:
            self._send_json(
                404,
                {
                    "error": {
                        "message": f"The model `{model}` does not exist",
                        "code": "model_not_found",
                    }
                },
            )
            return
        if script.status != 200:
            payload = (
                script.error_body
                if script.error_body is not None
                else json.dumps(
                    {
                        "error": {
                            "message": f"scripted error {script.status}",
                            "type": "server_error",
                        }
                    }
                )
            )
            if isinstance(payload, str):  # "{auth}" echoes the credential, as some servers do
                payload = payload.replace("{auth}", self.headers.get("Authorization", ""))
            data = payload.encode() if isinstance(payload, str) else payload
            self.send_response(script.status)
            self.send_header("Content-Type", script.content_type or "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in script.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self._ended()
            self.wfile.write(data)
            return
        if script.raw_body is not None:
            self.send_response(200)
            self.send_header("Content-Type", script.content_type or "text/html")
            self.send_header("Content-Length", str(len(script.raw_body)))
            self.end_headers()
            self._ended()
            self.wfile.write(script.raw_body)
            return
        messages = body.get("messages") or []
        if script.chunks is not None:
            chunks = list(script.chunks)
        else:
            last_user = next(
                (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), ""
            )
            text = script.text if script.text is not None else f"Echo: {last_user}"
            if script.echo_tool:
                last_tool = next(
                    (m.get("content", "") for m in reversed(messages) if m.get("role") == "tool"),
                    "",
                )
                text = f"Read: {_text_of(last_tool)}"
            chunks = split_tokens(text) * script.repeat
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cid = f"chatcmpl-{len(fake.requests)}"

        def event(payload: Any) -> bytes:
            return f"data: {json.dumps(payload)}\n\n".encode()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return event(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    "usage": None,
                }
            )

        w = _Chunked(self.wfile, self._ended)
        burst: list[bytes] = []
        sent: list[str] = []
        record["sent"] = sent  # the text written so far, for tests to compare with what arrived
        released = fake.released
        w.write(b": keep-alive comment\n\n")
        w.write(chunk({"role": "assistant", "content": ""}))
        w.flush()
        if script.tool_calls:
            self._tool_calls(w, chunk, script.tool_calls, len(fake.requests))
            return
        if script.hold_until_active:
            with fake.lock:
                fake.cond.wait_for(
                    lambda: fake.max_active >= script.hold_until_active or released.is_set(),
                    timeout=30,
                )
        if script.first_delay:
            time.sleep(script.first_delay)
        if script.until_released:
            chunks = _until(released, chunks)
        for i, piece in enumerate(chunks):
            if script.malformed_at == i:
                w.write(b'data: {"choices": [{"delta": {"content": "bro\n\n')
                w.end()
                return
            if script.error_at == i:
                w.write(
                    event(
                        {
                            "error": {
                                "message": "The server had an error while processing your request.",
                                "type": "server_error",
                            }
                        }
                    )
                )
                w.end()
                return
            if script.drop_after == i:
                w.flush()
                self._ended()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if script.stall_after == i:
                w.flush()
                stall = fake.stop_event
                stall.wait(600)
                self.close_connection = True
                return
            if script.hold_at == i:
                w.flush()
                released.wait(600)
            if i and script.delay:
                time.sleep(script.delay)
            sent.append(piece)
            if script.burst:
                burst.append(chunk({"content": piece}))
                continue
            w.write(chunk({"content": piece}))
            w.flush()
        w.write(b"".join(burst))
        w.flush()
        deadline = time.monotonic() + 30
        while (
            fake.drops < script.finish_after_drops
            and time.monotonic() < deadline
            and not fake.stop_event.is_set()
        ):
            time.sleep(0.01)
        if script.no_finish:
            w.end()
            return
        w.write(chunk({}, "stop"))
        if script.usage:
            w.write(
                event(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": 1,
                        "model": model,
                        "choices": [],
                        "usage": {
                            "prompt_tokens": sum(
                                len(str(m.get("content", "")).split()) for m in messages
                            ),
                            "completion_tokens": len(sent),
                            "total_tokens": 0,
                        },
                    }
                )
            )
        w.write(b"data: [DONE]\n\n")
        w.end()


def _text_of(content: Any) -> str:
    """A message's text, whether sent as a string or as a list of text parts."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _until(released: threading.Event, pieces: list[str]) -> Iterator[str]:
    """The pieces over and over until ``released`` is set, then once more to the end: a reply
    that streams for as long as a test needs it to and still ends normally."""
    while not released.is_set():
        yield from pieces
    yield from pieces


def _tool_call_deltas(
    calls: list[tuple[str, dict[str, Any]]], request_no: int
) -> Iterator[dict[str, Any]]:
    """OpenAI's streamed tool calls: a first delta with the id and name, then the arguments in
    pieces, as the real API sends them."""
    for index, (name, arguments) in enumerate(calls):
        args = json.dumps(arguments)
        half = len(args) // 2
        yield {
            "tool_calls": [
                {
                    "index": index,
                    "id": f"call_{request_no}_{index}",
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
            ]
        }
        for piece in (args[:half], args[half:]):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenAI


class FakeOpenAI:
    """Start with ``start()``; ``base_url`` ends in ``/v1``. Scripts are per model, consumed per request."""

    DEFAULT_MODELS = ("gpt-4o-mini", "other", "slow", "demo", "fail")

    def __init__(self, port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.tls = tls  # serve HTTPS with this server context
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)  # notified whenever a reply starts or ends
        self.requests: list[dict[str, Any]] = []
        self.active = 0
        self.max_active = 0
        self.drops = 0  # streams closed by close_if_busy
        self.models_status = 200
        self.models_script: Script | None = None  # answer GET /models with this script's body
        self.models_record: dict[str, Any] | None = None
        self._scripts: dict[str, deque[Script]] = defaultdict(deque)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.released = threading.Event()
        self.reset()

    def reset(self) -> None:
        """Back to the default scripts; stalled and held replies are released first."""
        self.stop_event.set()
        self.release()
        deadline = time.monotonic() + 3
        while self.active and time.monotonic() < deadline:
            time.sleep(0.01)
        self.stop_event = threading.Event()
        self.released = threading.Event()
        with self.lock:
            self._scripts.clear()
            self.requests.clear()
            self.max_active = 0
            self.drops = 0
            self.models_status = 200
            self.models_script = None
            self.models_record = None
        self.script("gpt-4o-mini", Script())
        self.script("other", Script(text=None, delay=0.005))
        self.script("slow", Script(delay=0.05))
        self.script("demo", Script(text=DEMO_MARKDOWN, delay=0.02))
        self.script("fail", Script(status=500))

    def release(self) -> None:
        """Let replies held by ``hold_at``, ``hold_until_active`` or ``until_released`` go on."""
        self.released.set()
        with self.cond:
            self.cond.notify_all()

    def sent_for(self, prompt: str) -> str:
        """The reply text written so far to the one request whose last message is ``prompt``."""
        with self.lock:
            [record] = [
                r
                for r in self.requests
                if (r["body"].get("messages") or [{}])[-1].get("content") == prompt
            ]
            return "".join(record.get("sent", []))

    def script(self, model: str, *scripts: Script) -> None:
        """Answer the next requests for ``model`` with these scripts; the last one repeats."""
        with self.lock:
            self._scripts[model] = deque(scripts)

    def next_script(self, model: str) -> Script | None:
        with self.lock:
            queue = self._scripts.get(model)
            if not queue:
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def model_ids(self) -> list[str]:
        with self.lock:
            return sorted(self._scripts)

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["model"] == model]

    def start(self) -> FakeOpenAI:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.fake = self
        if self.tls is not None:  # handshakes happen in accept(); a failed one is dropped
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Fake OpenAI-compatible server for trying copilot-tui."
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between tokens")
    args = parser.parse_args()
    fake = FakeOpenAI(args.port).start()
    fake.script("gpt-4o-mini", Script(delay=args.delay))
    fake.script("other", Script(delay=args.delay * 2))
    fake.script("slow", Script(delay=args.delay * 5))
    fake.script("demo", Script(text=DEMO_MARKDOWN, delay=args.delay))
    print(f"fake OpenAI server on {fake.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
