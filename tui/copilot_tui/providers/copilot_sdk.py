"""The Copilot runtime through GitHub's SDK: one runtime process per app, many sessions.

Wire code only. The SDK (``github-copilot-sdk``, import ``copilot``) is imported and its client
started on first use, off the event loop's critical path (the import alone takes ~0.8 s), so the
app's first frame never waits for it. Each of our sessions maps to one runtime session with the
same id, kept here for as long as its model, mode and directory stay the same. A turn is one
``send`` whose events become :class:`StreamChunk` s: text, usage, retry notes and tool calls;
permission requests go to the caller's ``ask_permission``.

The runtime keeps each session's conversation itself (under ``COPILOT_HOME``); a session the
runtime does not know (new to it, or its state was lost) gets our stored conversation in its
system message instead, so a follow-up still has its history.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .. import errors as E
from ..redact import redact
from ..text import clean_text
from ..types import PermissionDecision, PermissionRequest, ToolCall, Usage
from .base import ChatMessage, StreamChunk

log = logging.getLogger(__name__)

RUNTIME_VERSION = "1.0.102"  # the runtime the pinned SDK (1.0.25) is built for
RUNTIME_HINT = (
    f"install it with 'npm install --prefix ~/.copilot-runtime @github/copilot@{RUNTIME_VERSION}' "
    "and set COPILOT_CLI_PATH to the 'copilot' executable in its "
    "node_modules/@github/copilot-<platform>/ folder (with internet access the SDK downloads it itself)"
)
SDK_HINT = "install it with: pip install 'copilot-tui[copilot]'"
ALIVE_CHECK = 2.0  # seconds of silence in a turn after which the runtime is asked if it is alive
IDLE_AFTER_ERROR = 5.0  # seconds to wait for the idle event that follows an error
RESULT_CHARS = 2000  # a tool's output kept for display

AskPermission = Callable[[PermissionRequest], Awaitable[PermissionDecision]]


def one_line(exc: BaseException) -> str:
    """An SDK or runtime failure as a line fit for the user (masked, cleaned, no traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return " ".join(redact(clean_text(text)).split())[:300]


@dataclass(slots=True, frozen=True)
class SessionSpec:
    """What a runtime session is opened with; when it changes, the session is opened again."""

    model: str
    mode: str = "chat"  # "chat": no tools, our system message; "agent": the runtime's tools
    cwd: str | None = None
    system: str | None = None
    byok: tuple[tuple[str, str], ...] | None = None  # a BYOK provider's settings; None: Copilot


@dataclass(slots=True)
class _Turn:
    ask: AskPermission | None
    tools: dict[str, ToolCall] = field(default_factory=dict)
    # set when a tool's start has been handed on: its permission request is asked after that
    started: dict[str, asyncio.Event] = field(default_factory=dict)

    def handed_on(self, call_id: str) -> asyncio.Event:
        return self.started.setdefault(call_id, asyncio.Event())


def _arrived(turn: _Turn, queue: asyncio.Queue[Any], event: Any) -> None:
    """On the loop, in the runtime's order: a tool's name is known before the permission
    request that follows its start is handled (which does not wait for the queue)."""
    if getattr(getattr(event, "type", None), "value", None) == "tool.execution_start":
        data = event.data
        call_id = str(getattr(data, "tool_call_id", ""))
        turn.tools.setdefault(call_id, ToolCall(call_id, str(getattr(data, "tool_name", "tool"))))
    queue.put_nowait(event)


def _transcript(history: list[ChatMessage]) -> str:
    lines = [f"{m.role.capitalize()}: {m.content}" for m in history if m.role != "system"]
    return "\n\n".join(lines)


def _system_text(spec: SessionSpec, history: list[ChatMessage]) -> str | None:
    """The system message: ours, plus the conversation so far for a session new to the runtime."""
    parts = [spec.system] if spec.system else []
    if history:
        parts.append(
            "The conversation so far (continue it):\n\n" + _transcript(history)
            if parts
            else "Continue this conversation:\n\n" + _transcript(history)
        )
    return "\n\n".join(parts) or None


def _summary(request: Any) -> str:
    for name in ("intention", "full_command_text", "url", "path", "tool_name"):
        value = getattr(request, name, None)
        if isinstance(value, str) and value.strip():
            return " ".join(clean_text(value).split())[:500]
    return str(getattr(request, "kind", "a tool"))


def _result_text(data: Any) -> str | None:
    error = getattr(data, "error", None)
    if error is not None:
        return one_line(Exception(getattr(error, "message", error)))
    result = getattr(data, "result", None)
    content = getattr(result, "content", None) if result is not None else None
    return clean_text(content)[:RESULT_CHARS] if isinstance(content, str) else None


class SdkHost:
    """One SDK client (one runtime process) shared by every provider of an app."""

    def __init__(
        self,
        *,
        github_token: Callable[[], str | None] = lambda: None,
        cli_path: str | None = None,
        home: str | None = None,
    ) -> None:
        self._github_token = github_token
        self._cli_path = cli_path
        self._home = home
        self._client: Any = None
        self._sdk: Any = None
        self._lock = asyncio.Lock()
        self._sessions: dict[str, tuple[SessionSpec, Any]] = {}
        self._turns: dict[str, _Turn] = {}
        self._starting: asyncio.Task[Any] | None = None

    @property
    def started(self) -> bool:
        return self._client is not None

    # -- the runtime ---------------------------------------------------------------------

    def start_soon(self) -> None:
        """Start the runtime in the background (its errors wait for the first real use)."""
        if self._client is None and (self._starting is None or self._starting.done()):
            self._starting = asyncio.ensure_future(self._start_quietly())

    async def _start_quietly(self) -> None:
        with contextlib.suppress(E.CopilotTuiError):
            await self.client()

    async def client(self) -> Any:
        """The started SDK client; raises one ProviderUnavailable sentence when it cannot start."""
        async with self._lock:
            if self._client is not None:
                return self._client
            if not os.environ.get("COPILOT_TUI_DEBUG"):
                # the SDK logs its own failures (with tracebacks) before raising them; ours are
                # the one sentence the user sees
                logging.getLogger("copilot").setLevel(logging.CRITICAL)
            try:
                self._sdk = await asyncio.to_thread(importlib.import_module, "copilot")
            except ImportError:
                raise E.ProviderUnavailable(
                    f"The GitHub Copilot SDK is not installed; {SDK_HINT}."
                ) from None
            path = self._cli_path or os.environ.get("COPILOT_CLI_PATH") or None
            if path is not None and not os.access(path, os.X_OK):
                raise E.ProviderUnavailable(
                    f"The Copilot runtime is not at {path}; {RUNTIME_HINT}."
                )
            token = self._github_token()
            sdk = self._sdk

            def make() -> Any:
                connection = sdk.RuntimeConnection.for_stdio(path=path) if path else None
                return sdk.CopilotClient(
                    connection=connection,
                    github_token=token,
                    base_directory=self._home,
                    log_level="error",
                )

            try:
                client = await asyncio.to_thread(make)
            except Exception as exc:  # no runtime and none to download (offline)
                raise E.ProviderUnavailable(
                    f"The Copilot runtime is not installed ({one_line(exc)}); {RUNTIME_HINT}."
                ) from None
            try:
                await client.start()
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await client.force_stop()
                raise E.ProviderUnavailable(
                    f"The Copilot runtime did not start: {one_line(exc)}."
                ) from None
            self._client = client
            return client

    async def _gone(self, client: Any, why: str) -> E.ProviderError:
        """The runtime died: forget it (the next use starts a new one) and say so."""
        if self._client is client:
            self._client = None
            self._sessions.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.force_stop(), 5)
        return E.ProviderUnavailable(
            f"The Copilot runtime stopped ({why}); the next message starts it again."
        )

    async def _alive(self, client: Any) -> bool:
        try:
            await asyncio.wait_for(client.ping(), 5)
        except Exception:
            return False
        return True

    async def aclose(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        client, self._client = self._client, None
        self._sessions.clear()
        if client is not None:
            try:
                await asyncio.wait_for(client.stop(), 10)
            except Exception:
                with contextlib.suppress(Exception):
                    await client.force_stop()

    # -- account and models --------------------------------------------------------------

    async def auth_status(self) -> tuple[bool, str | None]:
        """Whether the runtime has a GitHub login, and whose (its status message otherwise)."""
        client = await self.client()
        try:
            status = await client.get_auth_status()
        except Exception as exc:
            raise E.ProviderUnavailable(
                f"The Copilot runtime did not say who is logged in: {one_line(exc)}."
            ) from None
        who = getattr(status, "login", None) or getattr(status, "status_message", None)
        return bool(getattr(status, "is_authenticated", False)), who

    async def list_models(self) -> list[Any]:
        client = await self.client()
        try:
            return list(await client.list_models())
        except Exception as exc:
            raise E.AuthenticationError(
                f"GitHub Copilot did not list its models: {one_line(exc)}."
            ) from None

    # -- sessions ------------------------------------------------------------------------

    async def forget(self, session_id: str, *, delete: bool = False) -> None:
        """Close a session's runtime side; ``delete`` also removes what the runtime saved."""
        known = self._sessions.pop(session_id, None)
        if known is not None:
            with contextlib.suppress(Exception):
                await known[1].disconnect()
        if delete and self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.delete_session(session_id)

    async def _open(
        self,
        client: Any,
        session_id: str,
        spec: SessionSpec,
        history: list[ChatMessage],
        github_token: str | None,
    ) -> Any:
        known = self._sessions.get(session_id)
        if known is not None and known[0] == spec:
            return known[1]
        if known is not None:
            await self.forget(session_id)
        options: dict[str, Any] = {
            "model": spec.model,
            "streaming": True,
            "on_permission_request": functools.partial(self._on_permission, session_id),
        }
        if spec.byok is not None:
            options["provider"] = dict(spec.byok)
        if github_token:
            options["github_token"] = github_token
        if spec.cwd:
            options["working_directory"] = spec.cwd

        def system(text: str | None) -> dict[str, Any]:
            if spec.mode == "chat":
                return {
                    "available_tools": [],
                    "system_message": {"mode": "replace", "content": text or ""},
                }
            return {"system_message": {"mode": "append", "content": text}} if text else {}

        session: Any = None
        if history:  # the runtime may still hold this conversation: pick it up there
            try:
                session = await client.resume_session(session_id, **options, **system(spec.system))
            except Exception as exc:
                log.debug("resuming %s in the runtime failed: %s", session_id, one_line(exc))
        if session is None:
            with contextlib.suppress(Exception):  # a stale runtime session under this id
                await client.delete_session(session_id)
            session = await client.create_session(
                session_id=session_id, **options, **system(_system_text(spec, history))
            )
        self._sessions[session_id] = (spec, session)
        return session

    async def _on_permission(self, session_id: str, request: Any, invocation: Any) -> Any:
        """The runtime asks before a tool runs: the turn's ``ask_permission`` decides."""
        rpc = importlib.import_module("copilot.generated.rpc")
        turn = self._turns.get(session_id)
        call_id = getattr(request, "tool_call_id", None)
        if turn is not None and call_id:
            # the runtime asks before our reader has handed on the tool's start: keep that order
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(turn.handed_on(call_id).wait(), 5)
        tool = turn.tools.get(call_id) if turn is not None and call_id else None
        ask = PermissionRequest(
            request_id=str(call_id or id(request)),
            kind=str(getattr(request, "kind", "tool")),
            summary=_summary(request),
            tool_name=tool.name if tool is not None else getattr(request, "tool_name", None),
            tool_call_id=call_id,
            session_id=session_id,
        )
        decision: PermissionDecision = "user-not-available"
        if turn is not None and turn.ask is not None:
            try:
                decision = await turn.ask(ask)
            except Exception:
                log.warning("a permission handler failed; the request is denied", exc_info=True)
                decision = "reject"
        if decision == "approve-once":
            return rpc.PermissionDecisionApproveOnce(approved_interactively=True)
        if decision == "approve-for-session":
            return rpc.PermissionDecisionApproveForSession()
        if decision == "reject":
            return rpc.PermissionDecisionReject()
        return rpc.PermissionDecisionUserNotAvailable()

    async def stream(
        self,
        session_id: str,
        spec: SessionSpec,
        history: list[ChatMessage],
        prompt: str,
        *,
        github_token: str | None = None,
        ask_permission: AskPermission | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """One turn: send ``prompt`` to the session's runtime side and yield what comes back."""
        client = await self.client()
        try:
            session = await self._open(client, session_id, spec, history, github_token)
        except Exception as exc:
            if not await self._alive(client):
                raise await self._gone(client, one_line(exc)) from None
            raise E.ProviderError(
                f"The Copilot runtime could not open the session: {one_line(exc)}."
            ) from None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        turn = self._turns[session_id] = _Turn(ask_permission)
        unsubscribe = session.on(
            lambda event: loop.call_soon_threadsafe(_arrived, turn, queue, event)
        )
        ended = False
        try:
            try:
                await session.send(prompt)
            except Exception as exc:
                if not await self._alive(client):
                    raise await self._gone(client, one_line(exc)) from None
                raise E.ProviderError(
                    f"The Copilot runtime refused the message: {one_line(exc)}."
                ) from None
            async for chunk in self._events(client, queue, turn):
                yield chunk
            ended = True
        finally:
            unsubscribe()
            if self._turns.get(session_id) is turn:
                del self._turns[session_id]
            if not ended and self._client is client:  # aborted or failed: stop the runtime's turn
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(session.abort()), 5)

    async def _events(
        self, client: Any, queue: asyncio.Queue[Any], turn: _Turn
    ) -> AsyncIterator[StreamChunk]:
        error: E.ProviderError | None = None
        error_deadline = 0.0
        mine = False  # events before this turn's user message belong to an earlier turn
        wrote = False
        new_message = False
        loop = asyncio.get_running_loop()
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), ALIVE_CHECK)
            except TimeoutError:
                if error is not None and loop.time() > error_deadline:
                    raise error from None
                if not await self._alive(client):
                    raise await self._gone(client, "it no longer answers") from None
                continue
            kind = getattr(getattr(event, "type", None), "value", None)
            data = getattr(event, "data", None)
            if kind == "user.message":
                mine = True
            elif not mine:
                continue
            elif kind == "assistant.message_start":
                new_message = wrote
            elif kind == "assistant.message_delta":
                if getattr(data, "parent_tool_call_id", None):
                    continue  # a sub-agent's words, not the reply
                text = getattr(data, "delta_content", "") or ""
                if text:
                    if new_message:
                        text, new_message = "\n\n" + text, False
                    wrote = True
                    yield StreamChunk(text=text)
            elif kind == "assistant.usage":
                yield StreamChunk(
                    usage=Usage(
                        getattr(data, "input_tokens", None), getattr(data, "output_tokens", None)
                    )
                )
            elif kind == "tool.execution_start":
                call = ToolCall(
                    call_id=str(getattr(data, "tool_call_id", "")),
                    name=str(getattr(data, "tool_name", "tool")),
                    arguments=dict(getattr(data, "arguments", None) or {}),
                    title=getattr(data, "tool_title", None),
                )
                turn.tools[call.call_id] = call
                turn.handed_on(call.call_id).set()  # its permission request may go on now
                yield StreamChunk(tool=replace(call))
            elif kind == "tool.execution_complete":
                call_id = str(getattr(data, "tool_call_id", ""))
                known = turn.tools.get(call_id) or ToolCall(call_id, "tool")
                done = replace(
                    known,
                    status="done" if getattr(data, "success", False) else "failed",
                    result=_result_text(data),
                )
                turn.tools[call_id] = done
                yield StreamChunk(tool=done)
            elif kind == "session.info" and getattr(data, "info_type", None) == "model_retry":
                yield StreamChunk(
                    status=f"retrying: {one_line(Exception(getattr(data, 'message', '')))}"
                )
            elif kind == "session.error":
                error = E.ProviderError(
                    f"{one_line(Exception(getattr(data, 'message', 'the runtime reported an error')))}",
                    status_code=getattr(data, "status_code", None),
                )
                error_deadline = loop.time() + IDLE_AFTER_ERROR
            elif kind == "session.idle":
                if error is not None:
                    raise error
                yield StreamChunk(finish_reason="stop")
                return


ENV_TOKENS = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN")


def cli_logged_in() -> bool:
    """Whether the Copilot CLI has a saved login, from its config file alone (no process)."""
    home = os.environ.get("COPILOT_HOME") or os.path.join(os.path.expanduser("~"), ".copilot")
    try:
        with open(os.path.join(home, "config.json"), encoding="utf-8", errors="replace") as f:
            return "logged_in_user" in f.read(1_000_000)
    except OSError:
        return False


async def stream_on_runtime(
    provider: Any,
    request: Any,
    settings: dict[str, str] | None,
    github_token: str | None,
    *,
    copilot: bool = False,
) -> AsyncIterator[StreamChunk]:
    """A provider's turn on the Copilot runtime: BYOK ``settings``, or GitHub Copilot itself."""
    host: SdkHost | None = provider.sdk
    if host is None:
        raise E.ProviderUnavailable("The Copilot runtime is not available in this process.")
    if settings is None and not copilot:
        raise E.BadRequest(
            f"Provider {provider.name!r} ({provider.type}) cannot run on the Copilot runtime; "
            "agent sessions need a copilot, openai, anthropic or ollama provider."
        )
    system = next((m.content for m in request.messages if m.role == "system"), None)
    turns = [m for m in request.messages if m.role != "system"]
    if not turns:
        raise E.BadRequest("The prompt is empty.")
    spec = SessionSpec(
        model=request.model,
        mode=request.mode,
        cwd=request.cwd,
        system=system,
        byok=tuple(sorted(settings.items())) if settings is not None else None,
    )
    session_id = request.session_id or f"one-off-{os.getpid()}-{id(request):x}"
    try:
        async for chunk in host.stream(
            session_id,
            spec,
            turns[:-1],
            turns[-1].content,
            github_token=github_token,
            ask_permission=request.ask_permission,
        ):
            yield chunk
    finally:
        if not request.session_id:  # a comparison's one-off request keeps nothing
            await host.forget(session_id, delete=True)
