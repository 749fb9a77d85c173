"""A session: its history, its queue of prompts, and the task that runs each turn."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .. import events as ev
from ..errors import CopilotTuiError
from ..types import (
    Attachment,
    Message,
    PermissionDecision,
    PermissionRequest,
    Sampling,
    SessionInfo,
    SessionMode,
)
from .agent import PermissionHandler, Permissions
from .attachments import read_attachments
from .bus import EventBus
from .runtime import Runtime
from .turn import History, Prompt, State, Turn

Handler = Callable[[ev.SessionEvent], Any]


class Session:
    """One conversation. Sends are queued and run one at a time; sessions never wait on each other."""

    def __init__(self, runtime: Runtime, info: SessionInfo) -> None:
        self._rt = runtime
        self.info = info
        self._events: EventBus[ev.SessionEvent] = EventBus(
            f"session {info.session_id}", then=runtime.events
        )
        self._pending: deque[Prompt] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._turn: Turn | None = None  # the one running now
        self._task: asyncio.Task[None] | None = None  # the task running it
        self._disposed = False
        self._history = History(runtime.store, info.session_id)
        # an agent's permission requests (agent.py); the handler is on_permission_request
        self.permissions = Permissions(self._emit, self._permission_note)

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

    def _permission_note(self, note: str | None) -> None:
        """A permission request waits for the user (note), or was answered (None)."""
        if self._turn is not None:
            self._turn.set_note(note)

    @property
    def turn(self) -> Turn | None:
        """The turn running now: its text and figures so far (a comparison's pane reads them)."""
        return self._turn

    @property
    def state(self) -> State:
        return self._turn.state if self._turn is not None else "idle"

    @property
    def status_note(self) -> str | None:
        """Why the running turn waits ("waiting for the local model", "retrying in 3 s")."""
        return self._turn.note if self._turn is not None else None

    @property
    def live(self) -> Message | None:
        """The reply streaming now (its text as last saved), while its turn runs."""
        turn = self._turn
        return turn.reply if turn is not None and turn.live else None

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

    async def send(
        self,
        prompt: str,
        *,
        max_tokens: int | None = None,
        attachments: Sequence[str | os.PathLike[str] | Attachment] = (),
    ) -> str:
        """Queue a prompt and return its message id at once; the turn runs in the background.
        ``attachments``: paths of text files (sent as context) and images (to models that
        take them), checked before anything is queued."""
        if self._disposed:
            raise CopilotTuiError(
                f"Session {self.session_id!r} was disposed; resume it to use it again."
            )
        if not isinstance(prompt, str) or not prompt.strip():
            raise CopilotTuiError("The prompt is empty.")
        files = await asyncio.to_thread(read_attachments, attachments) if attachments else []
        if any(a.kind == "image" for a in files) and not self._rt.providers.accepts_images(
            self.model
        ):
            raise CopilotTuiError(
                f"{self.model} cannot take images; attach text files only, or switch to a "
                "model that reads images."
            )
        return self._queue(Prompt(uuid.uuid4().hex, prompt, max_tokens, attachments=files))

    def _queue(self, pending: Prompt) -> str:
        if self._disposed:
            raise CopilotTuiError(
                f"Session {self.session_id!r} was disposed; resume it to use it again."
            )
        self._pending.append(pending)
        if self._worker is None or self._worker.done():
            self._worker = self._rt.spawn(self._drain(), name=f"session-{self.session_id}")
        return pending.message_id

    async def regenerate(self, *, max_tokens: int | None = None) -> str:
        """Answer the last prompt again; the earlier reply stays as another version of it.
        Queued like a send; returns the turn's id at once."""
        if not self.busy and not any(
            m.role == "user" for m in await self._rt.store.get_messages(self.session_id, limit=2)
        ):
            raise CopilotTuiError("There is no reply to regenerate yet.")
        return self._queue(Prompt(uuid.uuid4().hex, "", max_tokens, regenerate=True))

    async def edit(self, message_id: str, prompt: str, *, max_tokens: int | None = None) -> str:
        """Send ``prompt`` in place of an earlier prompt: the conversation continues from it
        as a new branch, and the branch it replaces stays reachable (:meth:`select_version`)."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise CopilotTuiError("The prompt is empty.")
        target = await self._rt.store.get_message(message_id)
        if target is None or target.session_id != self.session_id or target.role != "user":
            raise CopilotTuiError(f"Session {self.session_id!r} has no prompt {message_id!r}.")
        return self._queue(Prompt(uuid.uuid4().hex, prompt, max_tokens, edit_of=message_id))

    async def versions(self, message_id: str) -> list[Message]:
        """Every version of a message (it and its siblings: regenerated replies, edited
        prompts), oldest first."""
        return await self._rt.store.get_versions(message_id)

    async def select_version(self, message_id: str) -> None:
        """Show and continue the branch through this version of a message."""
        if self.busy:
            raise CopilotTuiError(
                "Wait for the reply to end (or stop it) before switching versions."
            )
        target = await self._rt.store.get_message(message_id)
        if target is None or target.session_id != self.session_id:
            raise CopilotTuiError(f"Session {self.session_id!r} has no message {message_id!r}.")
        await self._rt.store.select_message(message_id)
        self._history.forget()
        await self._rt.providers.sdk.forget(self.session_id, delete=True)  # its copy is stale
        fresh = await self._rt.store.get_session(self.session_id)
        if fresh is not None:
            self.info.message_count = fresh.message_count
            self.info.last_status = fresh.last_status
        self._emit(ev.BRANCH_CHANGED, message_id=message_id, turn_id=None, regenerate=False)

    async def step_version(self, message_id: str, step: int) -> Message | None:
        """Switch to the previous (-1) or next (+1) version of a message; None at either end."""
        versions = await self.versions(message_id)
        at = next((i for i, m in enumerate(versions) if m.id == message_id), None)
        if at is None or not 0 <= at + step < len(versions):
            return None
        await self.select_version(versions[at + step].id)
        return versions[at + step]

    async def get_tree(self) -> list[tuple[Message, bool]]:
        """Every message of every branch in the order written, each with whether it is on the
        active branch."""
        return await self._rt.store.get_tree(self.session_id)

    async def count_branches(self) -> int:
        """How many branches the conversation has (1 when it was never regenerated or edited)."""
        return max(1, await self._rt.store.count_branches(self.session_id))

    async def send_and_wait(
        self,
        prompt: str,
        *,
        timeout: float | None = 300.0,
        max_tokens: int | None = None,
        attachments: Sequence[str | os.PathLike[str] | Attachment] = (),
    ) -> Message:
        """Send and wait for this turn's reply; raise its ProviderError if it failed."""
        return await self._wait_for(
            lambda: self.send(prompt, max_tokens=max_tokens, attachments=attachments), timeout
        )

    async def regenerate_and_wait(
        self, *, timeout: float | None = 300.0, max_tokens: int | None = None
    ) -> Message:
        """Regenerate the last reply and wait for the new one."""
        return await self._wait_for(lambda: self.regenerate(max_tokens=max_tokens), timeout)

    async def edit_and_wait(
        self,
        message_id: str,
        prompt: str,
        *,
        timeout: float | None = 300.0,
        max_tokens: int | None = None,
    ) -> Message:
        """Edit an earlier prompt and wait for the reply on the new branch."""
        return await self._wait_for(
            lambda: self.edit(message_id, prompt, max_tokens=max_tokens), timeout
        )

    async def _wait_for(
        self, start: Callable[[], Awaitable[str]], timeout: float | None
    ) -> Message:
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
            turn_id.append(await start())
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
        turn, task = self._turn, self._task
        if turn is not None and task is not None and not task.done():
            turn.stopping = True
            task.cancel()
            await asyncio.wait({task})

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

    async def get_outline(self) -> list[tuple[int, str, str, int]]:
        """``(seq, id, role, length)`` of the active branch's user and assistant messages."""
        return await self._rt.store.message_outline(self.session_id)

    async def get_messages_between(self, first_seq: int, last_seq: int) -> list[Message]:
        """The messages from ``first_seq`` to ``last_seq``, the live reply as it stands."""
        messages = await self._rt.store.get_messages_between(self.session_id, first_seq, last_seq)
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

    @property
    def params(self) -> Sampling:
        """This session's own generation parameters (unset ones come from the config)."""
        return self.info.params

    @property
    def effective_params(self) -> Sampling:
        """What the next turn sends: this session's values, else the config's for its model."""
        return self.info.params.over(self._rt.providers.params_for(self.model))

    async def set_params(self, **values: float | int | None) -> Sampling:
        """Change some of the session's parameters (``temperature=0.2``, ``seed=None`` to
        unset one); the next turn sends them. Bad values raise one sentence."""
        merged = {**self.info.params.to_dict(), **values}
        try:
            params = Sampling.parse({k: v for k, v in merged.items() if v is not None})
        except ValueError as exc:
            raise CopilotTuiError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
        self.info.params = params
        await self._rt.store.update_session(self.session_id, params=params)
        self._emit(ev.PARAMS_CHANGED, params=params)
        return params

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
            turn = self._turn = Turn(
                self._rt,
                self.info,
                self._events,
                self._history,
                self._pending.popleft(),
                self.permissions,
            )
            task = self._task = asyncio.create_task(turn.run(), name=f"turn-{self.session_id}")
            try:
                # wait() rather than await: an aborted turn must not cancel this worker.
                await asyncio.wait({task})
            except asyncio.CancelledError:
                task.cancel()
                raise
            finally:
                self._turn = self._task = None
            if task.cancelled():
                turn.end_unstarted()
