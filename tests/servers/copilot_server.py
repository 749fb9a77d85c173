"""A fake GitHub + Copilot API on 127.0.0.1, one server for all of it:

- the OAuth device flow (``/login/device/code``, ``/login/oauth/access_token``, every answer 200);
- the token exchange (``/copilot_internal/v2/token``, ``Authorization: token ...``);
- the Copilot API (``endpoints.api`` points back here): ``/models``, ``/chat/completions`` (OpenAI
  SSE with Azure-style quirks), ``/v1/messages`` (Anthropic SSE), and Copilot's error shapes.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from .anthropic_server import check_messages_body, write_messages_stream
from .base import FakeService, Handler, Script, last_user_text, serve_forever, split_tokens

GITHUB_TOKEN = "ghu_fakeGitHubToken0123456789"
USER_CODE = "WDJB-MJHT"
REQUIRED_HEADERS = (
    "Copilot-Integration-Id",
    "Editor-Version",
    "Editor-Plugin-Version",
    "User-Agent",
    "Openai-Intent",
    "X-GitHub-Api-Version",
    "X-Request-Id",
    "X-Initiator",
)


def catalog_entry(model_id: str, endpoints: list[str] | None, **over: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model_id,
        "name": model_id.upper(),
        "object": "model",
        "vendor": "OpenAI",
        "version": model_id,
        "preview": False,
        "model_picker_enabled": True,
        "is_chat_default": False,
        "is_chat_fallback": False,
        "billing": {"is_premium": False, "multiplier": 0},
        "capabilities": {
            "family": model_id,
            "type": "chat",
            "tokenizer": "o200k_base",
            "limits": {
                "max_context_window_tokens": 128000,
                "max_output_tokens": 16384,
                "max_prompt_tokens": 64000,
            },
            "supports": {"streaming": True, "tool_calls": True},
        },
        "policy": {"state": "enabled", "terms": "Enable access"},
    }
    if endpoints is not None:
        entry["supported_endpoints"] = endpoints
    entry.update(over)
    return entry


def default_catalog() -> list[Any]:
    return [
        catalog_entry("gpt-4.1", ["/chat/completions", "/responses"], is_chat_default=True),
        catalog_entry("gpt-4o", None),  # older catalogs have no supported_endpoints
        catalog_entry(
            "claude-sonnet-4.5",
            ["/v1/messages"],
            vendor="Anthropic",
            billing={"is_premium": True, "multiplier": 1},
        ),
        catalog_entry("gpt-5-codex", ["/responses"]),
        catalog_entry(
            "gemini-2.5-pro",
            ["/chat/completions"],
            policy={"state": "requires_consent", "terms": "..."},
        ),
        catalog_entry(
            "text-embedding-3-small",
            None,
            model_picker_enabled=False,
            capabilities={"type": "embeddings", "family": "text-embedding-3-small"},
        ),
        catalog_entry("gpt-4-internal", ["/chat/completions"], model_picker_enabled=False),
        {"id": 42, "name": "broken"},
        "not an object",
        {"name": "no id"},
    ]


def copilot_error(message: str, code: str, type_: str = "invalid_request_error") -> str:
    return json.dumps(
        {"error": {"message": message, "code": code, "param": "model", "type": type_}}
    )


def sse(payload: Any) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


class _CopilotHandler(Handler):
    def route(self, method: str) -> None:
        fake: FakeCopilot = self.fake  # type: ignore[assignment]
        _, body = self.read_body() if method == "POST" else (b"", None)
        path = self.path.split("?")[0]
        rec = self.record(body)
        try:
            if path == "/login/device/code" and method == "POST":
                return self._device_code(fake, body)
            if path == "/login/oauth/access_token" and method == "POST":
                return self._access_token(fake, body)
            if path == "/copilot_internal/v2/token" and method == "GET":
                return self._exchange(fake)
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            rec["copilot_token"] = token
            with fake.lock:
                known, expired = token in fake.issued, token in fake.expired
            if not known or expired:
                self.send_body(401, "unauthorized: token expired\n", "text/plain")
                return
            missing = [h for h in REQUIRED_HEADERS if not self.headers.get(h)]
            if path == "/models" and method == "GET":
                self.send_body(200, {"object": "list", "data": fake.catalog})
                return
            if missing:
                self.send_body(
                    400,
                    {
                        "error": {
                            "message": f"missing required headers: {', '.join(missing)}",
                            "code": "bad_request",
                        }
                    },
                )
                return
            if path == "/chat/completions" and method == "POST":
                return self._chat(fake, body)
            if path == "/v1/messages" and method == "POST":
                return self._messages(fake, body)
            self.send_body(404, "404 page not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- github.com ----------------------------------------------------------------------

    def _device_code(self, fake: FakeCopilot, body: Any) -> None:
        if not isinstance(body, dict) or body.get("client_id") != fake.client_id:
            self.send_body(
                200, {"error": "unauthorized_client", "error_description": "bad client_id"}
            )
            return
        self.send_body(
            200,
            {
                "device_code": "dc-123",
                "user_code": USER_CODE,
                "verification_uri": f"{fake.url}/login/device",
                "expires_in": 900,
                "interval": fake.interval,
            },
        )

    def _access_token(self, fake: FakeCopilot, body: Any) -> None:
        if (
            not isinstance(body, dict)
            or body.get("device_code") != "dc-123"
            or body.get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code"
        ):
            self.send_body(200, {"error": "incorrect_device_code"})
            return
        with fake.lock:
            answer = (
                fake.poll_answers.pop(0) if len(fake.poll_answers) > 1 else fake.poll_answers[0]
            )
        self.send_body(200, answer)

    def _exchange(self, fake: FakeCopilot) -> None:
        if self.headers.get("Authorization") != f"token {fake.github_token}":
            self.send_body(
                401,
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
            )
            return
        if fake.no_access:
            self.send_body(
                403,
                {
                    "message": "Resource not accessible by personal access token",
                    "documentation_url": "https://docs.github.com/rest/copilot",
                },
            )
            return
        with fake.lock:
            n = next(fake.counter)
            token = f"tid=fake{n};exp={int(time.time()) + 1800};sku=copilot_for_individuals"
            fake.issued.append(token)
            fake.exchanges += 1
        self.send_body(
            200,
            {
                "token": token,
                "expires_at": int(time.time()) + 1800,
                "refresh_in": 1500,
                "endpoints": {"api": fake.url, "telemetry": fake.url},
                "chat_enabled": True,
                "sku": "copilot_for_individuals",
                "tracking_id": "t",
            },
        )

    # -- the Copilot API -----------------------------------------------------------------

    def _entry(self, fake: FakeCopilot, model: str) -> dict[str, Any] | None:
        return next((e for e in fake.catalog if isinstance(e, dict) and e.get("id") == model), None)

    def _route_error(self, fake: FakeCopilot, model: str, endpoint: str) -> bool:
        entry = self._entry(fake, model)
        if entry is None:
            self.send_body(
                400, copilot_error("The requested model is not supported.", "model_not_supported")
            )
            return True
        endpoints = entry.get("supported_endpoints")
        if endpoints is None:
            endpoints = ["/chat/completions"]
        if endpoint not in endpoints:
            self.send_body(
                400,
                copilot_error(
                    f'model "{model}" is not accessible via the {endpoint} endpoint',
                    "unsupported_api_for_model",
                ),
            )
            return True
        return False

    def _scripted_failure(self, script: Script) -> bool:
        if script.status == 200:
            return False
        self.send_body(
            script.status,
            script.error_body or copilot_error("failure", "server_error", "server_error"),
            script.content_type,
            script.headers,
        )
        return True

    def _chat(self, fake: FakeCopilot, body: Any) -> None:
        model = body.get("model", "") if isinstance(body, dict) else ""
        if self._route_error(fake, model, "/chat/completions"):
            return
        script = fake.next_script(model)
        if self._scripted_failure(script):
            return
        text = (
            script.text
            if script.text is not None
            else f"Echo: {last_user_text(body.get('messages'))}"
        )
        chunks = list(script.chunks) if script.chunks is not None else split_tokens(text)

        def chunk(choice: dict[str, Any] | None, **extra: Any) -> bytes:
            return sse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": model,
                    "choices": [choice] if choice else [],
                    **extra,
                }
            )

        with self.streaming(script):
            self.start_stream("text/event-stream")
            w = self.write
            if script.quirks:
                w(
                    sse(
                        {
                            "choices": [],
                            "created": 0,
                            "id": "",
                            "model": "",
                            "object": "",
                            "prompt_filter_results": [
                                {
                                    "prompt_index": 0,
                                    "content_filter_results": {
                                        "hate": {"filtered": False, "severity": "safe"}
                                    },
                                }
                            ],
                        }
                    )
                )
                w(
                    chunk(
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": None},
                            "finish_reason": None,
                        }
                    )
                )
                w(
                    chunk(
                        {
                            "index": 0,
                            "content_filter_offsets": {
                                "check_offset": 0,
                                "start_offset": 0,
                                "end_offset": 0,
                            },
                        }
                    )
                )
            for i, piece in enumerate(chunks):
                if script.error_at == i:
                    w(
                        sse(
                            {
                                "error": {
                                    "message": "upstream model error",
                                    "code": "model_error",
                                    "type": "server_error",
                                }
                            }
                        )
                    )
                    return
                if script.truncate_at == i:
                    return
                choice: dict[str, Any] = {
                    "index": 0,
                    "delta": {"content": piece},
                    "finish_reason": None,
                }
                if script.quirks:
                    choice["content_filter_results"] = {
                        "hate": {"filtered": False, "severity": "safe"}
                    }
                w(chunk(choice), script)
                if script.ping:
                    w(b": ping\n\n")
            w(chunk({"index": 0, "delta": {"content": None}, "finish_reason": "stop"}))
            w(
                chunk(
                    None,
                    usage={
                        "prompt_tokens": 9,
                        "completion_tokens": len(chunks),
                        "total_tokens": 9 + len(chunks),
                        "prompt_tokens_details": {"cached_tokens": 0},
                    },
                )
            )
            w(b"data: [DONE]\n\n")

    def _messages(self, fake: FakeCopilot, body: Any) -> None:
        model = body.get("model", "") if isinstance(body, dict) else ""
        if self._route_error(fake, model, "/v1/messages"):
            return
        problem = check_messages_body(body)
        if problem:
            self.send_body(
                400,
                {"type": "error", "error": {"type": "invalid_request_error", "message": problem}},
            )
            return
        script = fake.next_script(model)
        if self._scripted_failure(script):
            return
        text = (
            script.text
            if script.text is not None
            else f"Echo: {last_user_text(body.get('messages'))}"
        )
        with self.streaming(script):
            write_messages_stream(self, script, model, text)


class FakeCopilot(FakeService):
    handler = _CopilotHandler

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.client_id = "Iv1.b507a08c87ecfe98"
        self.github_token = GITHUB_TOKEN
        self.interval = 0
        self.poll_answers: list[dict[str, Any]] = []
        self.no_access = False
        self.catalog: list[Any] = default_catalog()
        self.issued: list[str] = []
        self.expired: set[str] = set()
        self.exchanges = 0
        self.counter = itertools.count(1)
        self.approve()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.interval = 0
            self.no_access = False
            self.catalog = default_catalog()
            self.issued.clear()
            self.expired.clear()
            self.exchanges = 0
        self.approve()

    def approve(self, *before: dict[str, Any]) -> None:
        """Poll answers: ``before`` (e.g. authorization_pending), then the token."""
        self.poll_answers = [
            *before,
            {"access_token": self.github_token, "token_type": "bearer", "scope": ""},
        ]

    def expire_issued(self) -> None:
        """Every Copilot token handed out so far now gets 401 ``unauthorized: token expired``."""
        with self.lock:
            self.expired.update(self.issued)

    def config(self, **extra: Any) -> str:
        lines = [
            "[providers.copilot]",
            'type = "copilot"',
            f'github_url = "{self.url}"',
            f'token_url = "{self.url}/copilot_internal/v2/token"',
            'transport = "http"',  # these endpoints, not the Copilot runtime
        ]
        lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
        return "\n".join(lines) + "\n"


if __name__ == "__main__":
    serve_forever(FakeCopilot(8003), "GitHub Copilot")
