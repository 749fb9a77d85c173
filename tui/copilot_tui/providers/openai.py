"""OpenAI Chat Completions (and every server that speaks it: llama.cpp, vLLM, LM Studio, LiteLLM)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from .. import errors as E
from ..types import ModelInfo, ProviderStatus, Usage
from .base import ChatRequest, Provider, StreamChunk, openai_message, sampling
from .http import error_fields, get_json, open_stream, read_non_stream, read_stream
from .sse import SSEDecoder, SSEEvent

OPENAI_BASE_URL = "https://api.openai.com/v1"
KEYS_URL = "https://platform.openai.com/api-keys"
_loads = json.JSONDecoder().decode  # skips json.loads' per-call type checks and dispatch


def _error_from_payload(payload: dict[str, Any], provider: str) -> E.ProviderError:
    message, code = error_fields(payload)
    text = message or "unknown error"
    if code == "context_length_exceeded":
        return E.ContextTooLong(f"The conversation is too long for this model: {text}", code=code)
    if code in {"rate_limit_exceeded", "rate_limited", "RateLimitReached"}:
        return E.RateLimitError(
            f"{provider} is rate limiting requests: {text}", code=code, retryable=False
        )
    return E.ServerError(f"{provider} reported an error mid-reply: {text}", code=code)


class OpenAIStreamParser:
    """Turns Chat Completions SSE bytes into StreamChunks; shared by every OpenAI-shaped provider.

    Accepts the quirks real servers send: ``choices: []`` / ``null`` / missing, role-only and
    finish-only deltas, ``content: null``, usage-only final chunks, content-filter fields,
    ``error`` objects, comments and ``event:`` lines.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.decoder = SSEDecoder(provider)
        self.finished = False  # a finish_reason arrived
        self.done = False  # [DONE] arrived
        self.events = 0

    def feed(self, chunk: bytes) -> Iterator[StreamChunk]:
        """Chunks are yielded one by one so text before a bad event is kept when it raises."""
        return self._handle(self.decoder.feed(chunk))

    def close(self) -> Iterator[StreamChunk]:
        return self._handle(self.decoder.close())

    def _handle(self, events: list[SSEEvent]) -> Iterator[StreamChunk]:
        self.events += len(events)
        for ev in events:
            data = ev.data
            if self.done:
                continue
            if data[:1] != "{":  # anything but the usual JSON object: the careful path
                data = data.strip()
                if not data:
                    continue
                if data == "[DONE]":
                    self.done = True
                    continue
            try:
                payload = _loads(data)
            except ValueError:
                raise E.ProtocolError(
                    f"{self.provider} sent a malformed chunk that is not JSON."
                ) from None
            if not isinstance(payload, dict):
                raise E.ProtocolError(f"{self.provider} sent a chunk that is not a JSON object.")
            if ev.event == "error" or payload.get("error"):
                raise _error_from_payload(payload, self.provider)
            yield from self._chunk(payload)

    def _chunk(self, payload: dict[str, Any]) -> Iterator[StreamChunk]:
        choices = payload.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta") or choice.get("message") or {}
                text = delta.get("content") if isinstance(delta, dict) else None
                finish = choice.get("finish_reason")
                if isinstance(text, str) and text:
                    yield StreamChunk(text=text)
                if isinstance(finish, str) and finish:
                    self.finished = True
                    yield StreamChunk(finish_reason=finish)
        usage = payload.get("usage")
        if isinstance(usage, dict):
            yield StreamChunk(usage=_usage(usage))

    @property
    def complete(self) -> bool:
        return self.finished or self.done


def _usage(usage: dict[str, Any]) -> Usage:
    def num(key: str) -> int | None:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Usage(input_tokens=num("prompt_tokens"), output_tokens=num("completion_tokens"))


async def stream_openai_chat(
    http: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    model: str,
    headers: dict[str, str],
    body: dict[str, Any],
    timeout: httpx.Timeout | None = None,
) -> AsyncIterator[StreamChunk]:
    """POST a streaming chat completion and yield its chunks; raise ProviderErrors."""
    async with open_stream(
        http,
        "POST",
        url,
        provider=provider,
        model=model,
        headers=headers,
        json_body=body,
        timeout=timeout,
    ) as response:
        content_type = response.headers.get("content-type", "").lower()
        if "text/event-stream" not in content_type:
            async for chunk in _non_stream_reply(response, provider, content_type, url):
                yield chunk
            return
        parser = OpenAIStreamParser(provider)
        async for chunk in read_stream(
            response, parser, provider=provider, url=url, end_marker="a finish marker"
        ):
            yield chunk


async def _non_stream_reply(
    response: httpx.Response, provider: str, content_type: str, url: str
) -> AsyncIterator[StreamChunk]:
    """A 200 that is not SSE: accept a plain JSON completion, reject anything else clearly."""
    body = await read_non_stream(response, provider=provider, url=url)
    if "json" in content_type:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict):
            if payload.get("error"):
                raise _error_from_payload(payload, provider)
            choices = payload.get("choices")
            if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                message = choices[0].get("message") or {}
                text = message.get("content") if isinstance(message, dict) else None
                if isinstance(text, str):
                    yield StreamChunk(text=text)
                    if isinstance(payload.get("usage"), dict):
                        yield StreamChunk(usage=_usage(payload["usage"]))
                    yield StreamChunk(finish_reason=choices[0].get("finish_reason") or "stop")
                    return
    if "html" in content_type or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        raise E.ProtocolError(
            f"{provider} returned an HTML page instead of a reply stream (is the base URL right?)."
        )
    raise E.ProtocolError(
        f"{provider} returned a response that is not an event stream ({content_type or 'no content type'})."
    )


class OpenAIProvider(Provider):
    type = "openai"

    @property
    def base_url(self) -> str:
        return (self.config.base_url or OPENAI_BASE_URL).rstrip("/")

    def api_key(self) -> str | None:
        cfg = self.config
        if cfg.api_key:
            return cfg.api_key
        env = cfg.api_key_env or ("OPENAI_API_KEY" if self.base_url == OPENAI_BASE_URL else None)
        return os.environ.get(env) if env else None

    def byok(self) -> dict[str, str] | None:
        settings = {"type": "openai", "base_url": self.base_url}
        key = self.api_key()
        if key:
            settings["api_key"] = key
        return settings

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = self.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        headers.update(self.config.headers)
        return headers

    def _missing_key(self) -> E.ProviderError | None:
        if self.base_url == OPENAI_BASE_URL and not self.api_key():
            env = self.config.api_key_env or "OPENAI_API_KEY"
            return E.ProviderUnavailable(
                f"No API key for {self.name}: set {env} or api_key in the config."
            )
        return None

    async def list_models(self) -> list[ModelInfo]:
        if self.config.models:
            return [self.model_info(m) for m in self.config.models]
        if err := self._missing_key():
            raise err
        payload = await get_json(
            self.http,
            f"{self.base_url}/models",
            provider=self.name,
            headers=self.headers(),
            timeout=10.0,
        )
        data = payload.get("data") if isinstance(payload, dict) else payload
        if not isinstance(data, list):
            raise E.ProtocolError(f"{self.name} returned a model list in an unknown shape.")
        ids = sorted({str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")})
        return [self.model_info(i) for i in ids]

    async def status(self) -> ProviderStatus:
        if self._missing_key() is not None:
            env = self.config.api_key_env or "OPENAI_API_KEY"
            return self.unusable(
                f"no API key ({env} is not set)", f"export {env}=sk-... (a key from {KEYS_URL})"
            )
        return await super().status()

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [openai_message(m) for m in request.messages],
            "stream": True,
        }
        if self.config.extra.get("stream_usage", True):
            body["stream_options"] = {"include_usage": True}
        max_tokens = request.max_tokens or self.config.max_tokens
        if max_tokens:
            body["max_tokens"] = max_tokens
        body.update(sampling(request, "temperature", "top_p", "seed"))
        return body

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if err := self._missing_key():
            raise err
        async for chunk in stream_openai_chat(
            self.http,
            f"{self.base_url}/chat/completions",
            provider=self.name,
            model=request.model,
            headers=self.headers(),
            body=self.request_body(request),
            timeout=self.config.httpx_timeout(),
        ):
            yield chunk
