"""The workspace: what the UI knows, kept apart from the widgets that draw it.

Sessions and comparisons, each session's mark (streaming, waiting for the provider, unread,
error), its status note and its draft, the open tabs in order and the active one. Service
events are applied here once; widgets read this model, observe its changes and post messages;
the screen composes widgets and runs actions. No Textual here: it is tested without an app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from ... import events as ev
from ...types import GroupInfo, Message, MessageStatus, ReplyStats, SessionInfo
from .live import LiveText
from .tabs import GroupTab, SessionTab, Tab

__all__ = [
    "ActiveChanged",
    "Change",
    "DraftChanged",
    "InfoChanged",
    "Mark",
    "MarkChanged",
    "NoteChanged",
    "SessionsChanged",
    "TabsChanged",
    "Turn",
    "Workspace",
]

Mark = Literal["streaming", "waiting", "unread", "error"]
_GROUP_ORDER: tuple[Mark, ...] = ("streaming", "waiting", "error", "unread")


@dataclass(frozen=True, slots=True)
class MarkChanged:
    session_id: str


@dataclass(frozen=True, slots=True)
class NoteChanged:
    session_id: str


@dataclass(frozen=True, slots=True)
class InfoChanged:
    """A session's title or model changed."""

    session_id: str


@dataclass(frozen=True, slots=True)
class SessionsChanged:
    """The list of sessions and comparisons was read again."""


@dataclass(frozen=True, slots=True)
class TabsChanged:
    """A tab was opened or closed, or the order changed."""


@dataclass(frozen=True, slots=True)
class ActiveChanged:
    tab: Tab | None


@dataclass(frozen=True, slots=True)
class DraftChanged:
    session_id: str
    text: str


@dataclass(slots=True)
class Turn:
    """A session's latest turn as its events told it: what a view made late starts from."""

    reply_id: str
    model: str | None = None
    prompt_id: str | None = None
    prompt: str | None = None
    status: MessageStatus | None = None  # once it ended: complete, aborted or error
    error: str | None = None
    usage: dict[str, Any] | None = None

    @property
    def stats(self) -> ReplyStats | None:
        usage = self.usage
        if usage is None:
            return None
        return ReplyStats(
            ttft=usage.get("ttft"),
            duration=usage.get("duration"),
            output_tokens=usage.get("output_tokens"),
            input_tokens=usage.get("input_tokens"),
            tokens_estimated=bool(usage.get("estimated")),
        )


Change = (
    MarkChanged
    | NoteChanged
    | InfoChanged
    | SessionsChanged
    | TabsChanged
    | ActiveChanged
    | DraftChanged
)
Observer = Callable[[Change], None]


class Workspace:
    def __init__(self, live: LiveText | None = None) -> None:
        self.live = live or LiveText()  # the text of streaming replies, one buffer per reply
        self._sessions: dict[str, SessionInfo] = {}
        self._groups: dict[str, GroupInfo] = {}
        self._group_of: dict[str, str] = {}  # session id -> its comparison's group id
        self._members: dict[str, tuple[str, ...]] = {}  # group id -> its panes' session ids
        self._marks: dict[str, Mark] = {}
        self._seen: set[str] = set()  # sessions listed before: their marks are live state since
        self._errored: set[str] = set()  # failed in the turn now running
        self._notes: dict[str, str] = {}
        self._drafts: dict[str, str] = {}
        self._prompts: dict[str, tuple[str, str]] = {}  # session id -> (message id, text) sent
        self._turns: dict[str, Turn] = {}  # session id -> its latest turn
        self._tabs: list[Tab] = []
        self._active: Tab | None = None
        self._observers: list[Observer] = []

    # -- observers -----------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with every change; returns the unsubscribe function."""
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def _notify(self, change: Change) -> None:
        for observer in list(self._observers):
            observer(change)

    # -- sessions and comparisons --------------------------------------------------------

    @property
    def sessions(self) -> Mapping[str, SessionInfo]:
        return MappingProxyType(self._sessions)

    @property
    def groups(self) -> Mapping[str, GroupInfo]:
        """Comparisons with at least one session still known, by group id."""
        return MappingProxyType(self._groups)

    def info(self, session_id: str) -> SessionInfo | None:
        return self._sessions.get(session_id)

    def title(self, session_id: str) -> str:
        info = self._sessions.get(session_id)
        return info.title if info and info.title else session_id

    def set_sessions(self, sessions: Iterable[SessionInfo], groups: Iterable[GroupInfo]) -> None:
        self._sessions = {s.session_id: s for s in sessions}
        for sid, info in self._sessions.items():  # a reply that failed before this run: its ✗
            if sid not in self._seen and info.last_status == "error":
                self._marks.setdefault(sid, "error")
            self._seen.add(sid)
        self._groups = {
            g.group_id: g for g in groups if any(sid in self._sessions for sid in g.session_ids)
        }
        for group in self._groups.values():
            self._members.setdefault(group.group_id, tuple(group.session_ids))
        self._group_of.update(
            (s.session_id, s.group_id) for s in self._sessions.values() if s.group_id
        )
        self._notify(SessionsChanged())

    def group_of(self, session_id: str) -> str | None:
        """The comparison a session is a pane of (its errors show there, not as a notice)."""
        return self._group_of.get(session_id)

    def members(self, group_id: str) -> tuple[str, ...]:
        return self._members.get(group_id, ())

    def add_comparison(self, group_id: str, session_ids: Iterable[str]) -> None:
        """A comparison just started or opened: its panes are known before the list is read."""
        members = tuple(session_ids)
        self._members[group_id] = members
        for sid in members:
            self._group_of[sid] = group_id

    # -- marks and notes -----------------------------------------------------------------

    def mark(self, session_id: str) -> Mark | None:
        return self._marks.get(session_id)

    @property
    def marks(self) -> Mapping[str, Mark]:
        """Every session that has a mark (most have none)."""
        return MappingProxyType(self._marks)

    def group_mark(self, group_id: str, *, live_only: bool = False) -> Mark | None:
        """A comparison's mark: streaming or waiting while any pane is, else error or unread
        (``live_only``: only the first two, as a compare tab's label shows)."""
        states = {self._marks.get(sid) for sid in self.members(group_id)}
        for state in _GROUP_ORDER[:2] if live_only else _GROUP_ORDER:
            if state in states:
                return state
        return None

    def note(self, session_id: str) -> str:
        """The session's status line: "waiting: too many requests", "retrying in 3 s"..."""
        return self._notes.get(session_id, "")

    def _set_mark(self, session_id: str, mark: Mark | None) -> None:
        if self._marks.get(session_id) == mark:
            return
        if mark is None:
            self._marks.pop(session_id, None)
        else:
            self._marks[session_id] = mark
        self._notify(MarkChanged(session_id))

    def _set_note(self, session_id: str, note: str) -> None:
        if self._notes.get(session_id, "") == note:
            return
        if note:
            self._notes[session_id] = note
        else:
            self._notes.pop(session_id, None)
        self._notify(NoteChanged(session_id))

    # -- service events ------------------------------------------------------------------

    def apply(self, event: ev.SessionEvent) -> None:
        """Take in one service event (text is not one: it goes straight to ``live``)."""
        sid, kind, data = event.session_id, event.type, event.data
        self._follow_turn(sid, kind, data)
        if kind == ev.TURN_START:
            self._errored.discard(sid)
            self._set_mark(sid, "streaming")
        elif kind == ev.SESSION_STATUS and data.get("state") in ("streaming", "waiting"):
            self._set_mark(sid, data.state)
            self._set_note(sid, data.get("status") or "")
        elif kind == ev.SESSION_ERROR:
            self._errored.add(sid)
            prompt = data.get("prompt")
            if not data.get("had_text") and isinstance(prompt, str):
                self.restore_draft(sid, prompt)
        elif kind == ev.SESSION_IDLE:
            message_id = data.get("message_id")
            if message_id:
                self.live.finish(sid, message_id)
            if sid in self._errored:
                self._set_mark(sid, "error")
            elif sid not in self.shown_sessions() and data.get("status") == "complete":
                self._set_mark(sid, "unread")
            else:
                self._set_mark(sid, None)
            self._set_note(sid, "")
        elif kind == ev.SESSION_CREATED:
            group_id = data.get("group_id")
            if isinstance(group_id, str) and group_id:
                self._group_of[sid] = group_id
        elif kind == ev.TITLE_CHANGED and sid in self._sessions:
            self._sessions[sid].title = data.title
            self._notify(InfoChanged(sid))
        elif kind == ev.MODEL_CHANGE and sid in self._sessions:
            self._sessions[sid].model = data.model
            self._notify(InfoChanged(sid))
        elif kind == ev.SESSION_DELETED:
            self.forget(sid)

    def _follow_turn(self, sid: str, kind: str, data: ev.EventData) -> None:
        if kind == ev.USER_MESSAGE:
            self._prompts[sid] = (data.get("message_id") or "", data.get("content") or "")
            return
        if kind == ev.TURN_START:
            prompt_id, prompt = self._prompts.pop(sid, (None, None))
            self._turns[sid] = Turn(data.message_id, data.get("model"), prompt_id, prompt)
            return
        turn = self._turns.get(sid)
        if turn is None or data.get("message_id") not in (None, turn.reply_id):
            return
        if kind == ev.USAGE:
            turn.usage = data.to_dict()
        elif kind == ev.SESSION_ERROR:
            turn.error = data.get("message")
        elif kind == ev.SESSION_IDLE:
            status = data.get("status")
            if status not in ("complete", "aborted", "error"):
                status = "aborted" if data.get("aborted") else "complete"
            turn.status = status

    def turn(self, session_id: str) -> Turn | None:
        return self._turns.get(session_id)

    def turn_messages(self, session_id: str) -> list[Message]:
        """The latest turn as messages, its reply as streaming: what a view made after the turn
        began shows (the reply's text is in ``live``, its end in ``turn``)."""
        messages = []
        turn = self._turns.get(session_id)
        if turn is not None:
            if turn.prompt_id and turn.prompt is not None:
                messages.append(Message(turn.prompt_id, session_id, "user", turn.prompt))
            messages.append(
                Message(turn.reply_id, session_id, "assistant", "", turn.model, "streaming")
            )
        pending = self._prompts.get(session_id)  # sent, its turn not begun yet
        if pending is not None:
            messages.append(Message(pending[0], session_id, "user", pending[1]))
        return messages

    def forget(self, session_id: str) -> None:
        """A deleted session: its tab closes, its marks and draft go."""
        self.close(SessionTab(session_id))
        self.live.forget(session_id)
        self._turns.pop(session_id, None)
        self._prompts.pop(session_id, None)
        self._sessions.pop(session_id, None)
        self._drafts.pop(session_id, None)
        self._errored.discard(session_id)
        self._notes.pop(session_id, None)
        self._set_mark(session_id, None)

    # -- tabs ----------------------------------------------------------------------------

    @property
    def tabs(self) -> tuple[Tab, ...]:
        return tuple(self._tabs)

    @property
    def active(self) -> Tab | None:
        return self._active

    @property
    def active_session(self) -> str | None:
        return self._active.session_id if isinstance(self._active, SessionTab) else None

    def is_open(self, tab: Tab) -> bool:
        return tab in self._tabs

    def open(self, tab: Tab) -> bool:
        """Add a tab at the end; False when it was open already."""
        if tab in self._tabs:
            return False
        self._tabs.append(tab)
        self._notify(TabsChanged())
        return True

    def close(self, tab: Tab) -> bool:
        if tab not in self._tabs:
            return False
        self._tabs.remove(tab)
        if self._active == tab:
            self._active = None
        self._notify(TabsChanged())
        return True

    def reorder(self, tabs: Iterable[Tab]) -> None:
        """The order the tab bar shows (the open tabs stay the same)."""
        order = [t for t in tabs if t in self._tabs]
        order += [t for t in self._tabs if t not in order]
        if order != self._tabs:
            self._tabs = order
            self._notify(TabsChanged())

    def activate(self, tab: Tab | None) -> None:
        """The tab now shown; replies that ended unseen in it are read now."""
        if tab is not None and tab not in self._tabs:
            tab = None
        changed = tab != self._active
        self._active = tab
        for sid in self.shown_sessions():
            if self._marks.get(sid) == "unread":
                self._set_mark(sid, None)
        if changed:
            self._notify(ActiveChanged(tab))

    def shown_sessions(self) -> set[str]:
        """Sessions on screen now: the active conversation, or the active comparison's panes."""
        tab = self._active
        if isinstance(tab, GroupTab):
            return set(self.members(tab.group_id))
        return {tab.session_id} if tab is not None else set()

    def tabs_showing(self, session_id: str) -> list[Tab]:
        """The open tabs that show a session: its own, and its comparison's."""
        shown: list[Tab] = []
        own = SessionTab(session_id)
        if own in self._tabs:
            shown.append(own)
        group_id = self._group_of.get(session_id)
        if group_id is not None and GroupTab(group_id) in self._tabs:
            shown.append(GroupTab(group_id))
        return shown

    # -- drafts --------------------------------------------------------------------------

    @property
    def drafts(self) -> Mapping[str, str]:
        return MappingProxyType(self._drafts)

    def draft(self, session_id: str) -> str:
        return self._drafts.get(session_id, "")

    def load_drafts(self, drafts: Mapping[str, str]) -> None:
        """The drafts kept from the last run (those typed since take precedence)."""
        for sid, text in drafts.items():
            if sid not in self._drafts and text:
                self._drafts[sid] = text
                self._notify(DraftChanged(sid, text))

    def set_draft(self, session_id: str, text: str) -> bool:
        """What the session's prompt holds now; True when that is news."""
        if self._drafts.get(session_id, "") == text:
            return False
        if text:
            self._drafts[session_id] = text
        else:
            self._drafts.pop(session_id, None)
        self._notify(DraftChanged(session_id, text))
        return True

    def restore_draft(self, session_id: str, prompt: str) -> None:
        """A prompt that failed before any reply comes back, unless something new was typed."""
        if not self.draft(session_id).strip():
            self.set_draft(session_id, prompt)
