"""The session list: filter box, sessions most recent first with their state marks.

A comparison shows as one "⚖ title" row with its panes' sessions indented under it: enter on
the group opens the compare view, enter on a pane opens that session as a conversation.
Sessions, comparisons and marks are read from the workspace, whose changes it observes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from ...types import GroupInfo, SessionInfo
from ..engine.access import option_at, option_line, option_lines_known, set_option_prompt
from ..keymap import SIDEBAR_KEYS, bindings
from ..messages import OpenComparison, OpenSession, SessionAction
from ..safe import one_line
from ..workspace import (
    Change,
    GroupTab,
    MarkChanged,
    SessionsChanged,
    SessionTab,
    Tab,
    Workspace,
)
from .marks import SPINNER, mark

# Rows listed at most (the most recent matches): an option list measures every row it holds, so
# 10,000 sessions cost a second per keystroke in the filter. A last row counts the rest.
ROWS = 200
_GROUP_PREFIX = "group:"  # option ids of comparison rows (session ids cannot contain ':')


def group_option(group_id: str) -> str:
    return _GROUP_PREFIX + group_id


def option_tab(option_id: str | None) -> Tab | None:
    """The tab a row opens."""
    if not option_id:
        return None
    if option_id.startswith(_GROUP_PREFIX):
        return GroupTab(option_id.removeprefix(_GROUP_PREFIX))
    return SessionTab(option_id)


def relative_time(ts: float, now: float | None = None) -> str:
    delta = max(0.0, (now or time.time()) - ts)
    if delta < 60:
        return "now"
    for size, unit in ((86400 * 7, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if delta >= size:
            return f"{int(delta // size)}{unit}"
    return "now"


def _line_widths(prompt: object) -> list[int] | None:
    return (
        [cell_len(line) for line in prompt.plain.split("\n")] if isinstance(prompt, Text) else None
    )


class SessionList(OptionList):
    """An OptionList whose streaming spinners are drawn over cached lines.

    ``OptionList.replace_option_prompt`` drops every cached line and height, so replacing the
    prompts of N streaming rows on each spinner frame re-measured and re-rendered the whole
    list N times a frame. Here a frame only repaints the visible spinner cells.
    """

    BINDINGS = bindings(SIDEBAR_KEYS)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spinners: dict[str, int] = {}  # option id -> cell of its spinner within the prompt
        self.frame = 0

    def set_prompt(self, option_id: str, prompt: VisualType) -> None:
        """Replace one prompt whose height is unchanged: line positions and heights stay cached."""
        if set_option_prompt(self, option_id, prompt):
            self._refresh_option_lines(self.get_option_index(option_id))

    def _refresh_option_lines(self, index: int) -> None:
        if not option_lines_known():  # no line map: repaint the list
            self.refresh()
            return
        place = option_line(self, index)
        if place is None:
            return
        line, height = place
        y = line - self.scroll_offset.y
        if y + height <= 0 or y >= self.scrollable_content_region.height:
            return
        self.refresh(Region(0, y, self.size.width, height))

    def spin(self, frame: int) -> None:
        """Advance the spinners: repaint only their rows that are in view."""
        self.frame = frame
        for option_id in self.spinners:
            try:
                index = self.get_option_index(option_id)
            except OptionDoesNotExist:
                continue
            place = option_line(self, index)
            if place is None:
                continue
            y = place[0] - self.scroll_offset.y
            if 0 <= y < self.scrollable_content_region.height:
                self.refresh(Region(0, y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if not self.spinners:
            return strip
        at = option_at(self, self.scroll_offset.y + y)
        if at is None:
            return strip
        index, offset = at
        if offset:
            return strip
        cell = self.spinners.get(self.options[index].id or "")
        if cell is None:
            return strip
        x = cell + self.get_component_styles("option-list--option").padding.left
        segments = list(strip.crop(x, x + 1))
        if not segments:
            return strip
        glyph = Segment(SPINNER[self.frame % len(SPINNER)], segments[0].style)
        return Strip.join([strip.crop(0, x), Strip([glyph], 1), strip.crop(x + 1)])

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


NO_MATCHES = "-no-matches"


class Sidebar(Vertical):
    """Shows sessions; asks the screen to open, create, rename or delete them by message."""

    # escape in the filter clears it first (then stops a reply, as anywhere else)
    BINDINGS = [Binding("escape", "clear_filter", show=False, id="sidebar.clear_filter")]

    def __init__(self, workspace: Workspace, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._workspace = workspace
        self._sessions: list[SessionInfo] = []
        self._haystack: dict[str, str] = {}  # session id -> what the filter looks in, lowered
        self._groups: dict[str, GroupInfo] = {}
        self._group_of: dict[str, str] = {}  # session id -> group id, for grouped sessions
        self._frame = 0
        self._filter = ""
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Filter sessions  (/)", id="filter")
        yield SessionList(id="sessions")

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    def on_mount(self) -> None:
        self._unsubscribe = self._workspace.subscribe(self._changed)
        self._read_sessions()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _changed(self, change: Change) -> None:
        if isinstance(change, SessionsChanged):
            self._read_sessions()
        elif isinstance(change, MarkChanged):
            self._mark_changed(change.session_id)
        # A new title comes with the list read again (SessionsChanged): a longer one may
        # re-wrap its row, which only a rebuild measures.

    def _read_sessions(self) -> None:
        workspace = self._workspace
        self._sessions = list(workspace.sessions.values())
        self._groups = dict(workspace.groups)
        self._group_of = {
            s.session_id: s.group_id for s in self._sessions if s.group_id in self._groups
        }
        self._haystack = {
            s.session_id: "\0".join((s.title, s.session_id, s.model)).lower()
            for s in self._sessions
        }
        self._rebuild()

    def _mark_changed(self, session_id: str) -> None:
        self._update_spinners()
        self._replace(session_id)
        group_id = self._group_of.get(session_id)
        if group_id is not None:
            self._replace_group(group_id)

    def tick(self, frame: int) -> None:
        """Advance the streaming spinners (only their cells are repainted)."""
        self._frame = frame
        if option_lines_known():
            self.session_list.spin(frame)
            return
        for option_id in self.session_list.spinners:  # no line map: redraw their prompts
            tab = option_tab(option_id)
            if isinstance(tab, GroupTab):
                self._replace_group(tab.group_id)
            elif isinstance(tab, SessionTab):
                self._replace(tab.session_id)

    def _update_spinners(self) -> None:
        """Which rows show a spinner, and at which cell of their prompt."""
        spinners: dict[str, int] = {}
        for session_id, state in self._workspace.marks.items():
            if state == "streaming":
                group_id = self._group_of.get(session_id)
                spinners[session_id] = 0 if group_id is None else 2  # members start "├ "
                if group_id is not None:
                    spinners[group_option(group_id)] = 0
        self.session_list.spinners = spinners

    def _highlighted_option(self) -> str | None:
        option_list = self.session_list
        if option_list.highlighted is None:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    def highlighted(self) -> Tab | None:
        """The row under the cursor, as the tab it would open."""
        return option_tab(self._highlighted_option())

    def focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def _matches(self, info: SessionInfo) -> bool:
        if not self._filter:
            return True
        return self._filter.lower() in self._haystack.get(info.session_id, "")

    def _prompt(self, info: SessionInfo) -> Text:
        state = self._workspace.mark(info.session_id)
        line = Text.assemble(mark(state, self._frame), " ")
        line.append(one_line(info.title) or "(untitled)", style="bold" if state == "unread" else "")
        line.truncate(35, overflow="ellipsis")
        line.append("\n  ")
        line.append(f"{one_line(info.model)} · {relative_time(info.updated_at)}", style="dim")
        return line

    def _member_prompt(self, info: SessionInfo, last: bool) -> Text:
        line = Text("└ " if last else "├ ", style="dim")
        line.append_text(mark(self._workspace.mark(info.session_id), self._frame))
        line.append(" ")
        group = self._groups.get(self._group_of.get(info.session_id) or "")
        if group is not None and _hidden(group) and info.session_id in group.session_ids:
            letter = group.letters[group.session_ids.index(info.session_id)]
            line.append(f"pane {letter}", style="italic")  # blind: no model until a vote
            return line
        line.append(one_line(info.model))
        if info.system_message:
            line.append(f" · {one_line(info.system_message)}", style="dim italic")
        line.truncate(35, overflow="ellipsis")
        return line

    def _group_prompt(self, group: GroupInfo, members: list[SessionInfo]) -> Text:
        line = Text.assemble(mark(self._group_mark(group), self._frame), " ")
        line.append("⚖ ", style="bold")
        line.append(one_line(group.title) or "(untitled comparison)")
        line.truncate(35, overflow="ellipsis")
        line.append("\n  ")
        updated = max((m.updated_at for m in members), default=group.created_at)
        line.append(f"{len(members)} models · {relative_time(updated)}", style="dim")
        return line

    def _group_mark(self, group: GroupInfo) -> str | None:
        """Streaming or waiting while any pane is, else an error or unread."""
        states = {self._workspace.mark(sid) for sid in group.session_ids}
        for state in ("streaming", "waiting", "error", "unread"):
            if state in states:
                return state
        return None

    def _members(self, group: GroupInfo) -> list[SessionInfo]:
        by_id = {s.session_id: s for s in self._sessions}
        ids = list(group.session_ids)
        if _hidden(group):  # in letter order: the order models were given in would tell them
            ids.sort(key=lambda sid: group.letters[group.session_ids.index(sid)])
        return [by_id[sid] for sid in ids if sid in by_id]

    def _group_matches(self, group: GroupInfo, members: list[SessionInfo]) -> bool:
        if not self._filter:
            return True
        needle = self._filter.lower()
        if _hidden(group):  # matching on a model's name would tell which comparisons hold it
            return needle in group.title.lower()
        return needle in group.title.lower() or any(self._matches(m) for m in members)

    def _options(self) -> list[Option]:
        """Sessions and comparisons, most recent first; a comparison where its newest pane is."""
        options: list[Option] = []
        placed: set[str] = set()
        for n, info in enumerate(self._sessions):
            if len(options) >= ROWS:
                self._more_row(options, self._sessions[n:], placed)
                break
            group_id = self._group_of.get(info.session_id)
            if group_id is None:
                if self._matches(info):
                    options.append(Option(self._prompt(info), id=info.session_id))
                continue
            if group_id in placed:
                continue
            placed.add(group_id)
            group = self._groups[group_id]
            members = self._members(group)
            if not self._group_matches(group, members):
                continue
            options.append(Option(self._group_prompt(group, members), id=group_option(group_id)))
            for i, member in enumerate(members):
                options.append(
                    Option(self._member_prompt(member, i == len(members) - 1), id=member.session_id)
                )
        if not options and self._filter:
            options.append(Option(Text("no matches", style="dim"), id=NO_MATCHES, disabled=True))
        return options

    def _more_row(self, options: list[Option], rest: list[SessionInfo], placed: set[str]) -> None:
        """One row for the matches not listed (sessions and comparisons)."""
        groups: set[str] = set()
        count = 0
        for info in rest:
            group_id = self._group_of.get(info.session_id)
            if group_id is None:
                count += self._matches(info)
            elif group_id not in placed and group_id not in groups:
                groups.add(group_id)
                group = self._groups[group_id]
                count += self._group_matches(group, self._members(group))
        if count:
            more = Text(f"… {count:,} more: type to narrow, or ctrl+o", style="dim italic")
            options.append(Option(more, disabled=True))

    def _rebuild(self) -> None:
        options = self._options()
        if self._restate(options):
            return
        option_list = self.session_list
        keep = self._highlighted_option()
        option_list.set_options(options)
        self._update_spinners()
        if keep is not None:
            try:
                option_list.highlighted = option_list.get_option_index(keep)
            except Exception:
                pass
        if option_list.highlighted is None and options:
            option_list.highlighted = 0

    def _restate(self, options: list[Option]) -> bool:
        """Update the rows in place when the list holds the same rows in the same order.

        A rebuild follows every reply that ends; replacing all options drops every cached row
        and re-measures the list (a layout of the whole screen and a render of every visible
        row, 7-18 ms with panes streaming). Rows whose text keeps its line widths are swapped
        alone; anything else (rows added, moved, re-wrapped) takes the full rebuild.
        """
        option_list = self.session_list
        current = option_list.options
        if len(current) != len(options) or any(
            a.id != b.id for a, b in zip(current, options, strict=True)
        ):
            return False
        changed = [
            (old, new)
            for old, new in zip(current, options, strict=True)
            if old.prompt != new.prompt
        ]
        if any(_line_widths(old.prompt) != _line_widths(new.prompt) for old, new in changed):
            return False
        for _, new in changed:
            option_list.set_prompt(new.id or "", new.prompt)
        self._update_spinners()
        return True

    def _replace(self, session_id: str) -> None:
        info = next((s for s in self._sessions if s.session_id == session_id), None)
        if info is None:
            return
        group_id = self._group_of.get(session_id)
        if group_id is not None:
            members = self._members(self._groups[group_id])
            prompt = self._member_prompt(
                info, bool(members) and members[-1].session_id == session_id
            )
        else:
            prompt = self._prompt(info)
        try:
            self.session_list.set_prompt(session_id, prompt)
        except OptionDoesNotExist:
            pass  # filtered out

    def _replace_group(self, group_id: str) -> None:
        group = self._groups.get(group_id)
        if group is None:
            return
        try:
            self.session_list.set_prompt(
                group_option(group_id), self._group_prompt(group, self._members(group))
            )
        except OptionDoesNotExist:
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

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        if not field.has_focus or not field.value:
            raise SkipAction()
        field.value = ""

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        if key == "down" and self.query_one("#filter", Input).has_focus:
            self.session_list.focus()

    @on(OptionList.OptionSelected, "#sessions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        tab = option_tab(event.option.id)
        if isinstance(tab, GroupTab):
            self.post_message(OpenComparison(tab.group_id))
        elif isinstance(tab, SessionTab):
            self.post_message(OpenSession(tab.session_id))

    @on(SessionList.Requested)
    def _requested(self, event: SessionList.Requested) -> None:
        event.stop()
        self.post_message(SessionAction(event.action, self.highlighted()))


def _hidden(group: GroupInfo) -> bool:
    """A blind comparison nobody has voted on: its panes are letters, not models."""
    return bool(group.letters) and not group.voted_turns
