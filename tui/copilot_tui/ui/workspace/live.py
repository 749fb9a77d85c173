"""Reply text as it streams: the one buffer per reply on the UI side.

Kept outside any widget, so hidden panes cost nothing and a tab made while a reply streams
starts from what already arrived. The service's handler appends here (inside service tasks)
and tells the screen only when a session goes from clean to dirty, so each view flushes at
its own pace. The final ``assistant.message`` event repeats the whole text; views ignore it
and read this buffer instead, so a session's last reply stays here until its next one starts
(a view that takes the end late, or is made after it, still finds the text).
"""

from __future__ import annotations


class LiveText:
    def __init__(self) -> None:
        self._parts: dict[str, list[str]] = {}  # message id -> chunks
        self._current: dict[str, str] = {}  # session id -> streaming message id
        self._ended: dict[str, str] = {}  # session id -> its last finished message id
        self._dirty: set[str] = set()

    def start(self, session_id: str, message_id: str) -> None:
        ended = self._ended.pop(session_id, None)
        if ended is not None and ended != message_id:
            self._parts.pop(ended, None)
        self._parts[message_id] = []
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
        """The reply ended: it is no longer current, its text stays until the next one."""
        if self._current.get(session_id) == message_id:
            del self._current[session_id]
        if message_id in self._parts:
            previous = self._ended.get(session_id)
            if previous is not None and previous != message_id:
                self._parts.pop(previous, None)
            self._ended[session_id] = message_id
        self._dirty.discard(session_id)

    def forget(self, session_id: str) -> None:
        """A deleted session: drop its text."""
        for message_id in (self._current.pop(session_id, None), self._ended.pop(session_id, None)):
            if message_id is not None:
                self._parts.pop(message_id, None)
        self._dirty.discard(session_id)
