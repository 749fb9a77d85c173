"""A turn: one prompt and its reply, from the saved prompt to the turn's one idle event.

Its steps, in order: :meth:`Turn.begin` (the prompt and an empty reply saved, the request
built), :meth:`Turn.stream` (the provider's chunks through the guard, each attempt retried
only before the first word), then exactly one of :meth:`Turn.finish` (complete),
:meth:`Turn.abort` (stopped: the text so far kept, marked aborted) or :meth:`Turn.fail` (the
error in one sentence, the text so far kept). A session runs every prompt as a turn; a
comparison's panes are sessions, so their replies run through here too.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .. import events as ev
from ..errors import CopilotTuiError, EarlyClose, ProviderError
from ..providers.base import ChatImage, ChatMessage, ChatRequest, StreamChunk
from ..providers.guard import ReplyGuard, guarded
from ..redact import redact
from ..text import clean_text
from ..types import Attachment, Message, ReplyStats, Sampling, SessionInfo
from .agent import Permissions, open_stream
from .attachments import with_text
from .bus import EventBus
from .runtime import Runtime

if TYPE_CHECKING:
    from ..providers import Provider
    from ..store import AsyncStore, Store
    from .limiter import ProviderLimit

log = logging.getLogger(__name__)

State = Literal["idle", "waiting", "streaming"]

FLUSH_INTERVAL = 1.0  # seconds between saves of a streaming reply
MAX_RETRY_WAIT = 20.0  # longer server-requested waits become an error
MAX_ATTEMPTS = 4
TITLE_LENGTH = 60


def one_line(exc: BaseException) -> str:
    """An exception as one line fit for the user: a CopilotTuiError's own sentence, else its type
    and text (masked and cleaned, since it may quote what a server sent)."""
    if isinstance(exc, CopilotTuiError):
        return str(exc)
    return " ".join(redact(clean_text(f"{type(exc).__name__}: {exc}")).split())


def auto_title(prompt: str) -> str:
    line = next((ln.strip() for ln in prompt.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "\u2026"


def retry_wait(exc: ProviderError, attempt: int, has_text: bool) -> float | None:
    """Seconds to wait before retrying, or None: only before any text, only short waits."""
    if has_text or not exc.retryable or attempt >= MAX_ATTEMPTS:
        return None
    if exc.retry_after is not None:
        return exc.retry_after if exc.retry_after <= MAX_RETRY_WAIT else None
    base = min(8.0, 0.5 * 2 ** (attempt - 1))
    return base + random.uniform(0, base / 2)


@dataclass(slots=True)
class Prompt:
    """A prompt queued in a session; its id is the turn's id and the user message's id.

    ``regenerate``: answer the last prompt of the active branch again (``text`` unused, no new
    user message). ``edit_of``: the earlier prompt this one replaces, so the conversation
    branches there. Both are resolved when the turn begins, on the branch as it is then."""

    message_id: str
    text: str
    max_tokens: int | None
    regenerate: bool = False
    edit_of: str | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def branches(self) -> bool:
        return self.regenerate or self.edit_of is not None


class History:
    """A session's conversation as its next request sends it: read from the store on the first
    turn, kept up to date by each saved turn (so a request need not wait for the store), read
    again after a save failed (the store may not hold what the turn thought)."""

    def __init__(self, store: AsyncStore, session_id: str) -> None:
        self._store = store
        self._session_id = session_id
        self._messages: list[Message] | None = None

    async def messages(self) -> list[Message]:
        if self._messages is None:
            self._messages = await self._store.get_messages(self._session_id)
        return self._messages

    def replace(self, messages: list[Message]) -> None:
        """The turn branched: what came before its prompt on the new branch."""
        self._messages = list(messages)

    def add(self, user: Message, reply: Message) -> None:
        if self._messages is not None:
            self._messages += [user, reply]

    def forget(self) -> None:
        self._messages = None


class Turn:
    """One prompt's reply. :meth:`run` takes it through its steps; the session reads
    :attr:`state`, :attr:`note` and :attr:`live` while it runs."""

    retry_wait = staticmethod(retry_wait)  # the retry policy (tests make its waits short)

    def __init__(
        self,
        runtime: Runtime,
        info: SessionInfo,
        events: EventBus[ev.SessionEvent],
        history: History,
        prompt: Prompt,
        permissions: Permissions | None = None,
    ) -> None:
        self._rt = runtime
        self._permissions = permissions
        self._info = info
        self._events = events
        self._history = history
        self.prompt = prompt
        self.id = prompt.message_id
        self.state: State = "idle"
        self.note: str | None = None  # "waiting for the local model", "retrying in 3 s"
        self.live = False  # the reply is streaming (what the session shows as its live message)
        self.stopping = False  # an abort was asked for: what fails after it is not the outcome
        self._ran = False
        now = time.time()
        model = self.model = info.model  # the session's model when the turn began
        sid = info.session_id
        self.user = Message(self.id, sid, "user", prompt.text, model, "complete", None, now, now)
        self.user.attachments = list(prompt.attachments)
        self.reply = Message(
            uuid.uuid4().hex, sid, "assistant", "", model, "streaming", None, now, now
        )
        self._parts: list[str] = []
        self._joined, self._joined_count = "", 0  # the text as last read, and its piece count
        self._pieces = 0  # the provider's text events: the token estimate without usage
        self._usage_in: int | None = None
        self._usage_out: int | None = None
        self._stats = ReplyStats()
        self._started = time.monotonic()  # replaced by the moment the request goes out
        self._requested = False  # the request went out (the turn holds a slot of the provider)
        self._waiting_since: float | None = None  # when it began waiting for a slot
        self._last_flush = self._started
        self._guard = ReplyGuard()  # the provider boundary: text cleaned, secrets masked
        self._saving: asyncio.Future[Exception | None] | None = None
        self._saved = False
        self._limiter: ProviderLimit | None = None
        self._holding = False  # this turn holds one of the provider's slots

    @property
    def text(self) -> str:
        """The reply's text received so far: joined when read, not per piece (joining per piece
        copies the whole reply each time, quadratic in its length)."""
        if self._joined_count != len(self._parts):
            self._joined, self._joined_count = "".join(self._parts), len(self._parts)
        return self._joined

    def progress(self) -> ReplyStats:
        """The reply's figures so far (its final stats once the turn has ended): times from the
        moment the request went out, the wait for a provider slot kept apart as ``queued``."""
        if not self.live:
            return self.reply.stats
        now = time.monotonic()
        stats = self._stats
        if not self._requested:
            since = self._waiting_since
            return ReplyStats(queued=now - since if since is not None else 0.0)
        tokens: int | None
        if self._usage_out is not None:
            tokens, estimated = self._usage_out, False
        else:
            tokens, estimated = (self._pieces if self._parts else None), True
        return ReplyStats(
            ttft=stats.ttft,
            duration=now - self._started,
            output_tokens=tokens,
            input_tokens=self._usage_in,
            tokens_estimated=estimated,
            queued=stats.queued,
        )

    # -- the whole turn ----------------------------------------------------------------------

    async def run(self) -> None:
        """Every step in order; ends with exactly one idle event whatever happens."""
        self._ran = True
        try:
            provider, request = await self.begin()
            await self.stream(provider, request)
            await self.finish()
        except asyncio.CancelledError:
            await self.abort()
            if not self.stopping:
                raise
        except Exception as exc:
            if self.stopping:
                # The abort came first; what failed after it (a body cut off as the connection
                # closed, a limit reached in the same step) is not the turn's outcome.
                try:
                    await asyncio.sleep(0)  # the abort's cancellation, if still pending, lands here
                except asyncio.CancelledError:
                    pass
                await self.abort()
                return
            await self.fail(exc)

    def end_unstarted(self) -> None:
        """Stopped before it even began: the turn still ends with its one idle event."""
        if self._ran:
            return  # it began, and so ended with its own
        self._emit(
            ev.SESSION_IDLE, aborted=True, message_id=None, turn_id=self.id, status="aborted"
        )

    # -- steps -------------------------------------------------------------------------------

    async def begin(self) -> tuple[Provider, ChatRequest]:
        """Save the prompt and the empty reply, announce the turn, build the request."""
        info, store = self._info, self._rt.store
        history = await self._history.messages()
        if self.prompt.branches:
            history = self._branch(history)
            self._history.replace(history)
            # the Copilot runtime keeps its own copy of the conversation: it starts again from
            # this branch (given in the session's system message) on its next turn
            await self._rt.providers.sdk.forget(info.session_id, delete=True)
        await self._load_files([*history, self.user])
        title = " ".join(auto_title(self.user.content).split())[:200] if not info.title else None
        # The prompt and the empty reply are saved in one trip to the store thread while the
        # request goes out: with many sessions starting at once those trips queue on that one
        # thread (100 took 0.6 s), and every request waited for its own. Later writes of this
        # reply queue behind the save on the same thread, and each waits for it to succeed.
        self._saving = asyncio.ensure_future(store.call(self._save_start, store.store, title))
        if self.prompt.branches:
            info.message_count = len(history)
            self._emit(
                ev.BRANCH_CHANGED,
                message_id=self.user.id,
                turn_id=self.id,
                regenerate=self.prompt.regenerate,
                replaces=self.prompt.edit_of,
                # the new message's place among its versions: it is the newest
                versions=self.reply.versions if self.prompt.regenerate else self.user.versions,
            )
        info.message_count += 1
        if not self.prompt.regenerate:
            self._emit(
                ev.USER_MESSAGE,
                content=self.user.content,
                message_id=self.user.id,
                turn_id=self.id,
                attachments=list(self.user.attachments),
            )
        if title is not None:
            info.title = title
            self._emit(ev.TITLE_CHANGED, title=title)
        info.updated_at = self.user.created_at
        info.message_count += 1
        self.live = True
        self._emit(ev.TURN_START, message_id=self.reply.id, turn_id=self.id, model=self.model)
        provider, model_name = self._rt.providers.provider_for(self.model)
        params = info.params.over(self._rt.providers.params_for(self.model))
        if self.prompt.max_tokens:
            params = Sampling(max_tokens=self.prompt.max_tokens).over(params)
        self._stats.params = params.to_dict() or None
        request = ChatRequest(
            model=model_name,
            messages=self._chat_messages(history),
            max_tokens=self.prompt.max_tokens or params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            context_size=params.context_size,
            session_id=info.session_id,
            mode=info.mode,
            cwd=info.cwd,
            ask_permission=self._permissions.ask if self._permissions is not None else None,
        )
        return provider, request

    async def stream(self, provider: Provider, request: ChatRequest) -> None:
        """Wait for a slot of the provider, then stream the reply, retrying before its first word."""
        limiter = self._limiter = self._rt.providers.limiter(provider)
        must_wait = limiter.locked()
        before_slot = time.monotonic()
        if must_wait:
            self._waiting_since = before_slot
            self._set_state("waiting", limiter.waiting_note)
        await limiter.acquire()
        self._holding = True
        try:
            # times are the model's: measured from here, the queue wait kept apart
            self._started = self._last_flush = time.monotonic()
            self._stats.queued = self._started - before_slot if must_wait else 0.0
            self._requested = True
            attempt = 0
            while True:
                attempt += 1
                self._set_state("streaming", None)
                try:
                    async for chunk in guarded(open_stream(provider, request), self._guard):
                        await self._receive(chunk)
                    return
                except ProviderError as exc:
                    if not await self.retry(exc, attempt, provider.name):
                        raise
        finally:
            if self._holding:
                self._holding = False
                limiter.release()

    async def retry(self, exc: ProviderError, attempt: int, provider: str) -> bool:
        """After a failed attempt: wait and return True to try again, or False to fail. Only
        before the first word; a provider over its (lowered) limit waits for a slot instead."""
        wait = self.retry_wait(exc, attempt, bool(self._parts) or self._guard.holding)
        if wait is None:
            return False
        limiter = self._limiter
        assert limiter is not None  # set by stream(), the only caller
        announced = isinstance(exc, EarlyClose) and limiter.early_end()
        if announced:
            self._set_state(
                "waiting",
                f"{provider} closes replies asked for at the same time: "
                "sending it one request at a time from now on",
            )
        if limiter.over:
            # wait for the slot instead of the backoff: the others run to their end
            limiter.release()
            self._holding = False
            if not announced:
                self._set_state("waiting", limiter.waiting_note)
            await limiter.acquire()
            self._holding = True
            return True
        self._set_state("waiting", f"retrying in {max(1, round(wait))} s ({exc})")
        await asyncio.sleep(wait)
        return True

    async def finish(self) -> None:
        """The reply is complete: saved with its stats, then announced."""
        reply = self.reply
        reply.content = self.text
        reply.status = "complete"
        reply.stats = self._final_stats()
        await self._wait_saved()
        await self._rt.store.update_message(
            reply.id, content=reply.content, status="complete", stats=reply.stats
        )
        self._history.add(self.user, reply)
        self._emit(ev.MESSAGE, content=reply.content, message_id=reply.id, turn_id=self.id)
        self._emit(
            ev.USAGE,
            model=self.model,
            input_tokens=self._usage_in,
            output_tokens=reply.stats.output_tokens,
            estimated=reply.stats.tokens_estimated,
            duration=reply.stats.duration,
            ttft=reply.stats.ttft,
            queued=reply.stats.queued,
            params=reply.stats.params,
            message_id=reply.id,
            turn_id=self.id,
        )
        self._end(aborted=False)

    async def abort(self) -> None:
        """The turn was stopped: its text so far is kept, marked aborted."""
        reply = self.reply
        self._keep_held()
        reply.content = self.text
        reply.status = "aborted"
        reply.stats = self._final_stats()
        try:
            if await self._settle():
                await asyncio.shield(
                    self._rt.store.update_message(
                        reply.id, content=reply.content, status="aborted", stats=reply.stats
                    )
                )
                self._history.add(self.user, reply)
        except Exception as exc:  # the turn still ends, with its one idle event
            log.warning(
                "saving the aborted reply of %s failed: %s", self._info.session_id, one_line(exc)
            )
        finally:
            self._end(aborted=True)

    async def fail(self, exc: Exception) -> None:
        """The turn failed: the error in one sentence, the text so far kept."""
        if isinstance(exc, CopilotTuiError):
            message, error_type = str(exc), getattr(exc, "error_type", "error")
        else:
            log.warning("unexpected failure in a turn of %s", self._info.session_id, exc_info=exc)
            message, error_type = f"Unexpected error: {one_line(exc)}.", "internal"
        reply = self.reply
        reply.status = "error"
        try:
            self._keep_held()
            reply.content = self.text
            reply.error = message
            reply.stats = self._final_stats()
            if await self._settle():
                self._history.add(self.user, reply)
                try:
                    await self._rt.store.update_message(
                        reply.id,
                        content=reply.content,
                        status="error",
                        error=message,
                        stats=reply.stats,
                    )
                except Exception as store_exc:  # the reply stays on screen; say it is not saved
                    message = f"{message} (and saving failed: {one_line(store_exc)})"
        finally:
            # whatever failed above, the turn ends with its error and its idle event
            self._emit(
                ev.SESSION_ERROR,
                error_type=error_type,
                message=message,
                message_id=reply.id,
                turn_id=self.id,
                status_code=getattr(exc, "status_code", None),
                retry_after=getattr(exc, "retry_after", None),
                had_text=bool(self._parts),
                prompt=self.prompt.text,
                exception=exc,
            )
            self._end(aborted=False)

    # -- inside the steps --------------------------------------------------------------------

    async def _receive(self, chunk: StreamChunk) -> None:
        """One chunk of the reply: a tool call, its note, its text (saved about once a second),
        its usage."""
        if chunk.tool is not None:  # an agent's tool started or ended
            running = chunk.tool.status == "running"
            self._emit(
                ev.TOOL_START if running else ev.TOOL_COMPLETE,
                tool=chunk.tool,
                message_id=self.reply.id,
                turn_id=self.id,
            )
        if chunk.status is not None and not self._parts:
            self._set_state("waiting" if "wait" in chunk.status else "streaming", chunk.status)
        if chunk.text:
            if not self._parts:
                self._stats.ttft = time.monotonic() - self._started
                if self.note:
                    self._set_state("streaming", None)
            self._parts.append(chunk.text)
            self._pieces += chunk.pieces
            self._emit(
                ev.MESSAGE_DELTA,
                delta_content=chunk.text,
                message_id=self.reply.id,
                turn_id=self.id,
                pieces=chunk.pieces,
            )
            t = time.monotonic()
            if t - self._last_flush >= FLUSH_INTERVAL:
                self._last_flush = t
                self.reply.content = self.text
                await self._wait_saved()
                await self._rt.store.update_message(self.reply.id, content=self.reply.content)
            elif self._rt.loop_share.overdue(t):
                # a fast stream reads without ever waiting (its socket has more buffered): let
                # the other sessions, timers and the UI run. A paced stream waits on its own;
                # the marker costs one callback per pass of the loop, shared by every session.
                await asyncio.sleep(0)
        if chunk.usage is not None:
            if chunk.usage.output_tokens is not None:
                self._usage_out = chunk.usage.output_tokens
            if chunk.usage.input_tokens is not None:
                self._usage_in = chunk.usage.input_tokens

    def _keep_held(self) -> None:
        """A turn that ends early keeps the text the guard still held back."""
        tail = self._guard.drain()
        if tail:
            self._parts.append(tail)
            self._emit(
                ev.MESSAGE_DELTA,
                delta_content=tail,
                message_id=self.reply.id,
                turn_id=self.id,
                pieces=0,
            )

    def _final_stats(self) -> ReplyStats:
        stats = self._stats
        now = time.monotonic()
        stats.duration = now - self._started
        if not self._requested and self._waiting_since is not None:
            stats.queued = now - self._waiting_since  # it ended while waiting for a slot
        stats.input_tokens = self._usage_in
        if self._usage_out is not None:
            stats.output_tokens, stats.tokens_estimated = self._usage_out, False
        else:
            stats.output_tokens, stats.tokens_estimated = self._pieces, True
        return stats

    async def _load_files(self, messages: list[Message]) -> None:
        """The bytes of the files sent with earlier prompts: every request carries them again."""
        missing = [a for m in messages for a in m.attachments if a.data is None]
        if missing:
            blobs = await self._rt.store.get_blobs(sorted({a.sha256 for a in missing}))
            for a in missing:
                a.data = blobs.get(a.sha256, b"")

    def _branch(self, history: list[Message]) -> list[Message]:
        """Where a regenerated reply or an edited prompt goes: what comes before its prompt on
        the active branch (the rest stays on the old branch)."""
        if self.prompt.regenerate:
            at = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), -1)
            if at < 0:
                raise CopilotTuiError("There is no reply to regenerate yet.")
            self.user = history[at]
            replaced = history[at + 1] if at + 1 < len(history) else None
            self.reply.versions = self.reply.version = (replaced.versions if replaced else 0) + 1
        else:
            at = next((i for i, m in enumerate(history) if m.id == self.prompt.edit_of), -1)
            if at < 0 or history[at].role != "user":
                raise CopilotTuiError("Only a prompt of the conversation shown can be edited.")
            self.user.parent_id = history[at].parent_id
            self.user.versions = self.user.version = history[at].versions + 1
            if not self.user.attachments:  # an edited prompt keeps the files sent with it
                self.user.attachments = list(history[at].attachments)
        self.reply.parent_id = self.user.id
        return history[:at]

    def _save_start(self, store: Store, title: str | None) -> Exception | None:
        """On the store thread: the prompt saved, the title, the empty reply."""
        if not self.prompt.regenerate:
            store.add_message(self.user, branch=self.prompt.edit_of is not None)
        try:
            if title is not None:
                store.update_session(self._info.session_id, title=title)
            store.add_message(self.reply, owner=True, branch=self.prompt.regenerate)
        except Exception as exc:  # the prompt is saved: report it, then fail the turn
            return exc
        return None

    async def _wait_saved(self) -> None:
        """Wait until the empty reply is in the store; raise what stopped the save."""
        if not self._saved:
            if not await self._settle():
                saving = self._saving
                assert saving is not None
                raise saving.exception() or saving.result()  # type: ignore[misc]
            self._saved = True

    async def _settle(self) -> bool:
        """Whether the turn's empty reply got saved (waiting for the save if it still runs)."""
        if self._saving is None:
            return False
        try:
            ok = await asyncio.shield(self._saving) is None
        except BaseException:
            ok = False
        if not ok:
            self._history.forget()
        return ok

    def _chat_messages(self, history: list[Message]) -> list[ChatMessage]:
        """The whole conversation for the model: system message, earlier turns, the new prompt."""
        out: list[ChatMessage] = []
        if self._info.system_message:
            out.append(ChatMessage("system", self._info.system_message))
        for m in [*history, self.user]:
            if m.role == "user":
                images = [
                    ChatImage(a.mime, a.data or b"") for a in m.attachments if a.kind == "image"
                ]
                out.append(ChatMessage("user", with_text(m.content, m.attachments), images))
            elif m.role == "assistant" and m.content:
                out.append(ChatMessage(m.role, m.content))
        return out

    def _set_state(self, state: State, note: str | None = None) -> None:
        self.state, self.note = state, note
        self._emit(ev.SESSION_STATUS, state=state, status=note, turn_id=self.id)

    def set_note(self, note: str | None) -> None:
        """Waiting for the user (an agent's permission request), or streaming again."""
        self._set_state("waiting" if note else "streaming", note)

    def _end(self, *, aborted: bool) -> None:
        if self._permissions is not None:
            self._permissions.cancel_all()
        self.live = False
        self.state, self.note = "idle", None
        self._emit(
            ev.SESSION_IDLE,
            aborted=aborted,
            message_id=self.reply.id,
            turn_id=self.id,
            status=self.reply.status,
        )

    def _emit(self, type_: str, **data: Any) -> None:
        self._events.emit(ev.SessionEvent.make(type_, self._info.session_id, **data))
