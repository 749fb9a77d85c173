"""The session list: filter box, sessions most recent first with their state marks."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ...types import SessionInfo
from ..keymap import SIDEBAR_KEYS, bindings
from ..messages import OpenSession, SessionAction
from ..safe import one_line
from .marks import mark


def relative_time(ts: float, now: float | None = None) -> str:
    delta = max(0.0, (now or time.time()) - ts)
    if delta < 60:
        return "now"
    for size, unit in ((86400 * 7, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if delta >= size:
            return f"{int(delta // size)}{unit}"
    return "now"


class SessionList(OptionList):
    BINDINGS = bindings(SIDEBAR_KEYS)

    @dataclass
    class Requested(Message):
        action: str

    def action_open(self) -> None:
        self.action_select()

    def action_new(self) -> None:
        self.post_message(self.Requested("new"))

    def action_rename(self) -> None:
        self.post_message(self.Requested("rename"))

    def action_delete(self) -> None:
        self.post_message(self.Requested("delete"))


class Sidebar(Vertical):
    """Shows sessions; asks the screen to open, create, rename or delete them by message."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._sessions: list[SessionInfo] = []
        self._marks: dict[str, str] = {}
        self._frame = 0
        self._filter = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Filter sessions  (/)", id="filter")
        yield SessionList(id="sessions")

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    def set_sessions(self, sessions: list[SessionInfo]) -> None:
        self._sessions = sessions
        self._rebuild()

    def set_mark(self, session_id: str, state: str | None) -> None:
        if (self._marks.get(session_id)) == state:
            return
        if state is None:
            self._marks.pop(session_id, None)
        else:
            self._marks[session_id] = state
        self._replace(session_id)

    def get_mark(self, session_id: str) -> str | None:
        return self._marks.get(session_id)

    def tick(self, frame: int) -> None:
        """Advance the streaming spinners."""
        self._frame = frame
        for session_id, state in self._marks.items():
            if state == "streaming":
                self._replace(session_id)

    def highlighted_session(self) -> str | None:
        option_list = self.session_list
        if option_list.highlighted is None:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    def focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def _matches(self, info: SessionInfo) -> bool:
        if not self._filter:
            return True
        needle = self._filter.lower()
        return any(needle in field.lower() for field in (info.title, info.session_id, info.model))

    def _prompt(self, info: SessionInfo) -> Text:
        line = Text.assemble(mark(self._marks.get(info.session_id), self._frame), " ")
        line.append(one_line(info.title) or "(untitled)", style="bold" if self._marks.get(info.session_id) == "unread" else "")
        line.truncate(35, overflow="ellipsis")
        line.append("\n  ")
        line.append(f"{one_line(info.model)} · {relative_time(info.updated_at)}", style="dim")
        return line

    def _rebuild(self) -> None:
        option_list = self.session_list
        keep = self.highlighted_session()
        options = [Option(self._prompt(info), id=info.session_id) for info in self._sessions if self._matches(info)]
        option_list.set_options(options)
        if keep is not None:
            try:
                option_list.highlighted = option_list.get_option_index(keep)
            except Exception:
                pass
        if option_list.highlighted is None and options:
            option_list.highlighted = 0

    def _replace(self, session_id: str) -> None:
        info = next((s for s in self._sessions if s.session_id == session_id), None)
        if info is None:
            return
        try:
            self.session_list.replace_option_prompt(session_id, self._prompt(info))
        except Exception:
            pass  # filtered out

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._rebuild()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        option_list = self.session_list
        if option_list.option_count:
            option_list.focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        if key == "down" and self.query_one("#filter", Input).has_focus:
            self.session_list.focus()

    @on(OptionList.OptionSelected, "#sessions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(OpenSession(event.option.id))

    @on(SessionList.Requested)
    def _requested(self, event: SessionList.Requested) -> None:
        event.stop()
        self.post_message(SessionAction(event.action, self.highlighted_session()))
