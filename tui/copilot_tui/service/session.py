"""A session: its history, its queue of prompts, and the task that runs each turn."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import events as ev
from ..errors import CopilotTuiError, EarlyClose, ProviderError
from ..providers.base import ChatMessage, ChatRequest
from ..providers.guard import ReplyGuard, guarded
from ..redact import redact
from ..text import clean_text
from ..types import (
    Message,
    PermissionDecision,
    PermissionRequest,
    ReplyStats,
    SessionInfo,
    SessionMode,
)
from .agent import PermissionHandler, Permissions, open_stream
from .bus import EventBus
from .runtime import Runtime

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)

Handler = Callable[[ev.SessionEvent], Any]
State = Literal["idle", "waiting", "streaming"]

FLUSH_INTERVAL = 1.0  # seconds between saves of a streaming reply
MAX_RETRY_WAIT = 20.0  # longer server-requested waits become an error
MAX_ATTEMPTS = 4
TITLE_LENGTH = 60


def _one_line(exc: BaseException) -> str:
    """An exception as one line fit for the user: a CopilotTuiError's own sentence, else its type
    and text (masked and cleaned, since it may quote what a server sent)."""
    if isinstance(exc, CopilotTuiError):
        return str(exc)
    return " ".join(redact(clean_text(f"{type(exc).__name__}: {exc}")).split())


def auto_title(prompt: str) -> str:
    line = next((ln.strip() for ln in prompt.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "\u2026"


@dataclass(slots=True)
class _Pending:
    message_id: str
    prompt: str
    max_tokens: int | None


class Session:
    """One conversation. Sends are queued and run one at a time; sessions never wait on each other."""

    def __init__(self, runtime: Runtime, info: SessionInfo) -> None:
        self._rt = runtime
        self.info = info
        self.state: State = "idle"
        self.status_note: str | None = None  # "waiting for the local model", "retrying in 3 s"
        self.live: Message | None = None  # the reply streaming now, with its text so far
        self._events: EventBus[ev.SessionEvent] = EventBus(
            f"session {info.session_id}", then=runtime.events
        )
        self._pending: deque[_Pending] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._turn: asyncio.Task[None] | None = None
        self._abort_requested = False
        self._disposed = False
        # the conversation so far, read from the store on the first turn and kept up to date by
        # each turn here, so a turn's request need not wait for the store (None: read it again)
        self._history: list[Message] | None = None
        # an agent's permission requests (agent.py); the handler is on_permission_request
        self.permissions = Permissions(
            self._emit,
            lambda note: self._set_state("waiting" if note else "streaming", note),
        )

    # -- identity ------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.info.session_id

    @property
    def model(self) -> str:
        return self.info.model

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def mode(self) -> SessionMode:
        """A chat (no tools) or an agent (the Copilot runtime's tools, working in ``cwd``)."""
        return self.info.mode

    @property
    def cwd(self) -> str | None:
        return self.info.cwd

    @property
    def on_permission_request(self) -> PermissionHandler | None:
        """Decides an agent's permission requests (the SDK's name); None: ask through events."""
        return self.permissions.handler

    @on_permission_request.setter
    def on_permission_request(self, handler: PermissionHandler | None) -> None:
        self.permissions.handler = handler

    @property
    def pending_permissions(self) -> list[PermissionRequest]:
        return list(self.permissions.pending.values())

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Answer a permission request asked through events; False when none is pending."""
        return self.permissions.answer(request_id, decision)

    @property
    def busy(self) -> bool:
        return self.state != "idle" or bool(self._pending)

    def __repr__(self) -> str:
        return f"<Session {self.session_id} {self.model} {self.state}>"

    # -- events --------------------------------------------------------------------------

    def on(self, handler: Handler) -> Callable[[], None]:
        """Subscribe to this session's events; returns the unsubscribe function."""
        return self._events.on(handler)

    def _emit(self, type_: str, **data: Any) -> None:
        self._events.emit(ev.SessionEvent.make(type_, self.session_id, **data))

    # -- public API ----------------------------------------------------------------------

    async def send(self, prompt: str, *, max_tokens: int | None = None) -> str:
        """Queue a prompt and return its message id at once; the turn runs in the background."""
        if self._disposed:
            raise CopilotTuiError(
                f"Session {self.session_id!r} was disposed; resume it to use it again."
            )
        if not isinstance(prompt, str) or not prompt.strip():
            raise CopilotTuiError("The prompt is empty.")
        pending = _Pending(uuid.uuid4().hex, prompt, max_tokens)
        self._pending.append(pending)
        if self._worker is None or self._worker.done():
            self._worker = self._rt.spawn(self._drain(), name=f"session-{self.session_id}")
        return pending.message_id

    async def send_and_wait(
        self, prompt: str, *, timeout: float | None = 300.0, max_tokens: int | None = None
    ) -> Message:
        """Send and wait for this turn's reply; raise its ProviderError if it failed."""
        done: asyncio.Future[ev.SessionEvent] = asyncio.get_running_loop().create_future()
        turn_id: list[str] = []
        failure: list[ev.SessionEvent] = []

        def watch(event: ev.SessionEvent) -> None:
            if not turn_id or event.data.get("turn_id") != turn_id[0]:
                return
            if event.type == ev.SESSION_ERROR:
                failure.append(event)
            elif event.type == ev.SESSION_IDLE and not done.done():
                done.set_result(event)

        unsubscribe = self.on(watch)
        try:
            turn_id.append(await self.send(prompt, max_tokens=max_tokens))
            idle = await asyncio.wait_for(asyncio.shield(done), timeout)
        finally:
            unsubscribe()
        if failure and failure[0].data.get("exception") is not None:
            raise failure[0].data.exception
        message = (
            await self._rt.store.get_message(idle.data.message_id)
            if idle.data.get("message_id")
            else None
        )
        if message is None:
            raise CopilotTuiError("The reply was not saved.")
        return message

    async def abort(self) -> None:
        """Stop the running turn (its partial reply is kept, marked aborted); queued prompts still run."""
        turn = self._turn
        if turn and not turn.done():
            self._abort_requested = True
            turn.cancel()
            try:
                await asyncio.wait({turn})
            finally:
                self._abort_requested = False

    async def cancel_all(self) -> None:
        """Drop queued prompts and abort the running turn."""
        self._pending.clear()
        await self.abort()

    async def get_messages(
        self, *, limit: int | None = None, before_seq: int | None = None
    ) -> list[Message]:
        messages = await self._rt.store.get_messages(
            self.session_id, limit=limit, before_seq=before_seq
        )
        if self.live is not None:
            for i, m in enumerate(messages):
                if m.id == self.live.id:
                    messages[i] = self.live
        return messages

    async def set_model(self, model: str) -> None:
        ref = await self._rt.providers.check_model(model)
        self.info.model = ref
        await self._rt.store.update_session(self.session_id, model=ref, updated_at=time.time())
        self._emit(ev.MODEL_CHANGE, model=ref)

    async def rename(self, title: str) -> None:
        title = " ".join(title.split())[:200]
        self.info.title = title
        await self._rt.store.update_session(self.session_id, title=title)
        self._emit(ev.TITLE_CHANGED, title=title)

    async def dispose(self) -> None:
        """Release the session's memory; its data stays on disk. A running turn is aborted."""
        await self.cancel_all()
        await self._rt.providers.sdk.forget(self.session_id)
        self._disposed = True
        self._events.clear()
        self._rt.sessions.pop(self.session_id, None)

    # -- the turn ------------------------------------------------------------------------

    async def _drain(self) -> None:
        while self._pending:
            pending = self._pending.popleft()
            turn = self._turn = asyncio.create_task(
                self._run_turn(pending), name=f"turn-{self.session_id}"
            )
            try:
                # wait() rather than await: an aborted turn must not cancel this worker.
                await asyncio.wait({turn})
            except asyncio.CancelledError:
                turn.cancel()
                raise
            finally:
                self._turn = None
            if turn.cancelled():
                # aborted before it even started: still end the turn with its one idle event
                self._emit(
                    ev.SESSION_IDLE,
                    aborted=True,
                    message_id=None,
                    turn_id=pending.message_id,
                    status="aborted",
                )

    def _set_state(self, state: State, note: str | None = None) -> None:
        self.state = state
        self.status_note = note
        self._emit(ev.SESSION_STATUS, state=state, status=note, turn_id=self._turn_id)

    _turn_id: str | None = None

    async def _run_turn(self, pending: _Pending) -> None:
        rt, store = self._rt, self._rt.store
        self._turn_id = turn_id = pending.message_id
        started = time.monotonic()  # replaced by the moment the request goes out
        now = time.time()
        model_ref = self.info.model
        user = Message(
            turn_id, self.session_id, "user", pending.prompt, model_ref, "complete", None, now, now
        )
        reply = Message(
            uuid.uuid4().hex,
            self.session_id,
            "assistant",
            "",
            model_ref,
            "streaming",
            None,
            now,
            now,
        )
        stats = ReplyStats()
        parts: list[str] = []
        chunks = 0
        usage_out: int | None = None
        usage_in: int | None = None
        saved_reply = False
        saving: asyncio.Future[Exception | None] | None = None
        guard = ReplyGuard()  # the provider boundary: text cleaned, secrets masked

        def keep_held() -> None:
            """A turn that ends early keeps the text the guard still held back."""
            tail = guard.drain()
            if tail:
                parts.append(tail)
                self._emit(
                    ev.MESSAGE_DELTA,
                    delta_content=tail,
                    message_id=reply.id,
                    turn_id=turn_id,
                    pieces=0,
                )

        def finish_stats() -> ReplyStats:
            stats.duration = time.monotonic() - started
            stats.input_tokens = usage_in
            if usage_out is not None:
                stats.output_tokens, stats.tokens_estimated = usage_out, False
            else:
                stats.output_tokens, stats.tokens_estimated = chunks, True
            return stats

        async def end_aborted() -> None:
            """The turn was aborted: its text so far is kept, marked aborted."""
            keep_held()
            reply.content = "".join(parts)
            reply.status = "aborted"
            reply.stats = finish_stats()
            try:
                if await self._settle(saving):
                    await asyncio.shield(
                        store.update_message(
                            reply.id, content=reply.content, status="aborted", stats=reply.stats
                        )
                    )
                    self._remember(user, reply)
            except Exception as exc:  # the turn still ends, with its one idle event
                log.warning(
                    "saving the aborted reply of %s failed: %s", self.session_id, _one_line(exc)
                )
            finally:
                self._finish(turn_id, reply, aborted=True)

        try:
            title = (
                " ".join(auto_title(pending.prompt).split())[:200] if not self.info.title else None
            )
            history = self._history
            if history is None:
                history = self._history = await store.get_messages(self.session_id)
            # The prompt and the empty reply are saved in one trip to the store thread while the
            # request goes out: with many sessions starting at once those trips queue on that one
            # thread (100 took 0.6 s), and every request waited for its own. Later writes of this
            # reply queue behind the save on the same thread, and each waits for it to succeed.
            saving = asyncio.ensure_future(
                store.call(self._begin_turn, store.store, user, reply, title)
            )

            async def saved() -> None:
                """Wait until the empty reply is in the store; raise what stopped the save."""
                nonlocal saved_reply
                if not saved_reply:
                    if not await self._settle(saving):
                        raise saving.exception() or saving.result()  # type: ignore[misc]
                    saved_reply = True

            self.info.message_count += 1
            self._emit(ev.USER_MESSAGE, content=pending.prompt, message_id=turn_id, turn_id=turn_id)
            if title is not None:
                self.info.title = title
                self._emit(ev.TITLE_CHANGED, title=title)
            self.info.updated_at = now
            self.info.message_count += 1
            self.live = reply
            self._emit(ev.TURN_START, message_id=reply.id, turn_id=turn_id, model=model_ref)

            provider, model_name = rt.providers.provider_for(model_ref)
            request = ChatRequest(
                model=model_name,
                messages=self._chat_messages(history, pending.prompt),
                max_tokens=pending.max_tokens,
                session_id=self.session_id,
                mode=self.info.mode,
                cwd=self.info.cwd,
                ask_permission=self.permissions.ask,
            )
            limiter = rt.providers.limiter(provider)
            turns = rt.turns
            must_wait = limiter.locked()
            if must_wait:
                self._set_state("waiting", limiter.waiting_note)
            before_slot = time.monotonic()
            await limiter.acquire()
            holding = True
            try:
                # times are the model's: measured from here, the queue wait kept apart
                started = time.monotonic()
                stats.queued = started - before_slot if must_wait else 0.0
                attempt = 0
                last_flush = time.monotonic()
                while True:
                    attempt += 1
                    self._set_state("streaming", None)
                    try:
                        async for chunk in guarded(open_stream(provider, request), guard):
                            if chunk.tool is not None:  # an agent's tool started or ended
                                running = chunk.tool.status == "running"
                                self._emit(
                                    ev.TOOL_START if running else ev.TOOL_COMPLETE,
                                    tool=chunk.tool,
                                    message_id=reply.id,
                                    turn_id=turn_id,
                                )
                            if chunk.status is not None and not parts:
                                self._set_state(
                                    "waiting" if "wait" in chunk.status else "streaming",
                                    chunk.status,
                                )
                            if chunk.text:
                                if not parts:
                                    stats.ttft = time.monotonic() - started
                                    if self.status_note:
                                        self._set_state("streaming", None)
                                parts.append(chunk.text)
                                chunks += chunk.pieces
                                self._emit(
                                    ev.MESSAGE_DELTA,
                                    delta_content=chunk.text,
                                    message_id=reply.id,
                                    turn_id=turn_id,
                                    pieces=chunk.pieces,
                                )
                                t = time.monotonic()
                                if t - last_flush >= FLUSH_INTERVAL:
                                    last_flush = t
                                    reply.content = "".join(parts)
                                    await saved()
                                    await store.update_message(reply.id, content=reply.content)
                                elif turns.overdue(t):
                                    # a fast stream reads without ever waiting (its socket has
                                    # more buffered): let the other sessions, timers and the UI
                                    # run. A paced stream waits on its own; the marker costs one
                                    # callback per pass of the loop, shared by every session.
                                    await asyncio.sleep(0)
                            if chunk.usage is not None:
                                usage_out = (
                                    chunk.usage.output_tokens
                                    if chunk.usage.output_tokens is not None
                                    else usage_out
                                )
                                usage_in = (
                                    chunk.usage.input_tokens
                                    if chunk.usage.input_tokens is not None
                                    else usage_in
                                )
                        break
                    except ProviderError as exc:
                        wait = self._retry_wait(exc, attempt, bool(parts) or guard.holding)
                        if wait is None:
                            raise
                        announced = isinstance(exc, EarlyClose) and limiter.early_end()
                        if announced:
                            self._set_state(
                                "waiting",
                                f"{provider.name} closes replies asked for at the same time: "
                                "sending it one request at a time from now on",
                            )
                        if limiter.over:
                            # wait for the slot instead of the backoff: the others run to their end
                            limiter.release()
                            holding = False
                            if not announced:
                                self._set_state("waiting", limiter.waiting_note)
                            await limiter.acquire()
                            holding = True
                            continue
                        self._set_state("waiting", f"retrying in {max(1, round(wait))} s ({exc})")
                        await asyncio.sleep(wait)
            finally:
                if holding:
                    limiter.release()
            reply.content = "".join(parts)
            reply.status = "complete"
            reply.stats = finish_stats()
            await saved()
            await store.update_message(
                reply.id, content=reply.content, status="complete", stats=reply.stats
            )
            self._remember(user, reply)
            self._emit(ev.MESSAGE, content=reply.content, message_id=reply.id, turn_id=turn_id)
            self._emit(
                ev.USAGE,
                model=model_ref,
                input_tokens=usage_in,
                output_tokens=reply.stats.output_tokens,
                estimated=reply.stats.tokens_estimated,
                duration=reply.stats.duration,
                ttft=reply.stats.ttft,
                queued=reply.stats.queued,
                message_id=reply.id,
                turn_id=turn_id,
            )
            self._finish(turn_id, reply, aborted=False)
        except asyncio.CancelledError:
            await end_aborted()
            if not self._abort_requested:
                raise
        except Exception as exc:
            if self._abort_requested:
                # The abort came first; what failed after it (a body cut off as the connection
                # closed, a limit reached in the same step) is not the turn's outcome.
                try:
                    await asyncio.sleep(0)  # the abort's cancellation, if still pending, lands here
                except asyncio.CancelledError:
                    pass
                await end_aborted()
                return
            if isinstance(exc, CopilotTuiError):
                message, error_type = str(exc), getattr(exc, "error_type", "error")
            else:
                log.warning("unexpected failure in a turn of %s", self.session_id, exc_info=True)
                message, error_type = f"Unexpected error: {_one_line(exc)}.", "internal"
            reply.status = "error"
            try:
                keep_held()
                reply.content = "".join(parts)
                reply.error = message
                reply.stats = finish_stats()
                if await self._settle(saving):
                    self._remember(user, reply)
                    try:
                        await store.update_message(
                            reply.id,
                            content=reply.content,
                            status="error",
                            error=message,
                            stats=reply.stats,
                        )
                    except Exception as store_exc:  # the reply stays on screen; say it is not saved
                        message = f"{message} (and saving failed: {_one_line(store_exc)})"
            finally:
                # whatever failed above, the turn ends with its error and its idle event
                self._emit(
                    ev.SESSION_ERROR,
                    error_type=error_type,
                    message=message,
                    message_id=reply.id,
                    turn_id=turn_id,
                    status_code=getattr(exc, "status_code", None),
                    retry_after=getattr(exc, "retry_after", None),
                    had_text=bool(parts),
                    prompt=pending.prompt,
                    exception=exc,
                )
                self._finish(turn_id, reply, aborted=False)

    def _begin_turn(
        self, store: Store, user: Message, reply: Message, title: str | None
    ) -> Exception | None:
        """On the store thread: the prompt saved, the title, the empty reply."""
        store.add_message(user)
        try:
            if title is not None:
                store.update_session(self.session_id, title=title)
            store.add_message(reply, owner=True)
        except Exception as exc:  # the prompt is saved: report it, then fail the turn
            return exc
        return None

    def _remember(self, user: Message, reply: Message) -> None:
        """A saved turn joins the conversation the next request sends (when it is kept here)."""
        if self._history is not None:
            self._history += [user, reply]

    async def _settle(self, saving: asyncio.Future[Exception | None] | None) -> bool:
        """Whether the turn's empty reply got saved (waiting for the save if it still runs)."""
        if saving is None:
            return False
        try:
            ok = await asyncio.shield(saving) is None
        except BaseException:
            ok = False
        if not ok:
            self._history = None  # what the store holds is not what the turn thought: read it again
        return ok

    def _finish(self, turn_id: str, reply: Message, *, aborted: bool) -> None:
        self.permissions.cancel_all()
        self.live = None
        self.state = "idle"
        self.status_note = None
        self._turn_id = None
        self._emit(
            ev.SESSION_IDLE,
            aborted=aborted,
            message_id=reply.id,
            turn_id=turn_id,
            status=reply.status,
        )

    @staticmethod
    def _retry_wait(exc: ProviderError, attempt: int, has_text: bool) -> float | None:
        """Seconds to wait before retrying, or None: only before any text, only short waits."""
        if has_text or not exc.retryable or attempt >= MAX_ATTEMPTS:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= MAX_RETRY_WAIT else None
        base = min(8.0, 0.5 * 2 ** (attempt - 1))
        return base + random.uniform(0, base / 2)

    def _chat_messages(self, history: list[Message], prompt: str) -> list[ChatMessage]:
        """The whole conversation for the model: system message, earlier turns, the new prompt."""
        out: list[ChatMessage] = []
        if self.info.system_message:
            out.append(ChatMessage("system", self.info.system_message))
        for m in history:
            if m.role == "user" or (m.role == "assistant" and m.content):
                out.append(ChatMessage(m.role, m.content))
        out.append(ChatMessage("user", prompt))
        return out
