"""A fake GitHub Models on 127.0.0.1: ``POST /inference/chat/completions`` (OpenAI SSE) with
GitHub's headers, ``GET /catalog/models`` (a bare JSON array), and the RateLimitReached 429s."""

from __future__ import annotations

import json
from typing import Any

from .base import FakeService, Handler, Script, last_user_text, serve_forever, split_tokens

TOKEN = "github_pat_test"
CATALOG: list[dict[str, Any]] = [
    {
        "id": "openai/gpt-4.1",
        "name": "OpenAI GPT-4.1",
        "publisher": "OpenAI",
        "registry": "azure-openai",
        "summary": "gpt-4.1",
        "html_url": "https://github.com/marketplace/models/azure-openai/gpt-4-1",
        "version": "2025-04-14",
        "capabilities": ["streaming", "tool-calling"],
        "limits": {"max_input_tokens": 1048576, "max_output_tokens": 32768},
        "rate_limit_tier": "high",
        "supported_input_modalities": ["text", "image"],
        "supported_output_modalities": ["text"],
        "tags": ["multipurpose"],
    },
    {
        "id": "meta/llama-3.3-70b-instruct",
        "name": "Llama-3.3-70B-Instruct",
        "publisher": "Meta",
        "capabilities": ["streaming"],
        "limits": {"max_input_tokens": 128000, "max_output_tokens": 4096},
        "rate_limit_tier": "high",
        "supported_output_modalities": ["text"],
    },
    {
        "id": "openai/text-embedding-3-small",
        "name": "Embedding 3 small",
        "capabilities": [],
        "supported_output_modalities": ["embeddings"],
    },
]


def rate_limit(per: str, wait: int) -> Script:
    """The 429 GitHub Models sends when a per-minute or per-day limit is hit."""
    kind = "UserByModelByMinute" if per == "minute" else "UserByModelByDay"
    limit = "10 per 60s" if per == "minute" else "50 per 86400s"
    message = (
        f"Rate limit of {limit} exceeded for {kind}. Please wait {wait} seconds before retrying."
    )
    return Script(
        status=429,
        error_body=json.dumps(
            {"error": {"code": "RateLimitReached", "message": message, "details": message}}
        ),
        headers={"x-ms-error-code": "RateLimitReached", "x-ratelimit-type": kind},
    )


def sse(payload: Any) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


class _GitHubModelsHandler(Handler):
    def route(self, method: str) -> None:
        fake: FakeGitHubModels = self.fake  # type: ignore[assignment]
        _, body = self.read_body() if method == "POST" else (b"", None)
        self.record(body)
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            self.send_body(401, {"error": {"code": "unauthorized", "message": "Bad credentials"}})
            return
        path = self.path.split("?")[0]
        if method == "GET" and path == "/catalog/models":
            self.send_body(200, CATALOG)
            return
        if method != "POST" or path != "/inference/chat/completions":
            self.send_body(404, {"message": "Not Found"})
            return
        model = body.get("model", "")
        if model not in {m["id"] for m in CATALOG}:
            self.send_body(
                400,
                {
                    "error": {
                        "code": "unknown_model",
                        "message": f"Unknown model: {model}",
                        "details": f"Unknown model: {model}",
                    }
                },
            )
            return
        script = fake.next_script(model)
        if script.status != 200:
            self.send_body(
                script.status,
                script.error_body or {"error": {"code": "InternalError", "message": "failure"}},
                script.content_type,
                script.headers,
            )
            return
        text = (
            script.text
            if script.text is not None
            else f"Echo: {last_user_text(body.get('messages'))}"
        )
        chunks = split_tokens(text)
        with self.streaming(script):
            self.start_stream("text/event-stream")
            try:
                self.write(
                    sse(
                        {
                            "choices": [],
                            "created": 0,
                            "id": "",
                            "model": "",
                            "object": "",
                            "prompt_filter_results": [
                                {"prompt_index": 0, "content_filter_results": {}}
                            ],
                        }
                    )
                )
                for piece in chunks:
                    self.write(
                        sse(
                            {
                                "id": "c1",
                                "object": "chat.completion.chunk",
                                "model": model,
                                "choices": [
                                    {
                                        "index": 0,
                                        "delta": {"content": piece},
                                        "finish_reason": None,
                                        "content_filter_results": {
                                            "hate": {"filtered": False, "severity": "safe"}
                                        },
                                    }
                                ],
                            }
                        )
                    )
                self.write(
                    sse(
                        {
                            "id": "c1",
                            "object": "chat.completion.chunk",
                            "model": model,
                            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                        }
                    )
                )
                self.write(
                    sse(
                        {
                            "id": "c1",
                            "object": "chat.completion.chunk",
                            "model": model,
                            "choices": [],
                            "usage": {
                                "prompt_tokens": 5,
                                "completion_tokens": len(chunks),
                                "total_tokens": 5 + len(chunks),
                            },
                        }
                    )
                )
                self.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                pass


class FakeGitHubModels(FakeService):
    handler = _GitHubModelsHandler

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.token = TOKEN


if __name__ == "__main__":
    serve_forever(FakeGitHubModels(8002), "GitHub Models")
