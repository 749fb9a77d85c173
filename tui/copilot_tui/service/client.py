"""CopilotClient: the entry point, mirroring the Copilot SDK's client/session API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from .. import events as ev
from ..config import Config, ProviderConfig, default_data_dir, load_config
from ..errors import CopilotTuiError, SessionNotFound, UnknownModel
from ..ids import new_session_id as new_session_id_
from ..ids import validate_session_id
from ..providers import Provider
from ..providers.http import make_http_client, remember_credentials
from ..store import AsyncStore, SearchHit, Store
from ..types import (
    GroupInfo,
    ModelInfo,
    ProviderStatus,
    Readiness,
    Sampling,
    SessionInfo,
    SessionMode,
    Vote,
)
from . import compare as _compare
from . import discovery, login, votes
from . import drafts as _drafts
from .agent import PermissionHandler
from .bus import EventBus
from .compare import Comparison, PaneSpec
from .login import DeviceCode, LoginResult
from .registry import ProviderRegistry
from .runtime import Runtime
from .session import Handler, Session

log = logging.getLogger(__name__)


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
        self._runtime: Runtime | None = None
        self._events: EventBus[ev.SessionEvent] = EventBus(
            "client"
        )  # subscribers may come before start()
        self.default_model: str | None = None
        self.started = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        if self.config is None:
            self.config = load_config(self._config_path)
        data_dir = self._data_dir = self._data_dir or default_data_dir()
        store = AsyncStore(await asyncio.to_thread(Store, data_dir))
        if self._http is None:
            self._http = make_http_client()
        elif remember_credentials not in self._http.event_hooks["request"]:
            self._http.event_hooks["request"].append(remember_credentials)
        configs = {
            name: pc for name, pc in self.config.providers.items() if pc.enabled
        } | discovery.implicit_providers(self.config, data_dir)
        for pc in configs.values():
            pc.data_dir = data_dir
        self.default_model = discovery.default_model(self.config, configs)
        registry = ProviderRegistry(self.config, configs, self._http, lambda: self.default_model)
        self._runtime = Runtime(store, registry, self._events)
        self.started = True

    async def stop(self) -> None:
        """Abort running turns (their partial replies are kept) and release everything."""
        if not self.started:
            return
        rt = self.runtime
        for session in list(rt.sessions.values()):
            with contextlib.suppress(Exception):
                await session.cancel_all()
        await rt.cancel_tasks()
        await rt.providers.aclose()
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
        await asyncio.to_thread(rt.store.close)
        rt.sessions.clear()
        rt.comparisons.clear()
        self.started = False

    async def __aenter__(self) -> CopilotClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def runtime(self) -> Runtime:
        """The inside of a started client: its store, providers, event bus and live sessions."""
        return self._require_started()

    def _require_started(self) -> Runtime:
        if self._runtime is None or not self.started:
            raise CopilotTuiError(
                "The client is not started: use 'async with CopilotClient()' or await client.start()."
            )
        return self._runtime

    @property
    def data_path(self) -> Path:
        return self.runtime.store.path

    # -- events --------------------------------------------------------------------------

    def on(self, handler: Handler) -> Callable[[], None]:
        """Subscribe to the events of every session (the TUI's sidebar and tabs use this)."""
        return self._events.on(handler)

    def _emit(self, type_: str, session_id: str, **data: Any) -> None:
        self._events.emit(ev.SessionEvent.make(type_, session_id, **data))

    # -- providers and models ------------------------------------------------------------

    @property
    def provider_names(self) -> list[str]:
        return list(self.runtime.providers.configs)

    def provider(self, name: str) -> Provider:
        return self.runtime.providers.provider(name)

    def prepare(self) -> None:
        """Import what the first request needs, for a thread to call while the app is idle."""
        self.runtime.providers.prepare()

    def resolve_model(self, ref: str) -> tuple[str, str]:
        return self.runtime.providers.resolve_model(ref)

    async def list_models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """Every model of every usable provider; providers that fail are skipped (see provider_statuses)."""
        statuses = await self.provider_statuses(refresh=refresh)
        return [m for s in statuses if s.usable for m in s.models if m.supported]

    async def provider_statuses(
        self, *, refresh: bool = False, timeout: float = 10.0
    ) -> list[ProviderStatus]:
        names = list(self.runtime.providers.configs)
        return list(await asyncio.gather(*(self._status_of(n, refresh, timeout) for n in names)))

    async def _status_of(self, name: str, refresh: bool, timeout: float) -> ProviderStatus:
        status = await self.runtime.providers.status_of(name, refresh, timeout)
        self._settle_default()
        return status

    @property
    def readiness(self) -> Readiness:
        """What a new conversation would start on, from the statuses known so far (never waits)."""
        return self.runtime.providers.readiness

    async def watch_readiness(self, *, timeout: float = 10.0) -> AsyncGenerator[Readiness, None]:
        """Check every provider at once: yield the readiness now, then again as each answers.

        Providers' modules are imported in a thread first, so a screen that shows the result
        keeps drawing while the checks start.
        """
        self._require_started()
        yield self.readiness
        await asyncio.to_thread(self.prepare)
        tasks = [
            asyncio.ensure_future(self._status_of(n, False, timeout))
            for n in self.runtime.providers.configs
        ]
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
        mode: SessionMode = "chat",
        cwd: str | os.PathLike[str] | None = None,
        on_permission_request: PermissionHandler | None = None,
        params: Sampling | dict[str, Any] | None = None,
    ) -> Session:
        """A new session: a chat (no tools, ``system_message`` as given), or with
        ``mode="agent"`` the Copilot runtime's agent with its tools, working in ``cwd`` (default:
        the current directory); ``on_permission_request`` decides what its tools may do
        (without one, requests are emitted as ``permission.requested`` events). ``params``:
        temperature, top_p, max_tokens, seed, context_size (a dict or a ``Sampling``)."""
        self._require_started()
        if isinstance(params, dict):
            try:
                params = Sampling.parse(params)
            except ValueError as exc:
                raise CopilotTuiError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
        if session_id is not None:
            validate_session_id(session_id)
        if mode not in ("chat", "agent"):
            raise CopilotTuiError(f'A session\'s mode is "chat" or "agent" (got {mode!r}).')
        workdir: str | None = None
        if mode == "agent":
            workdir = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
            if not os.path.isdir(workdir):
                raise CopilotTuiError(f"The working directory {workdir} does not exist.")
        ref = model or self.default_model
        if not ref:
            raise UnknownModel(
                "No model given and no default_model configured; pass model='PROVIDER/MODEL'."
            )
        rt = self.runtime
        ref = await rt.providers.check_model(ref)
        sid = session_id or new_session_id_()
        info = await rt.store.create_session(
            sid,
            ref,
            title=title,
            system_message=system_message or None,
            group_id=group_id,
            mode=mode,
            cwd=workdir,
            params=params,
        )
        session = rt.sessions[sid] = Session(rt, info)
        session.on_permission_request = on_permission_request
        self._emit(ev.SESSION_CREATED, sid, model=ref, title=title, group_id=group_id)
        return session

    async def resume_session(self, session_id: str) -> Session:
        self._require_started()
        validate_session_id(session_id)
        rt = self.runtime
        if session_id in rt.sessions:
            return rt.sessions[session_id]
        info = await rt.store.get_session(session_id)
        if info is None:
            raise SessionNotFound(f"No session with id {session_id!r}.")
        session = rt.sessions[session_id] = Session(rt, info)
        return session

    async def fork_session(
        self,
        session_id: str,
        *,
        at: int | None = None,
        model: str | None = None,
        new_session_id: str | None = None,
    ) -> Session:
        """A new session holding the first ``at`` messages (default all) of this session's
        active branch, on ``model`` (default: the same); the original is left as it is."""
        self._require_started()
        source = await self.get_session_info(session_id)
        if new_session_id is not None:
            validate_session_id(new_session_id)
        if at is not None and at < 0:
            raise CopilotTuiError(f"--at counts messages to keep, from 0 (got {at}).")
        rt = self.runtime
        live = rt.sessions.get(session_id)
        if live is not None and live.busy:
            raise CopilotTuiError(
                f"Session {session_id!r} is answering; fork it once the reply has ended."
            )
        ref = await rt.providers.check_model(model or source.model)
        sid = new_session_id or new_session_id_()
        title = f"{source.title or source.session_id} (fork)"[:200]
        info = await rt.store.fork_session(session_id, sid, ref, keep=at, title=title)
        session = rt.sessions[sid] = Session(rt, info)
        self._emit(ev.SESSION_CREATED, sid, model=ref, title=info.title)
        return session

    def params_for(self, model: str) -> Sampling:
        """The config's generation defaults for a model (its own, then its provider's)."""
        return self.runtime.providers.params_for(model)

    def live_session(self, session_id: str) -> Session | None:
        return self.runtime.sessions.get(session_id)

    async def get_session_info(self, session_id: str) -> SessionInfo:
        validate_session_id(session_id)
        info = await self.runtime.store.get_session(session_id)
        if info is None:
            raise SessionNotFound(f"No session with id {session_id!r}.")
        return info

    async def list_sessions(self) -> list[SessionInfo]:
        self._require_started()
        return await self.runtime.store.list_sessions()

    async def rename_session(self, session_id: str, title: str) -> None:
        session = await self.resume_session(session_id)
        await session.rename(title)

    async def delete_session(self, session_id: str) -> None:
        """Delete a session and its messages permanently (a running turn is aborted first)."""
        self._require_started()
        validate_session_id(session_id)
        session = self.runtime.sessions.pop(session_id, None)
        if session is not None:
            await session.cancel_all()
        await self.runtime.providers.sdk.forget(session_id, delete=True)
        if not await self.runtime.store.delete_session(session_id):
            raise SessionNotFound(f"No session with id {session_id!r}.")
        self._emit(ev.SESSION_DELETED, session_id)

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        self._require_started()
        return await self.runtime.store.search(text, limit)

    async def list_groups(self) -> list[GroupInfo]:
        self._require_started()
        return await self.runtime.store.list_groups()

    # -- comparisons (see compare.py) ----------------------------------------------------

    async def compare(
        self,
        models: Sequence[str | PaneSpec],
        prompt: str,
        system_message: str | None = None,
        title: str | None = None,
        *,
        max_tokens: int | None = None,
        blind: bool = False,
        tags: Sequence[str] = (),
        mode: SessionMode = "chat",
        cwd: str | os.PathLike[str] | None = None,
        on_permission_request: PermissionHandler | None = None,
    ) -> Comparison:
        """Send one prompt to 2-8 models at once, each in its own session of one group.

        ``blind`` labels the panes A, B, C... in random order and hides the models until a vote.
        ``mode="agent"`` makes every pane an agent working on its own copy of ``cwd``."""
        return await _compare.start_comparison(
            self,
            models,
            prompt,
            system_message=system_message,
            title=title,
            max_tokens=max_tokens,
            blind=blind,
            tags=tags,
            mode=mode,
            cwd=cwd,
            on_permission_request=on_permission_request,
        )

    async def open_comparison(self, group_id: str) -> Comparison:
        return await _compare.open_comparison(self, group_id)

    async def list_comparisons(self) -> list[GroupInfo]:
        return await _compare.list_comparisons(self)

    async def tag_comparison(self, group_id: str, tags: Sequence[str]) -> list[str]:
        """Replace a comparison's tags (they filter the leaderboard); returns them as stored."""
        cleaned = _compare.clean_tags(tags)
        if not await self._require_started().store.set_group_tags(group_id, cleaned):
            raise _compare.ComparisonNotFound(f"No comparison with id {group_id!r}.")
        live = self.runtime.comparisons.get(group_id)
        if live is not None:
            live.tags = cleaned
        return cleaned

    # -- votes and the leaderboard (see votes.py) ------------------------------------------

    async def vote(
        self,
        group_id: str,
        *,
        winner: str | None = None,
        ranking: Sequence[Sequence[str]] | None = None,
        tie: bool = False,
        all_bad: bool = False,
        turn: int | None = None,
    ) -> Vote:
        """Record or change the verdict on a comparison's prompt (the latest by default).

        Panes are named by letter (blind), number, or model as given; ``ranking`` lists tiers
        best first, several names in one tier tying."""
        return await votes.cast_vote(  # an open comparison hears of it there (it reveals)
            self._require_started(),
            group_id,
            winner=winner,
            ranking_names=ranking,
            tie=tie,
            all_bad=all_bad,
            turn=turn,
        )

    async def list_votes(self, group_id: str | None = None) -> list[Vote]:
        return await self._require_started().store.list_votes(group_id)

    async def leaderboard(
        self, *, by: str = "model", tag: str | None = None, rounds: int = 200
    ) -> votes.Leaderboard:
        """Standings from every vote (or those on comparisons tagged ``tag``)."""
        all_votes = await self.list_votes()
        return await asyncio.to_thread(votes.standings, all_votes, by=by, tag=tag, rounds=rounds)

    async def unvoted_comparisons(self) -> list[GroupInfo]:
        """Comparisons no verdict was given on, oldest first: a queue to vote through."""
        groups = await self.list_comparisons()
        return sorted((g for g in groups if not g.voted_turns), key=lambda g: g.created_at)

    async def delete_comparison(self, group_id: str, *, sessions: bool = False) -> None:
        await _compare.delete_comparison(self, group_id, sessions=sessions)

    # -- logins ---------------------------------------------------------------------------

    async def login_copilot(self, on_code: Callable[[DeviceCode], Any]) -> LoginResult:
        """GitHub device flow for Copilot; ``on_code`` shows the code and URL to the user."""
        self._require_started()
        pc = self._copilot_config()
        result = await login.login_copilot(pc, self.runtime.providers.http, on_code)
        await self.runtime.providers.forget(pc.name)
        return result

    async def logout_copilot(self) -> Path | None:
        self._require_started()
        pc = self._copilot_config()
        removed = login.logout_copilot(pc)
        await self.runtime.providers.forget(pc.name)
        return removed

    def _copilot_config(self) -> ProviderConfig:
        for pc in self.runtime.providers.configs.values():
            if pc.type == "copilot":
                return pc
        return login.copilot_config(self.config, self._data_dir or default_data_dir())

    # -- drafts (see drafts.py) -----------------------------------------------------------

    async def list_drafts(self) -> dict[str, str]:
        """The unsent prompt text of every session that has some, by session id."""
        return await _drafts.load_drafts(self._require_started().store)

    async def set_draft(self, session_id: str, text: str) -> None:
        """Keep a session's unsent prompt text (blank text forgets it)."""
        await _drafts.save_draft(self._require_started().store, session_id, text)

    # -- small persistent UI state -------------------------------------------------------

    async def get_state(self, key: str, default: Any = None) -> Any:
        return await self.runtime.store.get_state(key, default)

    async def set_state(self, key: str, value: Any) -> None:
        await self.runtime.store.set_state(key, value)
