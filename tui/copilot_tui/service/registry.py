"""The providers of one client: created on first use, their concurrency limits, model lists and
latest statuses, and model references resolved against them."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import Callable

import httpx

from ..config import Config, ProviderConfig
from ..errors import CopilotTuiError, UnknownModel, UnknownProvider
from ..ids import split_model_ref
from ..providers import Provider, provider_class
from ..providers.copilot_sdk import SdkHost
from ..types import ModelInfo, ProviderStatus, Readiness, Sampling
from . import discovery
from .limiter import ProviderLimit

log = logging.getLogger(__name__)
MODEL_LIST_TTL = 300.0


class ProviderRegistry:
    def __init__(
        self,
        config: Config,
        configs: dict[str, ProviderConfig],
        http: httpx.AsyncClient,
        default_model: Callable[[], str | None],
    ) -> None:
        self.config = config
        self.configs = configs
        self.http = http  # the client's, shared by every provider
        self._default_model = default_model
        self._providers: dict[str, Provider] = {}
        self._limits: dict[str, ProviderLimit] = {}
        self._model_cache: dict[str, tuple[float, list[ModelInfo]]] = {}
        self.statuses: dict[str, ProviderStatus] = {}  # the latest of each provider, for readiness
        # the app's one Copilot runtime, shared by every provider whose sessions run on it;
        # nothing starts until a session or a status check needs it
        self.sdk = SdkHost(github_token=self._copilot_token)

    def _copilot_token(self) -> str | None:
        """The login the runtime starts with: the first copilot provider's saved token."""
        for name, pc in self.configs.items():
            if pc.type == "copilot" and pc.enabled:
                with contextlib.suppress(CopilotTuiError):
                    token = getattr(self.provider(name), "github_token", lambda: None)()
                    if token:
                        return str(token)
        return None

    def provider(self, name: str) -> Provider:
        if name not in self._providers:
            pc = self.configs.get(name)
            if pc is None:
                known = ", ".join(self.configs) or "none"
                raise UnknownProvider(f"Unknown provider {name!r} (configured: {known}).")
            made = provider_class(pc.type)(name, pc, self.http)
            made.sdk = self.sdk
            self._providers[name] = made
        return self._providers[name]

    def prepare(self) -> None:
        """Import what the first request needs (each configured provider's module, the HTTP
        stack's async backend), for a thread to call while the app is idle: done on the first
        send, it held the event loop ~80 ms in the middle of starting replies."""
        # modules only: the instances belong to the event loop's thread (see provider())
        for pc in list(self.configs.values()):
            with contextlib.suppress(CopilotTuiError, KeyError, ImportError):
                provider_class(pc.type)
        with contextlib.suppress(ImportError):
            importlib.import_module("anyio._backends._asyncio")
        if any(
            pc.extra.get("runtime") == "copilot"
            or (
                pc.type == "copilot"
                and (not pc.implicit or discovery.has_credentials("copilot", pc.data_dir))
            )
            for pc in list(self.configs.values())
        ):  # the Copilot SDK takes ~0.8 s to import: not on the loop, not on the first send
            with contextlib.suppress(ImportError):
                importlib.import_module("copilot")

    def resolve_model(self, ref: str) -> tuple[str, str]:
        default_provider = self.config.default_provider
        default_model = self._default_model()
        if not default_provider and default_model:
            default_provider = default_model.split("/", 1)[0]
        provider, model = split_model_ref(ref, default_provider)
        if provider not in self.configs:
            known = ", ".join(self.configs) or "none"
            raise UnknownProvider(
                f"Unknown provider {provider!r} in model {ref!r} (configured: {known})."
            )
        return provider, model

    def accepts_images(self, model: str) -> bool:
        """Whether a model can be sent images, as far as its provider knows."""
        provider, name = self.provider_for(model)
        return provider.accepts_images(name)

    def params_for(self, model: str) -> Sampling:
        """The config's generation defaults for a model: its own, then its provider's."""
        params = self.config.params
        base = params.get(model.split("/", 1)[0], Sampling())
        return params[model].over(base) if model in params else base

    def provider_for(self, ref: str) -> tuple[Provider, str]:
        name, model = self.resolve_model(ref)
        return self.provider(name), model

    def limiter(self, provider: Provider) -> ProviderLimit:
        """The provider's limit, shared by every session (counted even when unlimited, so a
        provider that drops concurrent streams can be lowered to one at a time)."""
        if provider.name not in self._limits:
            self._limits[provider.name] = ProviderLimit(
                provider.name, provider.max_concurrency or None
            )
        return self._limits[provider.name]

    async def models_of(self, name: str, *, refresh: bool = False) -> list[ModelInfo]:
        cached = self._model_cache.get(name)
        if cached and not refresh and time.monotonic() - cached[0] < MODEL_LIST_TTL:
            return cached[1]
        models = await self.provider(name).list_models()
        self._model_cache[name] = (time.monotonic(), models)
        return models

    async def check_model(self, ref: str) -> str:
        """Normalise a model reference to PROVIDER/MODEL and reject models the provider lacks."""
        name, model = self.resolve_model(ref)
        try:
            models = await asyncio.wait_for(self.models_of(name), 5.0)
        except (CopilotTuiError, TimeoutError):
            return f"{name}/{model}"  # cannot list now: the send will say what is wrong
        if models and not any(m.model == model for m in models):
            sample = ", ".join(m.id for m in models[:8])
            more = ", ..." if len(models) > 8 else ""
            raise UnknownModel(
                f"Provider {name!r} has no model {model!r} (available: {sample}{more})."
            )
        return f"{name}/{model}"

    async def status_of(self, name: str, refresh: bool, timeout: float) -> ProviderStatus:
        pc = self.configs[name]
        try:
            provider = self.provider(name)
            if not refresh and name in self._model_cache:
                return ProviderStatus(name, pc.type, True, models=self._model_cache[name][1])
            status = await asyncio.wait_for(provider.status(), timeout)
        except TimeoutError:
            status = ProviderStatus(
                name, pc.type, False, reason=f"{name} did not answer within {timeout:g} s."
            )
        except CopilotTuiError as exc:
            status = ProviderStatus(name, pc.type, False, reason=str(exc))
        except Exception as exc:  # a broken provider must not break the model list
            log.exception("provider %s status failed", name)
            status = ProviderStatus(name, pc.type, False, reason=f"{type(exc).__name__}: {exc}")
        if status.usable:
            self._model_cache[name] = (time.monotonic(), status.models)
        self.statuses[name] = status
        return status

    @property
    def readiness(self) -> Readiness:
        """What a new conversation would start on, from the statuses known so far (never waits)."""
        return discovery.readiness(self.config, self.configs, self.statuses)

    async def forget(self, name: str) -> None:
        """Drop a provider's cached state so the next use sees a new login."""
        self._model_cache.pop(name, None)
        self.statuses.pop(name, None)
        provider = self._providers.pop(name, None)
        if provider is not None:
            with contextlib.suppress(Exception):
                await provider.aclose()
        pc = self.configs.get(name)
        if pc is not None and pc.type == "copilot" and self.sdk.started:
            await self.sdk.aclose()  # the runtime starts again with the new login

    async def aclose(self) -> None:
        await self.sdk.aclose()
        for provider in self._providers.values():
            with contextlib.suppress(Exception):
                await provider.aclose()
