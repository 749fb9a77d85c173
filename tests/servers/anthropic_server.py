"""A fake Anthropic Messages API on 127.0.0.1: ``POST /v1/messages`` (named-event SSE) and
``GET /v1/models``, with the API's header and body checks and error shapes."""

from __future__ import annotations

import json
from typing import Any

from .base import FakeService, Handler, Script, last_user_text, serve_forever, split_tokens

API_KEY = "sk-ant-test"
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5")


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_test"}


def event(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


def write_messages_stream(h: Handler, script: Script, model: str, text: str) -> None:
    """The exact event sequence of a streamed Messages reply, with scripted faults."""
    chunks = list(script.chunks) if script.chunks is not None else split_tokens(text)
    h.start_stream("text/event-stream; charset=utf-8")
    out = [
        event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": model,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                },
            },
        ),
        event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    if script.ping:
        out.append(event("ping", {"type": "ping"}))
    h.write(b"".join(out), script)
    for i, piece in enumerate(chunks):
        if script.error_at == i:
            h.write(event("error", error_body("overloaded_error", "Overloaded")), script)
            return
        if script.truncate_at == i:
            return
        data = event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
        if script.ping:
            data += event("ping", {"type": "ping"})
        h.write(data, script)
    tail = [
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(chunks)},
            },
        ),
        event("message_stop", {"type": "message_stop"}),
    ]
    h.write(b"".join(tail), script)


def check_messages_body(body: Any) -> str | None:
    """What the real API rejects with 400 invalid_request_error."""
    if not isinstance(body, dict):
        return "request body must be JSON"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required"
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if any(r not in ("user", "assistant") for r in roles):
        return 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.'
    if any(a == b for a, b in zip(roles, roles[1:], strict=False)):
        return 'messages: roles must alternate between "user" and "assistant"'
    if "system" in body and not isinstance(body["system"], (str, list)):
        return "system: Input should be a valid string"
    return None


class _AnthropicHandler(Handler):
    def route(self, method: str) -> None:
        fake: FakeAnthropic = self.fake  # type: ignore[assignment]
        raw, body = self.read_body() if method == "POST" else (b"", None)
        record = self.record(body)
        if self.headers.get("x-api-key") != fake.api_key:
            self.send_body(401, error_body("authentication_error", "invalid x-api-key"))
            return
        if self.headers.get("anthropic-version") != "2023-06-01":
            self.send_body(
                400, error_body("invalid_request_error", "anthropic-version: header is required")
            )
            return
        path = self.path.split("?")[0]
        if method == "GET" and path == "/v1/models":
            data = [
                {
                    "type": "model",
                    "id": m,
                    "display_name": m.replace("-", " ").title(),
                    "created_at": "2025-09-29T00:00:00Z",
                }
                for m in fake.models
            ]
            self.send_body(
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                },
            )
            return
        if method != "POST" or path != "/v1/messages":
            self.send_body(404, error_body("not_found_error", f"no route {self.path}"))
            return
        problem = check_messages_body(body)
        if problem:
            self.send_body(400, error_body("invalid_request_error", problem))
            return
        model = body.get("model", "")
        if model not in fake.models:
            self.send_body(404, error_body("not_found_error", f"model: {model}"))
            return
        script = fake.next_script(model)
        if script.body is not None:
            self.stream_body(script, record)
            return
        if script.status != 200:
            payload = (
                script.error_body
                if script.error_body is not None
                else error_body("api_error", "Internal server error")
            )
            self.send_body(script.status, payload, script.content_type, script.headers)
            return
        text = (
            script.text if script.text is not None else f"Echo: {last_user_text(body['messages'])}"
        )
        with self.streaming(script):
            try:
                write_messages_stream(self, script, model, text)
            except (BrokenPipeError, ConnectionResetError):
                pass


class FakeAnthropic(FakeService):
    handler = _AnthropicHandler

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.api_key = API_KEY
        self.models = list(MODELS)


if __name__ == "__main__":
    serve_forever(FakeAnthropic(8001), "Anthropic API")
