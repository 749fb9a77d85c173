"""Agent sessions: which stream a turn reads, and the answers to an agent's permission requests.

An agent's tool asks before it reads, writes, runs a command or fetches a URL. The request goes
to the session's ``on_permission_request`` (the Python API's or the CLI's); without one it is
emitted as ``permission.requested`` and waits for :meth:`Permissions.answer` (the UI's keys).
"approve-for-session" is remembered here for that tool and kind, so the session does not ask
again. Every request ends with ``permission.completed`` carrying the decision.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .. import events as ev
from ..providers.base import ChatRequest, Provider, StreamChunk
from ..types import PermissionDecision, PermissionRequest

log = logging.getLogger(__name__)

DECISIONS: tuple[PermissionDecision, ...] = (
    "approve-once",
    "approve-for-session",
    "reject",
    "user-not-available",
)
PermissionHandler = Callable[
    [PermissionRequest], PermissionDecision | Awaitable[PermissionDecision]
]


def open_stream(provider: Provider, request: ChatRequest) -> AsyncIterator[StreamChunk]:
    """The turn's stream: on the Copilot runtime (agents, and providers set to run there) or
    straight from the provider's own wire format."""
    if provider.uses_runtime(request):
        return provider.stream_runtime(request)
    return provider.stream_chat(request)


class Permissions:
    """One session's permission requests: who answers, what is pending, what is allowed."""

    def __init__(
        self, emit: Callable[..., None], set_waiting: Callable[[str | None], None]
    ) -> None:
        self._emit = emit
        self._set_waiting = set_waiting
        self.handler: PermissionHandler | None = None
        self.pending: dict[str, PermissionRequest] = {}  # asked and not yet answered, by id
        self._answers: dict[str, asyncio.Future[PermissionDecision]] = {}
        self._allowed: set[tuple[str, str]] = set()  # (kind, tool) allowed for the session

    def answer(self, request_id: str, decision: PermissionDecision) -> bool:
        """Answer a pending request (the UI's allow once / allow for session / deny)."""
        future = self._answers.get(request_id)
        if future is None or future.done():
            return False
        future.set_result(decision)
        return True

    def cancel_all(self) -> None:
        """The turn ended: unanswered requests are denied."""
        for future in list(self._answers.values()):
            if not future.done():
                future.set_result("user-not-available")

    async def ask(self, request: PermissionRequest) -> PermissionDecision:
        key = (request.kind, request.tool_name or "")
        common: dict[str, Any] = {
            "request_id": request.request_id,
            "kind": request.kind,
            "tool_name": request.tool_name,
            "summary": request.summary,
        }
        if key in self._allowed:
            self._emit(
                ev.PERMISSION_COMPLETED, decision="approve-for-session", asked=False, **common
            )
            return "approve-once"
        self.pending[request.request_id] = request
        future: asyncio.Future[PermissionDecision] = asyncio.get_running_loop().create_future()
        if self.handler is None:  # answered through answer(), maybe by a handler of this event
            self._answers[request.request_id] = future
        decision: Any = "user-not-available"
        try:
            self._set_waiting(f"waiting for permission: {request.summary}")
            self._emit(ev.PERMISSION_REQUESTED, request=request, **common)
            if self.handler is not None:
                decision = self.handler(request)
                if inspect.isawaitable(decision):
                    decision = await decision
            else:
                decision = await future
        except Exception:
            log.warning("a permission handler failed; the request is denied", exc_info=True)
            decision = "reject"
        finally:
            self.pending.pop(request.request_id, None)
            self._answers.pop(request.request_id, None)
            self._set_waiting(None)
        if decision not in DECISIONS:
            log.warning("a permission handler answered %r; the request is denied", decision)
            decision = "reject"
        if decision == "approve-for-session":
            self._allowed.add(key)
        self._emit(ev.PERMISSION_COMPLETED, decision=decision, asked=True, **common)
        return decision
