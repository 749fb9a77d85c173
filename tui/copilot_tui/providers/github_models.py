"""GitHub Models (``models.github.ai``): OpenAI chat bodies with GitHub's headers and catalog."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

from .. import errors as E
from ..types import ModelInfo, ProviderStatus
from .base import ChatRequest, Provider, StreamChunk, as_dict, openai_message, sampling
from .http import get_json
from .openai import stream_openai_chat

GITHUB_MODELS_URL = "https://models.github.ai"
API_VERSION = "2022-11-28"
GH_TIMEOUT = 5.0


async def gh_auth_token(timeout: float = GH_TIMEOUT) -> str | None:
    """The GitHub CLI's token, or None; runs ``gh`` as a subprocess so the event loop never waits."""
    gh = shutil.which("gh")
    if not gh:
        return None
    try:
        proc = await asyncio.create_subprocess_exec(
            gh,
            "auth",
            "token",
            "--hostname",
            "github.com",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return None
    token = out.decode("utf-8", errors="replace").strip()
    return token if proc.returncode == 0 and token else None


class GitHubModelsProvider(Provider):
    type = "github-models"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gh_token: str | None = None
        self._gh_tried = False
        self._gh_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return (self.config.base_url or GITHUB_MODELS_URL).rstrip("/")

    @property
    def catalog_url(self) -> str:
        return str(self.config.extra.get("catalog_url") or f"{self.base_url}/catalog/models")

    @property
    def key_env(self) -> str:
        return self.config.api_key_env or "GITHUB_TOKEN"

    async def token(self) -> str | None:
        """The configured key, else the environment variable, else ``gh auth token`` (asked once)."""
        if self.config.api_key:
            return self.config.api_key
        if value := os.environ.get(self.key_env):
            return value
        async with self._gh_lock:
            if not self._gh_tried:
                self._gh_token = await gh_auth_token()
                self._gh_tried = True
        return self._gh_token

    async def _require_token(self) -> str:
        token = await self.token()
        if not token:
            raise E.ProviderUnavailable(
                f"No token for {self.name}: set {self.key_env} (a token with models: read) or log in with 'gh auth login'."
            )
        return token

    def headers(self, token: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": str(self.config.extra.get("api_version") or API_VERSION),
            "Content-Type": "application/json",
        }
        headers.update(self.config.headers)
        return headers

    async def list_models(self) -> list[ModelInfo]:
        if self.config.models:
            return [self.model_info(m) for m in self.config.models]
        token = await self._require_token()
        payload = await get_json(
            self.http,
            self.catalog_url,
            provider=self.name,
            headers=self.headers(token),
            timeout=10.0,
        )
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            payload = payload["data"]
        if not isinstance(payload, list):
            raise E.ProtocolError(f"{self.name} returned a catalog in an unknown shape.")
        models: dict[str, ModelInfo] = {}
        for entry in payload:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("id"), str)
                or not entry["id"]
            ):
                continue
            caps = entry.get("capabilities")
            outputs = entry.get("supported_output_modalities")
            if isinstance(outputs, list) and "text" not in outputs:
                continue  # embeddings and other non-chat models
            limits = as_dict(entry.get("limits"))
            name = entry.get("name") if isinstance(entry.get("name"), str) else None
            streaming = not isinstance(caps, list) or "streaming" in caps
            models.setdefault(
                entry["id"],
                self.model_info(
                    entry["id"],
                    name,
                    context_window=_int(limits.get("max_input_tokens")),
                    max_output_tokens=_int(limits.get("max_output_tokens")),
                    supported=streaming,
                    note=None if streaming else "does not stream replies",
                ),
            )
        return list(models.values())

    async def status(self) -> ProviderStatus:
        if not await self.token():
            return self.unusable(
                f"no token ({self.key_env} is not set, and no logged-in gh)",
                f"export {self.key_env}=<a token with models: read>, or run 'gh auth login'",
            )
        try:
            models = await self.list_models()
        except (E.AuthenticationError, E.PermissionDenied) as exc:
            return self.unusable(str(exc), "use a token with the models: read permission")
        except E.CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        return ProviderStatus(self.name, self.type, True, models=models)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        token = await self._require_token()
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [openai_message(m) for m in request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        max_tokens = request.max_tokens or self.config.max_tokens
        if max_tokens:
            body["max_tokens"] = max_tokens
        body.update(sampling(request, "temperature", "top_p", "seed"))
        async for chunk in stream_openai_chat(
            self.http,
            f"{self.base_url}/inference/chat/completions",
            provider=self.name,
            model=request.model,
            headers=self.headers(token),
            body=body,
            timeout=self.config.httpx_timeout(),
        ):
            yield chunk


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
