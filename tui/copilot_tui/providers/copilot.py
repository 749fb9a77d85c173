"""GitHub Copilot: through the Copilot runtime (GitHub's SDK), or over Copilot's HTTP endpoints.

``transport = "sdk"`` (the default when the ``copilot`` extra is installed) runs every session on
the app's one Copilot runtime (``copilot_sdk.py``): Copilot's own login, model list and routing,
and agent sessions. ``transport = "http"`` (the default without the SDK) speaks the endpoints
Copilot's editor integrations use: the model catalog, routing by endpoint, and Copilot's own
error shapes. Requests count against the user's Copilot plan, so concurrency defaults low and
rate limits are never retried aggressively.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .. import errors as E
from ..types import ModelInfo, ProviderStatus
from .anthropic import DEFAULT_MAX_TOKENS, messages_body, stream_anthropic_messages
from .base import ChatRequest, Provider, StreamChunk, as_dict
from .copilot_auth import (
    ACCESS_FIX,
    CLIENT_ID,
    EDITOR_VERSION,
    GITHUB_URL,
    LOGIN_FIX,
    PLAN_URL,
    TOKEN_URL,
    CopilotToken,
    CopilotTokenManager,
    editor_headers,
    load_github_token,
    token_path,
)
from .copilot_sdk import ENV_TOKENS, cli_logged_in, stream_on_runtime
from .http import get_json
from .openai import stream_openai_chat

TRANSPORTS = ("sdk", "http")


@functools.cache
def _sdk_installed() -> bool:
    return importlib.util.find_spec("copilot") is not None


CHAT = "/chat/completions"
MESSAGES = "/v1/messages"


@dataclass(slots=True, frozen=True)
class CatalogModel:
    """One entry of Copilot's ``/models``, reduced to what choosing and routing need."""

    id: str
    name: str
    route: str | None  # CHAT, MESSAGES, or None when no endpoint we speak serves it
    enabled: bool
    note: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    is_default: bool = False
    premium: float | None = None  # premium requests a prompt costs (0: included in the plan)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def route_for(endpoints: Any) -> str | None:
    """``/chat/completions`` when listed or when the field is absent, else ``/v1/messages``."""
    if not isinstance(endpoints, list):
        return CHAT
    if CHAT in endpoints:
        return CHAT
    if MESSAGES in endpoints:
        return MESSAGES
    return None


def _multiplier(billing: Any) -> float | None:
    value = billing.get("multiplier") if isinstance(billing, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1000:
        return None
    return float(value)


def parse_catalog(payload: Any) -> list[CatalogModel]:
    """Lenient: entries that are not chat models for the picker, or are malformed, are skipped."""
    data = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(data, list):
        raise E.ProtocolError("GitHub Copilot returned a model list in an unknown shape.")
    out: dict[str, CatalogModel] = {}
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            continue
        caps = as_dict(entry.get("capabilities"))
        if entry.get("model_picker_enabled") is False or caps.get("type", "chat") != "chat":
            continue
        limits = as_dict(caps.get("limits"))
        policy = entry.get("policy")
        state = policy.get("state") if isinstance(policy, dict) else None
        enabled = state in (None, "enabled")
        route = route_for(entry.get("supported_endpoints"))
        note = None
        if route is None:
            served = ", ".join(str(e) for e in entry["supported_endpoints"]) or "no endpoint"
            note = f"only served on {served}, which copilot-tui does not speak"
        elif not enabled:
            note = f"not enabled for this account (policy: {state}); enable it in your Copilot settings on github.com"
        name = (
            entry["name"]
            if isinstance(entry.get("name"), str) and entry["name"]
            else str(entry["id"])
        )
        out.setdefault(
            entry["id"],
            CatalogModel(
                id=entry["id"],
                name=name,
                route=route,
                enabled=enabled,
                note=note,
                context_window=_int(limits.get("max_context_window_tokens")),
                max_output_tokens=_int(limits.get("max_output_tokens")),
                is_default=entry.get("is_chat_default") is True,
                premium=_multiplier(entry.get("billing")),
            ),
        )
    return sorted(out.values(), key=lambda m: not m.is_default)


class CopilotProvider(Provider):
    type = "copilot"
    default_max_concurrency = 2  # requests count against the user's plan: stay modest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extra = self.config.extra
        self.token_file = token_path(extra.get("token_file"), self.config.data_dir)
        self.github_url = str(extra.get("github_url") or GITHUB_URL)
        self.client_id = str(extra.get("client_id") or CLIENT_ID)
        self.editor_version = str(extra.get("editor_version") or EDITOR_VERSION)
        self.auth = CopilotTokenManager(
            self.http,
            self.github_token,
            token_url=str(extra.get("token_url") or TOKEN_URL),
            headers=editor_headers(self.editor_version),
            api_url=extra.get("api_url") or self.config.base_url,
        )
        self._catalog: dict[str, CatalogModel] | None = None
        self._catalog_lock = asyncio.Lock()

    def github_token(self) -> str | None:
        """The saved login; a token from the config or an environment variable wins when given."""
        if self.config.api_key:
            return self.config.api_key
        if self.config.api_key_env and os.environ.get(self.config.api_key_env):
            return os.environ[self.config.api_key_env]
        return load_github_token(self.token_file)

    def headers(
        self, token: CopilotToken, *, initiator: str = "user", stream: bool = False
    ) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token.token}",
            "Content-Type": "application/json",
            "Copilot-Integration-Id": "vscode-chat",
            **editor_headers(self.editor_version),
            "Openai-Intent": "conversation-panel",
            "X-Request-Id": str(uuid.uuid4()),
            "X-Initiator": initiator,
        }
        if stream:
            headers["Accept"] = "text/event-stream"
        headers.update(self.config.headers)
        return headers

    # -- which transport ----------------------------------------------------------------

    @property
    def transport(self) -> str:
        value = self.config.extra.get("transport")
        if value is None:
            return "sdk" if _sdk_installed() else "http"
        if value not in TRANSPORTS:
            raise E.BadRequest(
                f'providers.{self.name}.transport must be "sdk" or "http" (got {value!r}).'
            )
        return str(value)

    def uses_runtime(self, request: ChatRequest) -> bool:
        return self.transport == "sdk"

    def stream_runtime(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return stream_on_runtime(self, request, None, self.github_token(), copilot=True)

    def may_be_logged_in(self) -> bool:
        """A login the runtime could use, in its order: ours, the Copilot CLI's, the
        environment's. Without any, the runtime is not started just to say so."""
        return (
            self.github_token() is not None
            or cli_logged_in()
            or any(os.environ.get(v) for v in ENV_TOKENS)
        )

    async def _sdk_models(self) -> list[ModelInfo]:
        assert self.sdk is not None
        out = []
        for m in await self.sdk.list_models():
            caps = getattr(m, "capabilities", None)
            limits = getattr(caps, "limits", None)
            policy = getattr(m, "policy", None)
            state = getattr(policy, "state", None)
            enabled = state in (None, "enabled")
            billing = getattr(m, "billing", None)
            multiplier = getattr(billing, "multiplier", None)
            out.append(
                self.model_info(
                    str(m.id),
                    str(getattr(m, "name", None) or m.id),
                    context_window=_int(getattr(limits, "max_context_window_tokens", None)),
                    supported=enabled,
                    premium=float(multiplier) if isinstance(multiplier, int | float) else None,
                    note=None
                    if enabled
                    else f"not enabled for this account (policy: {state}); enable it in your Copilot settings on github.com",
                )
            )
        return out

    async def _sdk_status(self) -> ProviderStatus:
        if not self.may_be_logged_in():
            return ProviderStatus(
                self.name, self.type, False, reason="not logged in", fix=LOGIN_FIX
            )
        if self.sdk is None:
            return ProviderStatus(
                self.name, self.type, False, reason="the Copilot runtime is not available"
            )
        try:
            authenticated, who = await self.sdk.auth_status()
            if not authenticated:
                reason = "not logged in" + (f" ({who})" if who else "")
                return self.unusable(reason, LOGIN_FIX)
            models = await self.list_models()
        except E.AuthenticationError as exc:
            return self.unusable(str(exc), LOGIN_FIX)
        except E.CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        return ProviderStatus(self.name, self.type, True, models=models)

    # -- models --------------------------------------------------------------------------

    async def catalog(self, *, refresh: bool = False) -> dict[str, CatalogModel]:
        async with self._catalog_lock:
            if self._catalog is None or refresh:
                token = await self.auth.get()
                try:
                    payload = await self._get_models(token)
                except E.AuthenticationError as exc:
                    if exc.status_code != 401:
                        raise
                    payload = await self._get_models(await self.auth.refresh(token))
                self._catalog = {m.id: m for m in parse_catalog(payload)}
            return self._catalog

    async def _get_models(self, token: CopilotToken) -> Any:
        return await get_json(
            self.http,
            f"{token.api_url}/models",
            provider=self.name,
            headers=self.headers(token),
            timeout=15.0,
        )

    async def list_models(self) -> list[ModelInfo]:
        if self.config.models:
            return [self.model_info(m) for m in self.config.models]
        if self.transport == "sdk":
            return await self._sdk_models()
        models = await self.catalog(refresh=True)
        return [
            self.model_info(
                m.id,
                m.name,
                context_window=m.context_window,
                max_output_tokens=m.max_output_tokens,
                supported=m.route is not None and m.enabled,
                note=m.note,
                premium=m.premium,
            )
            for m in models.values()
        ]

    async def status(self) -> ProviderStatus:
        try:
            if self.transport == "sdk":
                return await self._sdk_status()
        except E.CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        if not self.github_token():
            return ProviderStatus(
                self.name, self.type, False, reason="not logged in", fix=LOGIN_FIX
            )
        try:
            models = await self.list_models()
        except E.PermissionDenied as exc:
            return self.unusable(str(exc), ACCESS_FIX, said_by=PLAN_URL)
        except E.AuthenticationError as exc:
            return self.unusable(str(exc), LOGIN_FIX)
        except E.CopilotTuiError as exc:
            return ProviderStatus(self.name, self.type, False, reason=str(exc))
        return ProviderStatus(self.name, self.type, True, models=models)

    async def _entry(self, model: str) -> CatalogModel | None:
        if self.config.models:
            return None
        try:
            return (await self.catalog()).get(model)
        except E.CopilotTuiError:
            return None  # routing falls back to chat; the request itself will say what is wrong

    # -- chat ----------------------------------------------------------------------------

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if self.transport == "sdk":
            async for chunk in self.stream_runtime(request):
                yield chunk
            return
        entry = await self._entry(request.model)
        if entry is not None and entry.route is None:
            raise E.BadRequest(
                f"GitHub Copilot model {request.model!r} is {entry.note}.",
                code="unsupported_api_for_model",
            )
        route = entry.route if entry and entry.route else CHAT
        refreshed = False
        while True:
            token = await self.auth.get()
            sent = False
            try:
                async for chunk in self._stream_once(token, request, route, entry):
                    sent = True
                    yield chunk
                return
            except E.AuthenticationError as exc:
                if exc.status_code != 401 or refreshed or sent:
                    raise self._explain(exc, request.model, route) from None
                refreshed = True  # the Copilot token expired early: one shared refresh, one retry
                await self.auth.refresh(token)
            except E.ProviderError as exc:
                raise self._explain(exc, request.model, route) from None

    def _stream_once(
        self, token: CopilotToken, request: ChatRequest, route: str, entry: CatalogModel | None
    ) -> AsyncIterator[StreamChunk]:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        max_tokens = request.max_tokens or self.config.max_tokens
        headers = self.headers(token, initiator=request.initiator, stream=True)
        timeout = self.config.httpx_timeout()
        if route == MESSAGES:
            limit = max_tokens or (entry.max_output_tokens if entry else None) or DEFAULT_MAX_TOKENS
            return stream_anthropic_messages(
                self.http,
                f"{token.api_url}{MESSAGES}",
                provider=self.name,
                model=request.model,
                headers=headers,
                body=messages_body(request, limit),
                timeout=timeout,
            )
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "stream": True,
            "n": 1,
        }
        if max_tokens:
            body["max_tokens"] = max_tokens
        return stream_openai_chat(
            self.http,
            f"{token.api_url}{CHAT}",
            provider=self.name,
            model=request.model,
            headers=headers,
            body=body,
            timeout=timeout,
        )

    def _explain(self, exc: E.ProviderError, model: str, route: str) -> E.ProviderError:
        """Rephrase Copilot's own error codes as what the user should do."""
        code = exc.code or ""
        kw: dict[str, Any] = {
            "status_code": exc.status_code,
            "code": exc.code,
            "retry_after": exc.retry_after,
        }
        if code == "model_not_supported":
            self._catalog = None
            return E.ModelNotFound(
                f"GitHub Copilot does not offer {model!r} to this account or plan (model_not_supported); "
                "pick another model (see 'copilot-tui models').",
                **kw,
            )
        if code == "unsupported_api_for_model":
            self._catalog = None
            return E.BadRequest(
                f"GitHub Copilot does not serve {model!r} on {route} (unsupported_api_for_model); "
                "the model list was reloaded, pick the model again or another one.",
                **kw,
            )
        if code == "no_available_model_endpoints":
            return E.PermissionDenied(
                f"GitHub Copilot has no endpoint for {model!r} under your current plan and policies "
                "(no_available_model_endpoints); switch to another model.",
                **kw,
            )
        if isinstance(exc, E.AuthenticationError) and exc.status_code == 401:
            return E.AuthenticationError(
                f"GitHub Copilot rejected the token even after a refresh (401); {LOGIN_FIX}.", **kw
            )
        if isinstance(exc, E.RateLimitError) and exc.retry_after is None:
            exc.retryable = False  # no wait given: do not hammer a plan-metered service
        return exc
