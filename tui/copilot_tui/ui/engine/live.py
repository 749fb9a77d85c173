"""Reply text as it streams, kept outside any widget so hidden panes cost nothing.

The service calls the app's handler once per token; the handler appends here and tells the
session's pane only when it goes from clean to dirty, so a pane flushes at its own pace.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from ...events import MESSAGE_DELTA, TURN_START, SessionEvent
from ..messages import ServiceEvent, StreamDirty


def route_event(live: LiveText, event: SessionEvent, post: Callable[[Message], object]) -> None:
    """What the UI does inside a service task: buffer the text, post one message, nothing more.

    Text only marks its session dirty (one message until the pane flushes); every other event
    goes on as a ServiceEvent.
    """
    if event.type == MESSAGE_DELTA:
        if live.append(event.session_id, event.data.message_id, event.data.delta_content or ""):
            post(StreamDirty(event.session_id))
        return
    if event.type == TURN_START:
        live.start(event.session_id, event.data.message_id)
    post(ServiceEvent(event))


class LiveText:
    def __init__(self) -> None:
        self._parts: dict[str, list[str]] = {}  # message id -> chunks
        self._session_of: dict[str, str] = {}  # message id -> session id
        self._current: dict[str, str] = {}  # session id -> streaming message id
        self._dirty: set[str] = set()

    def start(self, session_id: str, message_id: str) -> None:
        self._parts[message_id] = []
        self._session_of[message_id] = session_id
        self._current[session_id] = message_id

    def append(self, session_id: str, message_id: str, text: str) -> bool:
        """Add a chunk; True when the session just became dirty (worth one notice)."""
        parts = self._parts.get(message_id)
        if parts is None:
            self.start(session_id, message_id)
            parts = self._parts[message_id]
        parts.append(text)
        if session_id in self._dirty:
            return False
        self._dirty.add(session_id)
        return True

    def text(self, message_id: str) -> str:
        parts = self._parts.get(message_id)
        if not parts:
            return ""
        if len(parts) > 1:  # join once, keep the joined form
            parts[:] = ["".join(parts)]
        return parts[0]

    def current(self, session_id: str) -> str | None:
        return self._current.get(session_id)

    def clean(self, session_id: str) -> None:
        self._dirty.discard(session_id)

    def is_dirty(self, session_id: str) -> bool:
        return session_id in self._dirty

    def finish(self, session_id: str, message_id: str) -> None:
        self._parts.pop(message_id, None)
        self._session_of.pop(message_id, None)
        if self._current.get(session_id) == message_id:
            del self._current[session_id]
        self._dirty.discard(session_id)
