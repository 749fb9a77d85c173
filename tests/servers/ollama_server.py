"""A fake Ollama on 127.0.0.1: ``POST /api/chat`` as NDJSON (final ``done: true`` line with
counts and nanosecond durations), ``GET /api/tags``, and ``{"error": ...}`` replies and lines."""

from __future__ import annotations

import json
from typing import Any

from .base import FakeService, Handler, last_user_text, serve_forever, split_tokens

MODELS = ("llama3.2:latest", "qwen3:8b")
CREATED = "2023-08-04T08:52:19.385406455-07:00"


def line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False) + "\n").encode()


class _OllamaHandler(Handler):
    def route(self, method: str) -> None:
        fake: FakeOllama = self.fake  # type: ignore[assignment]
        _, body = self.read_body() if method == "POST" else (b"", None)
        record = self.record(body)
        path = self.path.split("?")[0]
        if method == "GET" and path == "/api/tags":
            self.send_body(
                200,
                {
                    "models": [
                        {
                            "name": m,
                            "model": m,
                            "modified_at": CREATED,
                            "size": 2019393189,
                            "digest": "a80c4f17acd5",
                            "details": {
                                "format": "gguf",
                                "family": "llama",
                                "parameter_size": "3.2B",
                                "quantization_level": "Q4_K_M",
                            },
                        }
                        for m in fake.models
                    ]
                },
            )
            return
        if method != "POST" or path != "/api/chat":
            self.send_body(404, "404 page not found", "text/plain")
            return
        model = body.get("model", "") if isinstance(body, dict) else ""
        if model not in fake.models:
            self.send_body(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        script = fake.next_script(model)
        if script.body is not None:
            self.stream_body(script, record)
            return
        if script.status != 200:
            self.send_body(
                script.status,
                script.error_body or {"error": "scripted failure"},
                script.content_type,
                script.headers,
            )
            return
        text = (
            script.text
            if script.text is not None
            else f"Echo: {last_user_text(body.get('messages'))}"
        )
        chunks = list(script.chunks) if script.chunks is not None else split_tokens(text)
        with self.streaming(script):
            self.start_stream("application/x-ndjson")
            try:
                for i, piece in enumerate(chunks):
                    if script.error_at == i:
                        self.write(
                            line(
                                {
                                    "error": "an error was encountered while running the model: unexpected EOF"
                                }
                            ),
                            script,
                        )
                        return
                    if script.truncate_at == i:
                        return
                    self.write(
                        line(
                            {
                                "model": model,
                                "created_at": CREATED,
                                "message": {"role": "assistant", "content": piece},
                                "done": False,
                            }
                        ),
                        script,
                    )
                self.write(
                    line(
                        {
                            "model": model,
                            "created_at": CREATED,
                            "message": {"role": "assistant", "content": ""},
                            "done": True,
                            "done_reason": "stop",
                            "total_duration": 4883583458,
                            "load_duration": 1334875,
                            "prompt_eval_count": 26,
                            "prompt_eval_duration": 342546000,
                            "eval_count": len(chunks),
                            "eval_duration": 4535599000,
                        }
                    ),
                    script,
                )
            except (BrokenPipeError, ConnectionResetError):
                pass


class FakeOllama(FakeService):
    handler = _OllamaHandler

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.models = list(MODELS)


if __name__ == "__main__":
    serve_forever(FakeOllama(11435), "Ollama")
