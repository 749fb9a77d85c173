"""Anthropic Messages API: request bodies, the named-event stream, and the ``anthropic`` provider.

The stream parser and :func:`stream_anthropic_messages` are shared with the Copilot provider,
which serves Claude models on ``/v1/messages`` in the same format.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from .. import errors as E
from ..types import ModelInfo, ProviderStatus, Usage
from .base import ChatMessage, ChatRequest, Provider, StreamChunk, sampling
from .http import get_json, open_stream, read_non_stream, read_stream
from .sse import SSEDecoder, SSEEvent

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192  # the API requires max_tokens; every current model accepts this


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _stream_error(payload: dict[str, Any], provider: str) -> E.ProviderError:
    """An ``event: error`` inside a 200 stream, mapped by its Anthropic error type."""
    err = payload.get("error")
    err = err if isinstance(err, dict) else {}
    kind = str(err.get("type") or "error")
    message = str(err.get("message") or "unknown error")
    text = f"{provider} reported an error mid-reply: {message} ({kind})"
    if kind == "overloaded_error":
        return E.ServerError(
            f"{text}; the service is overloaded, try again shortly.", code=kind, retryable=True
        )
    if kind == "rate_limit_error":
        return E.RateLimitError(text, code=kind)
    if kind == "api_error":
        return E.ServerError(text, code=kind, retryable=True)
    if kind == "authentication_error":
        return E.AuthenticationError(text, code=kind)
    if kind == "permission_error":
        return E.PermissionDenied(text, code=kind)
    if kind == "invalid_request_error":
        return E.BadRequest(text, code=kind)
    return E.ServerError(text, code=kind)


class AnthropicStreamParser:
    """Turns Messages API SSE bytes into StreamChunks.

    Text comes from ``text_delta``; usage from ``message_start`` (input) and the cumulative
    ``message_delta`` (output); ``ping`` and unknown events are skipped. The stream is complete
    only after ``message_stop``: there is no ``[DONE]``.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.decoder = SSEDecoder(provider)
        self.stopped = False
        self.events = 0
        self.input_tokens: int | None = None

    def feed(self, chunk: bytes) -> Iterator[StreamChunk]:
        """Chunks are yielded one by one so text before an error event is kept when it raises."""
        return self._handle(self.decoder.feed(chunk))

    def close(self) -> Iterator[StreamChunk]:
        return self._handle(self.decoder.close())

    @property
    def complete(self) -> bool:
        return self.stopped

    def _handle(self, events: list[SSEEvent]) -> Iterator[StreamChunk]:
        for ev in events:
            self.events += 1
            if self.stopped or not ev.data.strip():
                continue
            try:
                payload = json.loads(ev.data)
            except (ValueError, RecursionError):
                raise E.ProtocolError(
                    f"{self.provider} sent a malformed event that is not JSON."
                ) from None
            if not isinstance(payload, dict):
                raise E.ProtocolError(f"{self.provider} sent an event that is not a JSON object.")
            kind = payload.get("type")
            if not isinstance(kind, str):
                kind = ev.event or ""
            if kind == "error" or ev.event == "error":
                raise _stream_error(payload, self.provider)
            yield from self._event(kind, payload)

    def _event(self, kind: str, payload: dict[str, Any]) -> list[StreamChunk]:
        if kind == "content_block_delta":
            delta = payload.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                text = delta.get("text")
                if isinstance(text, str) and text:
                    return [StreamChunk(text=text)]
            return []
        if kind == "content_block_start":
            block = payload.get("content_block")
            text = (
                block.get("text")
                if isinstance(block, dict) and block.get("type") == "text"
                else None
            )
            return [StreamChunk(text=text)] if isinstance(text, str) and text else []
        if kind == "message_start":
            message = payload.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            if isinstance(usage, dict) and _int(usage.get("input_tokens")) is not None:
                self.input_tokens = _int(usage.get("input_tokens"))
                return [StreamChunk(usage=Usage(input_tokens=self.input_tokens))]
            return []
        if kind == "message_delta":
            out: list[StreamChunk] = []
            usage = payload.get("usage")
            if isinstance(usage, dict):
                out.append(
                    StreamChunk(
                        usage=Usage(
                            input_tokens=_int(usage.get("input_tokens")) or self.input_tokens,
                            output_tokens=_int(usage.get("output_tokens")),
                        )
                    )
                )
            delta = payload.get("delta")
            reason = delta.get("stop_reason") if isinstance(delta, dict) else None
            if isinstance(reason, str) and reason:
                out.append(StreamChunk(finish_reason=reason))
            return out
        if kind == "message_stop":
            self.stopped = True
        return []  # ping, content_block_stop, thinking/tool deltas, future event types


def anthropic_message(m: ChatMessage) -> dict[str, Any]:
    """A Messages API turn: images as ``image`` blocks with a base64 source, then the text."""
    if not m.images:
        return {"role": m.role, "content": m.content}
    blocks: list[dict[str, Any]] = [
        {"type": "image", "source": {"type": "base64", "media_type": i.mime, "data": i.base64}}
        for i in m.images
    ]
    blocks.append({"type": "text", "text": m.content})
    return {"role": m.role, "content": blocks}


def messages_body(request: ChatRequest, max_tokens: int) -> dict[str, Any]:
    """A streaming Messages API body: system text at top level, same-role turns merged."""
    system = [m.content for m in request.messages if m.role == "system" and m.content]
    merged: list[ChatMessage] = []
    for m in request.messages:
        if m.role == "system":
            continue
        if merged and merged[-1].role == m.role:
            last = merged[-1]
            merged[-1] = ChatMessage(
                m.role, f"{last.content}\n\n{m.content}", last.images + m.images
            )
        else:
            merged.append(ChatMessage(m.role, m.content, list(m.images)))
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": max_tokens,
        "messages": [anthropic_message(m) for m in merged],
        "stream": True,
    }
    if system:
        body["system"] = "\n\n".join(system)
    body.update(sampling(request, "temperature", "top_p"))  # the Messages API has no seed
    return body


async def stream_anthropic_messages(
    http: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    model: str,
    headers: dict[str, str],
    body: dict[str, Any],
    timeout: httpx.Timeout | None = None,
) -> AsyncIterator[StreamChunk]:
    """POST a streaming Messages request and yield its chunks; raise ProviderErrors."""
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
            raw = await read_non_stream(response, provider=provider, url=url)
            try:
                payload = json.loads(raw)
            except (ValueError, RecursionError):
                payload = None
            if isinstance(payload, dict) and payload.get("type") == "error":
                raise _stream_error(payload, provider)
            raise E.ProtocolError(
                f"{provider} returned a response that is not an event stream ({content_type or 'no content type'})."
            )
        parser = AnthropicStreamParser(provider)
        async for chunk in read_stream(
            response, parser, provider=provider, url=url, end_marker="message_stop"
        ):
            yield chunk


class AnthropicProvider(Provider):
    type = "anthropic"

    @property
    def base_url(self) -> str:
        base = (self.config.base_url or ANTHROPIC_BASE_URL).rstrip("/")
        return base[: -len("/v1")] if base.endswith("/v1") else base

    @property
    def key_env(self) -> str:
        return self.config.api_key_env or "ANTHROPIC_API_KEY"

    def api_key(self) -> str | None:
        return self.config.api_key or os.environ.get(self.key_env) or None

    def byok(self) -> dict[str, str] | None:
        settings = {"type": "anthropic", "base_url": self.base_url}
        key = self.api_key()
        if key:
            settings["api_key"] = key
        return settings

    def headers(self) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "anthropic-version": str(
                self.config.extra.get("anthropic_version") or ANTHROPIC_VERSION
            ),
            "x-api-key": self.api_key() or "",
        }
        headers.update(self.config.headers)
        return headers

    def _require_key(self) -> None:
        if not self.api_key():
            raise E.ProviderUnavailable(
                f"No API key for {self.name}: set {self.key_env} or api_key in the config."
            )

    async def list_models(self) -> list[ModelInfo]:
        if self.config.models:
            return [self.model_info(m) for m in self.config.models]
        self._require_key()
        payload = await get_json(
            self.http,
            f"{self.base_url}/v1/models?limit=1000",
            provider=self.name,
            headers=self.headers(),
            timeout=10.0,
        )
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise E.ProtocolError(f"{self.name} returned a model list in an unknown shape.")
        models: dict[str, ModelInfo] = {}
        for entry in data:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
                name = (
                    entry.get("display_name")
                    if isinstance(entry.get("display_name"), str)
                    else None
                )
                models.setdefault(entry["id"], self.model_info(entry["id"], name))
        return list(models.values())

    async def status(self) -> ProviderStatus:
        if not self.api_key():
            return self.unusable(
                f"no API key ({self.key_env} is not set)",
                f"export {self.key_env}=sk-ant-... (a key from https://console.anthropic.com/settings/keys)",
            )
        try:
            models = await self.list_models()
        except E.AuthenticationError as exc:
            return self.unusable(str(exc), f"check the key in {self.key_env}")
        except E.CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        return ProviderStatus(self.name, self.type, True, models=models)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        self._require_key()
        max_tokens = request.max_tokens or self.config.max_tokens or DEFAULT_MAX_TOKENS
        async for chunk in stream_anthropic_messages(
            self.http,
            f"{self.base_url}/v1/messages",
            provider=self.name,
            model=request.model,
            headers=self.headers(),
            body=messages_body(request, max_tokens),
            timeout=self.config.httpx_timeout(),
        ):
            yield chunk
