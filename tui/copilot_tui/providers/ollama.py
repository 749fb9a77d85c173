"""Ollama's native API: ``/api/chat`` as newline-delimited JSON and ``/api/tags`` for models."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

from .. import errors as E
from ..types import ModelInfo, ProviderStatus, Usage
from .base import ChatMessage, ChatRequest, Provider, StreamChunk, sampling
from .http import get_json, open_stream, read_stream
from .ndjson import NDJSONDecoder

DEFAULT_HOST = "http://127.0.0.1:11434"
PROBE_TIMEOUT = httpx.Timeout(2.0)


def ollama_base_url(value: str | None) -> str:
    """Normalise an ``OLLAMA_HOST``-style value: ``host``, ``host:port``, ``:port`` or a full URL."""
    value = (value or "").strip().rstrip("/")
    if not value:
        return DEFAULT_HOST
    scheme = "http"
    if "://" in value:
        scheme, value = value.split("://", 1)
    host, _, path = value.partition("/")
    if host.startswith("["):  # IPv6 literal, maybe with a port
        name, _, rest = host.partition("]")
        host_name, port = name + "]", rest[1:] if rest.startswith(":") else ""
    elif host.count(":") == 1:
        host_name, port = host.split(":")
    else:
        host_name, port = host, ""
    host_name = host_name or "127.0.0.1"
    if host_name in ("0.0.0.0", "[::]"):  # a server bind address, not somewhere to connect to
        host_name = "127.0.0.1"
    if not port:
        port = "443" if scheme == "https" else "11434"
    url = f"{scheme}://{host_name}:{port}"
    return f"{url}/{path}" if path else url


def _error_line(obj: dict[str, Any], provider: str, model: str) -> E.ProviderError:
    err = obj.get("error")
    message = err.get("message") if isinstance(err, dict) else err
    text = str(message or "unknown error")
    if "not found" in text and "model" in text:
        return E.ModelNotFound(
            f"{provider} does not have model {model!r}: {text} (run: ollama pull {model})"
        )
    return E.ServerError(f"{provider} reported an error mid-reply: {text}")


def ollama_message(m: ChatMessage) -> dict[str, Any]:
    """A message for /api/chat: images as a list of base64 strings beside the text."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.images:
        out["images"] = [i.base64 for i in m.images]
    return out


class OllamaStreamParser:
    """Turns ``/api/chat`` NDJSON bytes into StreamChunks; complete only after ``done: true``."""

    def __init__(self, provider: str, model: str = "") -> None:
        self.provider = provider
        self.model = model
        self.decoder = NDJSONDecoder(provider)
        self.done = False

    def feed(self, chunk: bytes) -> Iterator[StreamChunk]:
        """Chunks are yielded one by one so text before an error line is kept when it raises."""
        return self._handle(self.decoder.feed(chunk))

    def close(self) -> Iterator[StreamChunk]:
        return self._handle(self.decoder.close())

    @property
    def events(self) -> int:
        return self.decoder.lines

    @property
    def complete(self) -> bool:
        return self.done

    def _handle(self, objects: Iterable[dict[str, Any]]) -> Iterator[StreamChunk]:
        for obj in objects:
            if self.done:
                continue
            if obj.get("error"):
                raise _error_line(obj, self.provider, self.model)
            message = obj.get("message")
            text = message.get("content") if isinstance(message, dict) else None
            if isinstance(text, str) and text:
                yield StreamChunk(text=text)
            if obj.get("done") is True:
                self.done = True
                yield StreamChunk(
                    usage=Usage(
                        input_tokens=_int(obj.get("prompt_eval_count")),
                        output_tokens=_int(obj.get("eval_count")),
                    )
                )
                durations = {
                    k: v for k, v in obj.items() if k.endswith("_duration") and _int(v) is not None
                }
                reason = obj.get("done_reason")
                yield StreamChunk(
                    finish_reason=reason if isinstance(reason, str) and reason else "stop",
                    extra={"durations_ns": durations},
                )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OllamaProvider(Provider):
    type = "ollama"

    @property
    def base_url(self) -> str:
        return ollama_base_url(self.config.base_url or os.environ.get("OLLAMA_HOST"))

    def byok(self) -> dict[str, str] | None:
        # Ollama serves the OpenAI wire format under /v1
        return {"type": "openai", "base_url": f"{self.base_url}/v1", "model_provider": "ollama"}

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:  # e.g. behind an authenticating proxy
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        headers.update(self.config.headers)
        return headers

    async def list_models(self, timeout: float | httpx.Timeout = 10.0) -> list[ModelInfo]:
        if self.config.models:
            return [self.model_info(m) for m in self.config.models]
        payload = await get_json(
            self.http,
            f"{self.base_url}/api/tags",
            provider=self.name,
            headers=self.headers(),
            timeout=timeout,
        )
        data = payload.get("models") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise E.ProtocolError(f"{self.name} returned a model list in an unknown shape.")
        names = [m.get("name") or m.get("model") for m in data if isinstance(m, dict)]
        return [self.model_info(n) for n in sorted({n for n in names if isinstance(n, str) and n})]

    async def status(self) -> ProviderStatus:
        """Probe the server with a short timeout: Ollama is often simply not running."""
        try:
            models = await self.list_models(timeout=PROBE_TIMEOUT)
        except E.NetworkError:
            return ProviderStatus(
                self.name,
                self.type,
                False,
                reason=f"not reachable at {self.base_url}",
                fix="start Ollama ('ollama serve'), or set OLLAMA_HOST to where it runs",
            )
        except E.CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        if not models:
            return ProviderStatus(
                self.name,
                self.type,
                False,
                reason="no models installed",
                fix="pull one, e.g. 'ollama pull llama3.2'",
            )
        return ProviderStatus(self.name, self.type, True, models=models)

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [ollama_message(m) for m in request.messages],
            "stream": True,
        }
        options: dict[str, Any] = {}
        max_tokens = request.max_tokens or self.config.max_tokens
        if max_tokens:
            options["num_predict"] = max_tokens
        options.update(sampling(request, "temperature", "top_p", "seed"))
        num_ctx = request.context_size or self.config.extra.get("num_ctx")
        if num_ctx:
            options["num_ctx"] = num_ctx
        if options:
            body["options"] = options
        if "keep_alive" in self.config.extra:
            body["keep_alive"] = self.config.extra["keep_alive"]
        return body

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        url = f"{self.base_url}/api/chat"
        parser = OllamaStreamParser(self.name, request.model)
        async with open_stream(
            self.http,
            "POST",
            url,
            provider=self.name,
            model=request.model,
            headers=self.headers(),
            json_body=self.request_body(request),
            timeout=self.config.httpx_timeout(),
        ) as response:
            async for chunk in read_stream(
                response, parser, provider=self.name, url=url, end_marker="its final line"
            ):
                yield chunk
