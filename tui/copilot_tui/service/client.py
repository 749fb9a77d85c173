"""CopilotClient: the entry point, mirroring the Copilot SDK's client/session API."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from .. import events as ev
from ..config import Config, ProviderConfig, default_data_dir, load_config
from ..errors import CopilotTuiError, SessionNotFound, UnknownModel, UnknownProvider
from ..ids import new_session_id, split_model_ref, validate_session_id
from ..providers import Provider, provider_class
from ..providers.http import make_http_client, remember_credentials
from ..store import AsyncStore, SearchHit, Store
from ..types import GroupInfo, ModelInfo, ProviderStatus, Readiness, SessionInfo
from . import compare as _compare
from . import discovery, login
from .compare import Comparison, PaneSpec
from .limiter import ProviderLimit
from .login import DeviceCode, LoginResult
from .session import Handler, Session
from .turns import LoopTurns

log = logging.getLogger(__name__)
MODEL_LIST_TTL = 300.0


class CopilotClient:
    """One client, many independent sessions. Use ``async with CopilotClient() as client``."""

    def __init__(
        self,
        config_path: str | Path | None = None,
        data_dir: str | Path | None = None,
        *,
        config: Config | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._config_path = config_path
        self._data_dir = Path(data_dir).expanduser() if data_dir else None
        self.config: Config | None = config
        self._http = http
        self._own_http = http is None
        self._store: AsyncStore = None  # type: ignore[assignment]
        self._providers: dict[str, Provider] = {}
        self._provider_configs: dict[str, ProviderConfig] = {}
        self._limits: dict[str, ProviderLimit] = {}
        self._model_cache: dict[str, tuple[float, list[ModelInfo]]] = {}
        self._statuses: dict[str, ProviderStatus] = {}  # the latest of each provider, for readiness
        self._live: dict[str, Session] = {}
        self._comparisons: dict[str, Comparison] = {}  # open ones, by group id
        self._handlers: list[Handler] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._turns = LoopTurns()  # shared by every session: fast streams step aside in turn
        self.default_model: str | None = None
        self.started = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        if self.config is None:
            self.config = load_config(self._config_path)
        data_dir = self._data_dir = self._data_dir or default_data_dir()
        store = await asyncio.to_thread(Store, data_dir)
        self._store = AsyncStore(store)
        if self._http is None:
            self._http = make_http_client()
        elif remember_credentials not in self._http.event_hooks["request"]:
            self._http.event_hooks["request"].append(remember_credentials)
        self._provider_configs = {
            name: pc for name, pc in self.config.providers.items() if pc.enabled
        } | discovery.implicit_providers(self.config, data_dir)
        for pc in self._provider_configs.values():
            pc.data_dir = data_dir
        self.default_model = discovery.default_model(self.config, self._provider_configs)
        self.started = True

    async def stop(self) -> None:
        """Abort running turns (their partial replies are kept) and release everything."""
        if not self.started:
            return
        for session in list(self._live.values()):
            with contextlib.suppress(Exception):
                await session.cancel_all()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for provider in self._providers.values():
            with contextlib.suppress(Exception):
                await provider.aclose()
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
        await asyncio.to_thread(self._store.close)
        self._live.clear()
        self._comparisons.clear()
        self.started = False

    async def __aenter__(self) -> CopilotClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _require_started(self) -> None:
        if not self.started:
            raise CopilotTuiError("The client is not started: use 'async with CopilotClient()' or await client.start().")

    @property
    def data_path(self) -> Path:
        return self._store.path

    # -- events --------------------------------------------------------------------------

    def on(self, handler: Handler) -> Callable[[], None]:
        """Subscribe to the events of every session (the TUI's sidebar and tabs use this)."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def _emit(self, type_: str, session_id: str, **data: Any) -> None:
        event = ev.SessionEvent.make(type_, session_id, **data)
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:
                log.exception("client event handler failed")

    # -- providers and models ------------------------------------------------------------

    @property
    def provider_names(self) -> list[str]:
        return list(self._provider_configs)

    def provider(self, name: str) -> Provider:
        self._require_started()
        if name not in self._providers:
            pc = self._provider_configs.get(name)
            if pc is None:
                known = ", ".join(self._provider_configs) or "none"
                raise UnknownProvider(f"Unknown provider {name!r} (configured: {known}).")
            self._providers[name] = provider_class(pc.type)(name, pc, self._http)
        return self._providers[name]

    def prepare(self) -> None:
        """Import what the first request needs (each configured provider's module, the HTTP
        stack's async backend), for a thread to call while the app is idle: done on the first
        send, it held the event loop ~80 ms in the middle of starting replies."""
        # modules only: the instances belong to the event loop's thread (see provider())
        for pc in list(self._provider_configs.values()):
            with contextlib.suppress(CopilotTuiError, KeyError, ImportError):
                provider_class(pc.type)
        with contextlib.suppress(ImportError):
            importlib.import_module("anyio._backends._asyncio")

    def resolve_model(self, ref: str) -> tuple[str, str]:
        default_provider = self.config.default_provider if self.config else None
        if not default_provider and self.default_model:
            default_provider = self.default_model.split("/", 1)[0]
        provider, model = split_model_ref(ref, default_provider)
        if provider not in self._provider_configs:
            known = ", ".join(self._provider_configs) or "none"
            raise UnknownProvider(f"Unknown provider {provider!r} in model {ref!r} (configured: {known}).")
        return provider, model

    def _provider_for(self, ref: str) -> tuple[Provider, str]:
        name, model = self.resolve_model(ref)
        return self.provider(name), model

    def _limiter(self, provider: Provider) -> ProviderLimit:
        """The provider's limit, shared by every session (counted even when unlimited, so a
        provider that drops concurrent streams can be lowered to one at a time)."""
        if provider.name not in self._limits:
            self._limits[provider.name] = ProviderLimit(provider.name, provider.max_concurrency or None)
        return self._limits[provider.name]

    async def _models_of(self, name: str, *, refresh: bool = False) -> list[ModelInfo]:
        cached = self._model_cache.get(name)
        if cached and not refresh and time.monotonic() - cached[0] < MODEL_LIST_TTL:
            return cached[1]
        models = await self.provider(name).list_models()
        self._model_cache[name] = (time.monotonic(), models)
        return models

    async def _check_model(self, ref: str) -> str:
        """Normalise a model reference to PROVIDER/MODEL and reject models the provider lacks."""
        name, model = self.resolve_model(ref)
        try:
            models = await asyncio.wait_for(self._models_of(name), 5.0)
        except (CopilotTuiError, TimeoutError):
            return f"{name}/{model}"  # cannot list now: the send will say what is wrong
        if models and not any(m.model == model for m in models):
            sample = ", ".join(m.id for m in models[:8])
            more = ", ..." if len(models) > 8 else ""
            raise UnknownModel(f"Provider {name!r} has no model {model!r} (available: {sample}{more}).")
        return f"{name}/{model}"

    async def list_models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """Every model of every usable provider; providers that fail are skipped (see provider_statuses)."""
        self._require_started()
        statuses = await self.provider_statuses(refresh=refresh)
        return [m for s in statuses if s.usable for m in s.models if m.supported]

    async def provider_statuses(self, *, refresh: bool = False, timeout: float = 10.0) -> list[ProviderStatus]:
        self._require_started()
        return list(await asyncio.gather(*(self._status_of(n, refresh, timeout) for n in self._provider_configs)))

    async def _status_of(self, name: str, refresh: bool, timeout: float) -> ProviderStatus:
        pc = self._provider_configs[name]
        try:
            provider = self.provider(name)
            if not refresh and name in self._model_cache:
                return ProviderStatus(name, pc.type, True, models=self._model_cache[name][1])
            status = await asyncio.wait_for(provider.status(), timeout)
        except TimeoutError:
            status = ProviderStatus(name, pc.type, False, reason=f"{name} did not answer within {timeout:g} s.")
        except CopilotTuiError as exc:
            status = ProviderStatus(name, pc.type, False, reason=str(exc))
        except Exception as exc:  # a broken provider must not break the model list
            log.exception("provider %s status failed", name)
            status = ProviderStatus(name, pc.type, False, reason=f"{type(exc).__name__}: {exc}")
        if status.usable:
            self._model_cache[name] = (time.monotonic(), status.models)
        self._statuses[name] = status
        self._settle_default()
        return status

    @property
    def readiness(self) -> Readiness:
        """What a new conversation would start on, from the statuses known so far (never waits)."""
        self._require_started()
        assert self.config is not None
        return discovery.readiness(self.config, self._provider_configs, self._statuses)

    async def watch_readiness(self, *, timeout: float = 10.0) -> AsyncIterator[Readiness]:
        """Check every provider at once: yield the readiness now, then again as each answers.

        Providers' modules are imported in a thread first, so a screen that shows the result
        keeps drawing while the checks start.
        """
        self._require_started()
        yield self.readiness
        await asyncio.to_thread(self.prepare)
        tasks = [asyncio.ensure_future(self._status_of(n, False, timeout)) for n in self._provider_configs]
        try:
            for done in asyncio.as_completed(tasks):
                await done
                yield self.readiness
        finally:
            for task in tasks:
                task.cancel()

    def _settle_default(self) -> None:
        """Without a configured default, the default is the best provider seen to answer.

        Start-up never waits on the network, so it can only guess (see discovery); Ollama's
        models, say, are known only once it answers, and a saved login may turn out refused.
        """
        if self.config is None or self.config.default_model:
            return
        ready = self.readiness
        if ready.confirmed and ready.model:
            self.default_model = ready.model

    # -- sessions ------------------------------------------------------------------------

    async def create_session(
        self,
        model: str | None = None,
        session_id: str | None = None,
        system_message: str | None = None,
        *,
        title: str = "",
        group_id: str | None = None,
    ) -> Session:
        self._require_started()
        if session_id is not None:
            validate_session_id(session_id)
        ref = model or self.default_model
        if not ref:
            raise UnknownModel("No model given and no default_model configured; pass model='PROVIDER/MODEL'.")
        ref = await self._check_model(ref)
        sid = session_id or new_session_id()
        info = await self._store.create_session(
            sid, ref, title=title, system_message=system_message or None, group_id=group_id
        )
        session = Session(self, info)
        self._live[sid] = session
        self._emit(ev.SESSION_CREATED, sid, model=ref, title=title)
        return session

    async def resume_session(self, session_id: str) -> Session:
        self._require_started()
        validate_session_id(session_id)
        if session_id in self._live:
            return self._live[session_id]
        info = await self._store.get_session(session_id)
        if info is None:
            raise SessionNotFound(f"No session with id {session_id!r}.")
        session = Session(self, info)
        self._live[session_id] = session
        return session

    def live_session(self, session_id: str) -> Session | None:
        return self._live.get(session_id)

    async def get_session_info(self, session_id: str) -> SessionInfo:
        validate_session_id(session_id)
        info = await self._store.get_session(session_id)
        if info is None:
            raise SessionNotFound(f"No session with id {session_id!r}.")
        return info

    async def list_sessions(self) -> list[SessionInfo]:
        self._require_started()
        return await self._store.list_sessions()

    async def rename_session(self, session_id: str, title: str) -> None:
        session = await self.resume_session(session_id)
        await session.rename(title)

    async def delete_session(self, session_id: str) -> None:
        """Delete a session and its messages permanently (a running turn is aborted first)."""
        self._require_started()
        validate_session_id(session_id)
        session = self._live.pop(session_id, None)
        if session is not None:
            await session.cancel_all()
        if not await self._store.delete_session(session_id):
            raise SessionNotFound(f"No session with id {session_id!r}.")
        self._emit(ev.SESSION_DELETED, session_id)

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        self._require_started()
        return await self._store.search(text, limit)

    async def list_groups(self) -> list[GroupInfo]:
        self._require_started()
        return await self._store.list_groups()

    # -- comparisons (see compare.py) ----------------------------------------------------

    async def compare(
        self,
        models: list[str | PaneSpec],
        prompt: str,
        system_message: str | None = None,
        title: str | None = None,
        *,
        max_tokens: int | None = None,
    ) -> Comparison:
        """Send one prompt to 2-8 models at once, each in its own session of one group."""
        return await _compare.start_comparison(
            self, models, prompt, system_message=system_message, title=title, max_tokens=max_tokens
        )

    async def open_comparison(self, group_id: str) -> Comparison:
        return await _compare.open_comparison(self, group_id)

    async def list_comparisons(self) -> list[GroupInfo]:
        return await _compare.list_comparisons(self)

    async def delete_comparison(self, group_id: str, *, sessions: bool = False) -> None:
        await _compare.delete_comparison(self, group_id, sessions=sessions)

    # -- logins ---------------------------------------------------------------------------

    async def login_copilot(self, on_code: Callable[[DeviceCode], Any]) -> LoginResult:
        """GitHub device flow for Copilot; ``on_code`` shows the code and URL to the user."""
        self._require_started()
        pc = self._copilot_config()
        result = await login.login_copilot(pc, self._http, on_code)
        await self._forget_provider(pc.name)
        return result

    async def logout_copilot(self) -> Path | None:
        self._require_started()
        pc = self._copilot_config()
        removed = login.logout_copilot(pc)
        await self._forget_provider(pc.name)
        return removed

    def _copilot_config(self) -> ProviderConfig:
        for pc in self._provider_configs.values():
            if pc.type == "copilot":
                return pc
        return login.copilot_config(self.config, self._data_dir or default_data_dir())

    async def _forget_provider(self, name: str) -> None:
        """Drop a provider's cached state so the next use sees a new login."""
        self._model_cache.pop(name, None)
        self._statuses.pop(name, None)
        provider = self._providers.pop(name, None)
        if provider is not None:
            with contextlib.suppress(Exception):
                await provider.aclose()

    # -- small persistent UI state -------------------------------------------------------

    async def get_state(self, key: str, default: Any = None) -> Any:
        return await self._store.get_state(key, default)

    async def set_state(self, key: str, value: Any) -> None:
        await self._store.set_state(key, value)
