"""A scrolling conversation: finished messages as one widget each, plus the live reply.

A long conversation mounts only the messages in or near the view, between two spacers as tall
as the messages they stand for (see outline.Outline: heights measured once per width, estimated
until then). Scrolling moves that window; a jump (home, a search hit, the scrollbar) replaces
it. Messages are read from the store a window at a time through the ``fetch`` the pane gives,
drawn in a thread before they are mounted, and their lines kept in a bounded cache, so memory
follows the window, not the length of the conversation or how much of it was viewed.

Reusable wherever a session's messages are shown (a tab, a side-by-side pane): it is fed
data and events and never talks to the service itself. Text arrives in a shared LiveText
buffer; the widget renders it at most every FRAME seconds, and not at all while ``paused``.
Flushes fall on a clock shared by every conversation, so panes streaming side by side update
in the same frame and the screen is laid out once per frame, not once per pane.

A finished reply is rendered in full once (code fences and tables come out right) in a worker
thread while the live view stays on screen, then swapped in: the event loop never waits for it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from rich.console import Group, RenderableType
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message as TMessage
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ... import events as ev
from ...types import Message, ReplyStats, ToolCall
from ..engine import gaps
from ..engine.access import anchor_released
from ..engine.clock import flushed, next_flush
from ..engine.paint import paint_turns
from ..engine.render import (
    POLISH_POOL,
    RENDER_POOL,
    Prerendered,
    code_blocks,
    markdown,
    render_lines,
    reply_renderable,
    user_renderable,
)
from ..engine.tuning import CollectorPause
from ..workspace.live import LiveText
from ..workspace.model import Turn
from .agent_activity import ToolBlock
from .live_reply import LiveReply, lead_blanks
from .outline import MARGIN, Entry, Outline

Fetch = Callable[[int, int], Awaitable[list[Message]]]  # messages with first <= seq <= last
WINDOW_MAX = 40  # message widgets mounted at most, besides the ones of this run
KEEP_RENDERED = 160  # finished messages whose drawn lines are kept
# Messages are drawn on their own thread before they are mounted, so a window that moves never
# queues behind (or ahead of) live text.
HISTORY_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")


class MessageView(Static):
    """One finished message, rendered once per width (see Prerendered)."""

    def __init__(
        self,
        message: Message,
        *,
        show_meta: bool = True,
        renderable: RenderableType | None = None,
        prerendered: Prerendered | None = None,
    ) -> None:
        if prerendered is not None:
            renderable = prerendered.renderable
        if renderable is None:
            renderable = (
                user_renderable(message.content, message)
                if message.role == "user"
                else reply_renderable(message, show_meta=show_meta)
            )
        role = "user" if message.role == "user" else "reply"
        super().__init__(renderable, id=f"m-{message.id}", classes=f"msg {role} -{message.status}")
        self.auto_links = False  # replies render links as text; skip restyling every line
        self.message = message
        self.prerendered = prerendered or Prerendered(renderable)

    def render(self) -> Prerendered:
        return self.prerendered

    def render_line(self, y: int) -> Strip:
        """Only the lines on screen are styled and handed over, not the whole message."""
        lines = self.prerendered.lines(self.size.width)
        line = lines[y] if 0 <= y < len(lines) else Strip([])
        style = self.visual_style.rich_style
        return line.apply_style(style) if style else line


class Spacer(Widget):
    """Stands for the messages above or below the mounted window: as tall as they are (drawn
    on its last line only, see engine.gaps)."""

    gap = True

    def __init__(self) -> None:
        super().__init__(classes="spacer")
        self.lines = 0

    def set_lines(self, lines: int) -> None:
        lines = max(0, int(lines))
        if lines != self.lines:
            self.lines = lines
            self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.lines  # the stream layout asks every child for its height


@dataclass
class _LiveState:
    message_id: str
    model: str | None
    content: str | None = None
    stats: ReplyStats | None = None
    error: str | None = None
    versions: int = 1  # a regenerated reply is the newest of this many


class Conversation(VerticalScroll, can_focus=True):
    """The messages of one session."""

    paused: var[bool] = var(False)

    @dataclass
    class ReplyFinished(TMessage):
        """A reply ended (complete, stopped or failed)."""

        conversation: Conversation
        message: Message

    def __init__(
        self, session_id: str, live: LiveText, *, show_meta: bool = True, id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="conversation")
        self.session_id = session_id
        self.show_meta = show_meta
        self._live = live
        self._state: _LiveState | None = None
        self._ending: str | None = None  # the status of the live reply's end, put off
        self._outline = Outline([])
        self._fetch: Fetch | None = None
        self._top = Spacer()
        self._bottom = Spacer()
        self._lo = 0  # the outline index of the first mounted message
        self._window: list[MessageView] = []  # mounted messages of the outline, in order
        self._rendered: OrderedDict[str, Prerendered] = OrderedDict()
        self._settling = False
        self._settle_again = False
        self._content_width = 0
        self._last_flush = 0.0
        self._flush_timer_pending = False
        self._finishing = 0  # replies being rendered in full before they replace the live view
        self._replies: list[Message] = []  # finished replies loaded, oldest first
        self._branch: tuple[str, int] | None = None  # (role, versions) of the next new message
        self._shift_on_layout = 0  # lines to move the view down by when the next layout lands
        self._pending_up = 0.0  # lines the user scrolled up meanwhile, applied after that shift

    def on_mount(self) -> None:
        if gaps.register():
            self.styles.layout = gaps.GapStreamLayout.name
        self.anchor()

    # -- history -------------------------------------------------------------------------

    def load(
        self,
        messages: list[Message],
        *,
        turn: Turn | None = None,
        outline: list[Entry] | None = None,
        fetch: Fetch | None = None,
        reveal: str | None = None,
    ) -> None:
        """Show a session's recent messages (called once, when the pane opens), or with
        ``reveal``, that message of the outline, flashed.

        ``outline`` lists every finished message of the session (``messages`` are its last
        ones) and ``fetch`` reads any of them: the window moves over the whole conversation.
        Without them the conversation is ``messages`` alone.

        A reply still streaming is drawn live from the live text. One the store holds as
        streaming whose ``turn`` has ended since (the history was read just before its end) is
        drawn live too and then finished, with its text from the live text, not the store's.
        """
        views: list[MessageView] = []
        lives: list[LiveReply] = []
        live_ids: set[str] = set()
        ended: tuple[str, str] | None = None
        for m in messages:
            live_now = m.id == self._live.current(self.session_id)
            ended_since = turn is not None and turn.reply_id == m.id and turn.status is not None
            if m.role == "assistant" and m.status == "streaming" and (live_now or ended_since):
                self._state = _LiveState(m.id, m.model)
                if not live_now and turn is not None and turn.status is not None:
                    self._state.stats, self._state.error = turn.stats, turn.error
                    ended = (m.id, turn.status)
                lives.append(LiveReply(m.id, m.model, id=f"live-{m.id}"))
                live_ids.add(m.id)
            elif m.role in ("user", "assistant"):
                views.append(self._view(m))
                if m.role == "assistant":
                    self._replies.append(m)
        if outline is None:
            outline = [Entry(m.seq, m.id, m.role, len(m.content)) for m in messages]
            fetch = None
        self._outline = Outline(
            [e for e in outline if e.id not in live_ids and e.role in ("user", "assistant")]
        )
        self._fetch = fetch
        indices = [self._outline.index(v.message.id) for v in views]
        window = [v for v, i in zip(views, indices, strict=True) if i is not None]
        run = [v for v, i in zip(views, indices, strict=True) if i is None]
        self._lo = next((i for i in indices if i is not None), len(self._outline))
        self._top.set_lines(self._outline.span(0, self._lo))
        self._bottom.set_lines(0)
        # The spacers and what streams now are mounted at once, so events that come meanwhile
        # land after them; the recent messages follow once drawn (see _first_window).
        self.mount_all([self._top, self._bottom, *run, *lives])
        self._settling = True  # no window moves before the first one is in
        index = self._outline.index(reveal) if reveal and fetch else None
        if index is not None and reveal is not None:
            self.release_anchor()
            self.run_worker(self._first_at(reveal, index), group="window")
        else:
            self.run_worker(self._first_window(window), group="window")
        if self._state is not None:
            self.call_after_refresh(self.flush)
        if ended is not None:
            self.call_after_refresh(self._finish, *ended)

    async def _first_at(self, message_id: str, index: int) -> None:
        """The first window is around a message to reveal: the newest are never drawn."""
        try:
            for _ in range(100):
                if self.scrollable_content_region.width > 0:
                    break
                await asyncio.sleep(0.01)  # not laid out yet (a tab opening)
            self._content_width = self.scrollable_content_region.width
            self._outline.set_width(self._content_width)
            self._top.set_lines(self._outline.span(0, self._lo))
            await self._show_at(index, 0, max(self.scrollable_content_region.height, 10))
        finally:
            self._settling = False
        widget = self._message_widget(message_id)
        if widget is not None:
            self.call_after_refresh(self._flash, widget)
        self.call_after_refresh(self._schedule_settle)

    async def _first_window(self, views: list[MessageView]) -> None:
        """Draw the newest messages that fill the view, off the event loop, then mount them:
        laid out on the loop, 16 Markdown replies took most of a long session's first paint."""
        try:
            for _ in range(100):
                if self.scrollable_content_region.width > 0:
                    break
                await asyncio.sleep(0.01)  # not laid out yet (a tab opening)
            rows = max(self.scrollable_content_region.height, 10)
            user_width, reply_width = self._widths()
            app = self.app
            outline = self._outline
            outline.set_width(self.scrollable_content_region.width)
            self._content_width = self.scrollable_content_region.width

            def draw() -> int:
                """How many of the newest views fill two views' height, drawn."""
                covered = count = 0
                for view in reversed(views):
                    width = user_width if view.message.role == "user" else reply_width
                    if width > 0:
                        covered += len(view.prerendered.prepare(width, *target)) + MARGIN
                    count += 1
                    if covered >= 2 * rows and count >= 2:
                        break
                return count

            target = (app.console, app.console_options)
            if views and self._fetch is not None:
                count = await asyncio.get_running_loop().run_in_executor(HISTORY_POOL, draw)
                views = views[len(views) - count :]
            if views:
                self._lo = outline.index(views[0].message.id) or 0
            for view in views:
                index = outline.index(view.message.id)
                width = user_width if view.message.role == "user" else reply_width
                if index is not None and width > 0 and view.prerendered.has(width):
                    outline.measure(index, len(view.prerendered.lines(width)) + MARGIN)
                self._keep_rendered(view)
            self._window = views
            self._top.set_lines(outline.span(0, self._lo))
            self._bottom.set_lines(outline.span(self._lo + len(views), len(outline)))
            if views and self.is_attached:
                await self.mount_all(views, after=self._top)
            self.call_after_refresh(self.scroll_end, animate=False)
        finally:
            self._settling = False
        self.call_after_refresh(self._schedule_settle)

    def _view(self, message: Message) -> MessageView:
        """A finished message's view, with its lines if they were drawn before."""
        prerendered = self._rendered.get(message.id)
        if prerendered is not None:
            self._rendered.move_to_end(message.id)
        return MessageView(message, show_meta=self.show_meta, prerendered=prerendered)

    def _keep_rendered(self, view: MessageView) -> None:
        self._rendered[view.message.id] = view.prerendered
        self._rendered.move_to_end(view.message.id)
        while len(self._rendered) > KEEP_RENDERED:
            self._rendered.popitem(last=False)

    # -- the window over a long conversation --------------------------------------------

    def _schedule_settle(self) -> None:
        """Move the window to the view, once the current move (if any) is done."""
        if self._fetch is None:
            return
        self._settle_again = True
        if not self._settling:
            self._settling = True
            self.run_worker(self._settle_loop(), group="window")

    async def _settle_loop(self) -> None:
        try:
            while self._settle_again and self.is_attached:
                self._settle_again = False
                await self._settle()
        finally:
            self._settling = False

    def _widths(self) -> tuple[int, int]:
        """The content widths of a user message and of a reply (their CSS: border, padding)."""
        user = reply = 0
        for view in self._window:
            if view.size.width > 0:
                if view.message.role == "user":
                    user = user or view.size.width
                else:
                    reply = reply or view.size.width
        width = self.scrollable_content_region.width
        return user or width - 3, reply or width - 2

    def _measure_window(self) -> None:
        for offset, view in enumerate(self._window):
            height = view.outer_size.height
            if height > 0:
                self._outline.measure(self._lo + offset, height + MARGIN)

    async def _settle(self) -> None:
        """Grow the window towards the view, drop what is far from it, or jump to the view."""
        outline, fetch = self._outline, self._fetch
        width = self.scrollable_content_region.width
        rows = self.scrollable_content_region.height
        if fetch is None or not len(outline) or width <= 0 or rows <= 0:
            return
        if width != self._content_width:
            # Heights belong to a width: the spacers are estimated again, and the view stays
            # on the messages it shows (or at the end, following it).
            self._content_width = width
            old_top = self._top.lines
            outline.set_width(width)
            self._top.set_lines(outline.span(0, self._lo))
            self._bottom.set_lines(outline.span(self._lo + len(self._window), len(outline)))
            if self.following:
                self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
            else:
                y = self.scroll_y + self._top.lines - old_top
                self.call_after_refresh(self.scroll_to, y=y, animate=False, immediate=True)
            self.call_after_refresh(self._schedule_settle)  # then fill the view at that width
            return
        self._measure_window()
        hi = self._lo + len(self._window)
        top_y, bottom_y = self.scroll_y, self.scroll_y + rows
        win_top = self._top.lines
        win_bottom = win_top + outline.span(self._lo, hi)
        if not self._window or bottom_y < win_top - rows or top_y > win_bottom + rows:
            await self._jump(top_y, win_top, win_bottom, rows)
            return
        if self._lo > 0 and top_y < win_top + rows:
            await self._grow_up(rows)
        elif hi < len(outline) and bottom_y > win_bottom - rows:
            await self._grow_down(rows)
        else:
            await self._trim(top_y, bottom_y, rows)
            return
        self._settle_again = True  # see whether it covers the view now

    async def _views_for(self, lo: int, hi: int) -> list[MessageView]:
        """Views of outline messages ``lo`` to ``hi`` (excluded), drawn at their width off the
        event loop, their heights measured."""
        outline, fetch = self._outline, self._fetch
        assert fetch is not None
        entries = outline.entries[lo:hi]
        if not entries:
            return []
        wanted = {e.id for e in entries}
        messages = [m for m in await fetch(entries[0].seq, entries[-1].seq) if m.id in wanted]
        views = [self._view(m) for m in messages]
        user_width, reply_width = self._widths()
        app = self.app
        jobs = [
            (v.prerendered, user_width if v.message.role == "user" else reply_width) for v in views
        ]

        def draw() -> list[int]:
            return [
                len(p.prepare(w, app.console, app.console_options)) if w > 0 else 0 for p, w in jobs
            ]

        heights = await asyncio.get_running_loop().run_in_executor(HISTORY_POOL, draw)
        for view, height in zip(views, heights, strict=True):
            index = outline.index(view.message.id)
            if index is not None and height:
                outline.measure(index, height + MARGIN)
            self._keep_rendered(view)
        return views

    def _reach(self, start: int, lines: float, step: int) -> int:
        """How far from ``start`` (going ``step``) messages add up to ``lines``; at least 3."""
        i, covered, count = start, 0, 0
        while 0 <= i < len(self._outline) and (covered < lines or count < 3):
            covered += self._outline.height(i)
            i += step
            count += 1
        return i

    async def _grow_up(self, rows: int) -> None:
        lo = max(self._reach(self._lo - 1, rows, -1) + 1, 0)
        views = await self._views_for(lo, self._lo)
        if not views or not self.is_attached:
            return
        added = self._outline.span(lo, self._lo)
        before = self._top.lines - added  # what keeps everything below where it is
        top = max(before, 0) if lo > 0 else 0
        self._lo = lo
        self._window[:0] = views
        self._top.set_lines(top)
        await self.mount_all(views, after=self._top)
        if top != before:  # estimates above were off: the view follows what it shows
            self.scroll_to(y=self.scroll_y + top - before, animate=False, immediate=True)

    async def _grow_down(self, rows: int) -> None:
        hi = self._lo + len(self._window)
        end = min(self._reach(hi, rows, 1), len(self._outline))
        views = await self._views_for(hi, end)
        if not views or not self.is_attached:
            return
        added = self._outline.span(hi, end)
        self._window.extend(views)
        self._bottom.set_lines(self._bottom.lines - added if end < len(self._outline) else 0)
        await self.mount_all(views, before=self._bottom)

    async def _trim(self, top_y: float, bottom_y: float, rows: int) -> None:
        """Unmount messages far from the view; the spacers take their place, line for line."""
        drop: list[MessageView] = []
        y = self._top.lines
        first_kept = 0
        for view in self._window:
            h = self._outline.height(self._lo + first_kept)
            if len(self._window) - len(drop) <= WINDOW_MAX or y + h >= top_y - 2 * rows:
                break
            drop.append(view)
            y += h
            first_kept += 1
        if first_kept:
            self._top.set_lines(
                self._top.lines + self._outline.span(self._lo, self._lo + first_kept)
            )
            self._lo += first_kept
            del self._window[:first_kept]
        bottom = self._top.lines + self._outline.span(self._lo, self._lo + len(self._window))
        while len(self._window) > WINDOW_MAX:
            last = self._lo + len(self._window) - 1
            h = self._outline.height(last)
            if bottom - h <= bottom_y + 2 * rows:
                break
            drop.append(self._window.pop())
            bottom -= h
            self._bottom.set_lines(self._bottom.lines + h)
        if drop:
            await self.remove_children(drop)

    async def _jump(self, top_y: float, win_top: int, win_bottom: int, rows: int) -> None:
        """A new window where the view went: the spacers are laid out again from the outline."""
        outline = self._outline
        if top_y < win_top or not self._window:
            above = outline.span(0, self._lo)
            scale = above / win_top if win_top > 0 else 1.0
            index, into = outline.at(top_y * scale)
        else:
            index, into = outline.at(top_y - win_bottom, start=self._lo + len(self._window))
        await self._show_at(index, into, rows)

    async def _show_at(self, index: int, into: float, rows: int) -> None:
        """Mount the messages around outline message ``index`` and put the view ``into`` lines
        below its top."""
        outline = self._outline
        lo = max(index - 1, 0)
        hi = min(self._reach(index, rows * 2 + into, 1), len(outline))
        views = await self._views_for(lo, hi)
        if not views or not self.is_attached:
            return
        old, self._window, self._lo = self._window, views, lo
        self._top.set_lines(outline.span(0, lo))
        self._bottom.set_lines(outline.span(hi, len(outline)))
        if old:
            await self.remove_children(old)
        await self.mount_all(views, after=self._top)
        y = self._top.lines + outline.span(lo, index) + into
        self.call_after_refresh(self.scroll_to, y=y, animate=False, immediate=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        widget = self._live_widget()
        if widget is not None and widget.window is not None and not self.following:
            self._whole_reply(widget)
        self._schedule_settle()

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        if self._shift_on_layout and new.height > old.height:
            shift, self._shift_on_layout = self._shift_on_layout, 0
            up, self._pending_up = self._pending_up, 0.0
            self.scroll_to(y=self.scroll_target_y + shift - up, animate=False, immediate=True)

    # Keys that scroll up while the live reply shows only its last lines: the whole reply comes
    # back first and the scroll is applied once it is laid out. Done by Textual right away, the
    # scroll could land after the layout, in the old positions, and jump to the reply's top.

    def _scroll_back(self, lines: float) -> bool:
        widget = self._live_widget()
        if widget is not None and widget.window is not None:
            self.release_anchor()
            self._whole_reply(widget)
        if not self._shift_on_layout:
            return False
        self._pending_up += lines
        return True

    def action_scroll_up(self) -> None:
        if not self._scroll_back(1):
            super().action_scroll_up()

    def action_page_up(self) -> None:
        if not self._scroll_back(self.scrollable_content_region.height):
            super().action_page_up()

    def action_scroll_home(self) -> None:
        """At once, not animated: an animation through a long conversation would draw every
        window on the way."""
        self._scroll_back(0)
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False)

    def is_showing(self, message_id: str) -> bool:
        """The message is mounted and at least partly in the view."""
        widget = self._message_widget(message_id)
        if widget is None:
            return False
        region = widget.region
        return bool(region) and region.overlaps(self.region)

    def is_found(self, message_id: str) -> bool:
        """The message is flashed as a search hit."""
        widget = self._message_widget(message_id)
        return widget is not None and widget.has_class("-found")

    def _message_widget(self, message_id: str) -> Widget | None:
        try:
            return self.query_one(f"#m-{message_id}")
        except Exception:
            return None

    def knows(self, message_id: str) -> bool:
        """The message is in this conversation (mounted or not)."""
        return (
            self._outline.index(message_id) is not None
            or self._message_widget(message_id) is not None
        )

    def reveal(self, message_id: str) -> bool:
        """Scroll to a message and flash it; False when this conversation does not hold it."""
        widget = self._message_widget(message_id)
        index = self._outline.index(message_id)
        if widget is None and (index is None or self._fetch is None):
            return False
        live = self._live_widget()
        if live is not None:
            live.set_window(None)  # the jump is to a message above it: nothing to keep in view
            self._shift_on_layout = 0
        self.release_anchor()
        if widget is not None:
            self._flash(widget)
        else:
            assert index is not None
            self.run_worker(self._reveal_unmounted(message_id, index), group="window")
        return True

    def _flash(self, widget: Widget) -> None:
        self.scroll_to_widget(widget, top=True, animate=False)
        widget.add_class("-found")
        self.set_timer(2.5, lambda: widget.remove_class("-found"))

    async def _reveal_unmounted(self, message_id: str, index: int) -> None:
        while self._settling:  # the window moving now would move it again
            await asyncio.sleep(0.01)
        self._settling = True
        try:
            await self._show_at(index, 0, max(self.scrollable_content_region.height, 1))
        finally:
            self._settling = False
        widget = self._message_widget(message_id)
        if widget is not None:
            self._flash(widget)

    # -- events --------------------------------------------------------------------------

    def handle_event(self, event: ev.SessionEvent) -> None:
        """Apply one service event of this conversation's session."""
        data = event.data
        if event.type == ev.BRANCH_CHANGED and data.get("turn_id"):
            self._branch_out(data.message_id, data.get("replaces"), int(data.get("versions") or 1))
        elif event.type == ev.USER_MESSAGE:
            msg = Message(data.message_id, self.session_id, "user", data.content, status="complete")
            msg.attachments = list(data.get("attachments") or [])
            if self._branch is not None and self._branch[0] == "user":
                msg.versions = msg.version = self._branch[1]
                self._branch = None
            self.mount(MessageView(msg))
            self.scroll_end(animate=False)
            self.anchor()
        elif event.type == ev.TURN_START:
            if (
                self._state is not None and self._ending is not None
            ):  # the last reply waits for its width
                self._finish(self._state.message_id, self._ending, tries=40)
            self._state = _LiveState(data.message_id, data.get("model"))
            if self._branch is not None and self._branch[0] == "assistant":
                self._state.versions = self._branch[1]
            self._branch = None
            self.mount(LiveReply(data.message_id, data.get("model"), id=f"live-{data.message_id}"))
        elif event.type == ev.SESSION_STATUS:
            widget = self._live_widget()
            if widget is not None:
                widget.set_note(data.get("status"))
        elif event.type == ev.USAGE and self._state and self._state.message_id == data.message_id:
            self._state.stats = ReplyStats(
                ttft=data.get("ttft"),
                duration=data.get("duration"),
                output_tokens=data.get("output_tokens"),
                input_tokens=data.get("input_tokens"),
                tokens_estimated=bool(data.get("estimated")),
                params=data.get("params"),
            )
        elif (
            event.type == ev.SESSION_ERROR
            and self._state
            and self._state.message_id == data.get("message_id")
        ):
            self._state.error = data.message
        elif event.type == ev.SESSION_IDLE:
            self._finish(
                data.get("message_id"),
                data.get("status") or ("aborted" if data.get("aborted") else "complete"),
            )

    def _branch_out(self, prompt_id: str, replaces: str | None, versions: int) -> None:
        """A turn starts a new branch: what it replaces leaves the view (a regenerated reply:
        what followed its prompt; an edited prompt: that prompt and what followed it)."""
        key = replaces or prompt_id
        children = list(self.children)
        at = next((i for i, w in enumerate(children) if w.id == f"m-{key}"), None)
        if at is None:
            gone = children  # not loaded: the new branch is shown alone
        else:
            gone = children[at:] if replaces else children[at + 1 :]
        removed = {w.message.id for w in gone if isinstance(w, MessageView)}
        self._replies = [m for m in self._replies if m.id not in removed]
        for widget in gone:
            widget.remove()
        self._branch = ("user" if replaces else "assistant", versions)

    def show_tool_call(self, call: ToolCall, reply_id: str) -> None:
        """An agent's tool call as a compact block, above the reply it serves (updated in place
        when the call ends)."""
        block_id = "tool-" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{reply_id}-{call.call_id}")
        known = [b for b in self.query(ToolBlock) if b.id == block_id]
        if known:
            known[0].show(call)
            return
        block = ToolBlock(call, id=block_id)
        live = [w for w in self.children if w.id == f"live-{reply_id}"]
        self.mount(block, before=live[0] if live else None)

    def _live_widget(self) -> LiveReply | None:
        if self._state is None:
            return None
        try:
            return self.query_one(f"#live-{self._state.message_id}", LiveReply)
        except Exception:
            return None

    def _finish(self, message_id: str | None, status: str, tries: int = 0) -> None:
        state = self._state
        if state is None or state.message_id != message_id:
            return
        if state.content is None:  # the one buffer of the reply's text (not the final event's)
            state.content = self._live.text(state.message_id)
        widget = self._live_widget_by_id(state.message_id)
        if (
            not self.paused
            and widget is not None
            and (not widget.is_mounted or widget.content_region.width <= 0)
            and tries < 40
        ):
            # Not laid out yet (a reply can end before its pane has drawn once): wait for its
            # width, so the finished reply is rendered in the render thread at that width, not
            # on the event loop in the middle of a layout (170 ms for a long reply). A hidden
            # tab is paused; it swaps in at once and draws when shown.
            self._ending = status
            self.set_timer(0.05, partial(self._finish, message_id, status, tries + 1))
            return
        self._state = self._ending = None
        message = Message(
            state.message_id,
            self.session_id,
            "assistant",
            state.content,
            state.model,
            status,  # type: ignore[arg-type]
            state.error,
            stats=state.stats or ReplyStats(),
            versions=state.versions,
            version=state.versions,
        )
        if widget is None or not widget.is_mounted:
            self._replies.append(message)
            self.mount(MessageView(message, show_meta=self.show_meta))
            self.post_message(self.ReplyFinished(self, message))
            return
        self._finishing += 1
        self.run_worker(self._swap_in(widget, message), group="finish")

    async def _swap_in(self, live: LiveReply, message: Message) -> None:
        """Replace the live view by the finished message without rendering on the event loop.

        Visible: the message shows at once, stitched from the blocks already drawn plus the
        rest rendered now, and the one full render follows in a render thread (code fences and
        tables exactly right). Hidden: the full render comes first, then the swap.
        """
        try:
            loop = asyncio.get_running_loop()
            renderable = await loop.run_in_executor(
                RENDER_POOL, partial(reply_renderable, message, show_meta=self.show_meta)
            )
            view = MessageView(message, show_meta=self.show_meta, renderable=renderable)
            width = live.content_region.width
            # Stitch when most of the reply is drawn already; otherwise one full render costs
            # less than stitching the rest now and polishing the whole later.
            if (
                width > 0
                and not self.paused
                and message.content.strip()
                and live.installed_upto * 2 >= len(message.content)
            ):
                await self._stitch(live, view, width)
                return
            if width > 0:
                widths = [width]
                if self._scrollbar_may_change():  # the full reply may bring the scrollbar
                    widths.append(width - self.styles.scrollbar_size_vertical)
                app = self.app
                for w in widths:
                    await loop.run_in_executor(
                        RENDER_POOL, view.prerendered.prepare, w, app.console, app.console_options
                    )
            await self._put_in_place(live, view)
        finally:
            self._finishing -= 1

    async def _put_in_place(self, live: LiveReply, view: MessageView) -> None:
        """The finished message takes the live reply's place, in this pane's paint turn."""
        # this pane's paint turn, first in line (a finished reply is worth more than another
        # partial frame): replies that end together swap in over separate frames
        await paint_turns(self.app).wait(self, "swap", first=True)
        self._replies.append(view.message)
        if live.is_attached:
            await self.mount(view, after=live)
            await live.remove()
        else:
            await self.mount(view)
        self.post_message(self.ReplyFinished(self, view.message))

    async def _stitch(self, live: LiveReply, view: MessageView, width: int) -> None:
        app = self.app
        loop = asyncio.get_running_loop()
        target = (app.console, app.console_options)
        rest = markdown(view.message.content[live.installed_upto :])
        extras = view.content.renderables[1:] if isinstance(view.content, Group) else []
        widths = [width]
        if self._scrollbar_may_change():  # the finished reply may bring the scrollbar
            widths.append(width - self.styles.scrollbar_size_vertical)
            await loop.run_in_executor(RENDER_POOL, live.prepare_blocks, widths[1], *target)
        seeded: dict[int, list[Strip]] = {}
        for w in widths:
            rest_lines = (
                await loop.run_in_executor(RENDER_POOL, render_lines, rest, w, *target)
                if rest.markup.strip()
                else []
            )
            rest_lines = rest_lines[lead_blanks(rest_lines) :]
            lines = live.frozen_lines(w)
            if lines and rest_lines:
                lines.append(Strip([]))
            lines += rest_lines
            for extra in extras:
                lines += render_lines(extra, w, *target)
            seeded[w] = lines
        view.prerendered.seed(seeded)
        await self._put_in_place(live, view)
        # The reply is on screen and finished; the polish is a later refinement of it.
        self.run_worker(
            self._polish(view, widths, {w: len(lines) for w, lines in seeded.items()}),
            group="polish",
        )

    async def _polish(self, view: MessageView, widths: list[int], heights: dict[int, int]) -> None:
        """The one full render of a finished reply (fences and tables exactly right)."""
        app = self.app
        loop = asyncio.get_running_loop()
        await self._quiet()
        for w in widths:
            full = await loop.run_in_executor(
                POLISH_POOL, view.prerendered.rerender, w, app.console, app.console_options
            )
            if view.is_attached and view.content_region.width == w:
                view.refresh(layout=len(full) != heights[w])

    def _scrollbar_may_change(self) -> bool:
        return not self.show_vertical_scrollbar and self.styles.scrollbar_gutter != "stable"

    @staticmethod
    async def _quiet(limit: float = 10.0) -> None:
        """Wait until no reply streams (at most ``limit`` seconds): a polish render only refines
        what is on screen, and it would take the GIL from live replies and from the event loop."""
        deadline = asyncio.get_running_loop().time() + limit
        while CollectorPause.active and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.25)

    def _live_widget_by_id(self, message_id: str) -> LiveReply | None:
        for widget in self.query(LiveReply):
            if widget.message_id == message_id:
                return widget
        return None

    # -- streaming -----------------------------------------------------------------------

    def text_arrived(self) -> None:
        """New text is buffered: render it at the next tick of the shared FRAME clock."""
        if self.paused or self._flush_timer_pending:
            return
        now = time.monotonic()
        due, period = next_flush(id(self), now)
        if due - self._last_flush < period:
            due += period
        self._flush_timer_pending = True
        self.set_timer(due - now, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_timer_pending = False
        self.flush()

    def flush(self) -> None:
        if self.paused:
            return
        widget = self._live_widget()
        if widget is not None and not widget.ready:
            self.call_after_refresh(self.flush)  # mounting: try again next frame
            return
        self._last_flush = flushed(id(self))
        self._live.clean(self.session_id)
        if widget is not None:
            self._fit_window(widget)
            widget.show_text(self._live.text(widget.message_id))

    @property
    def following(self) -> bool:
        """Kept at the end as replies grow: anchored, and the user has not scrolled away."""
        return self.is_anchored and not anchor_released(self)

    def _fit_window(self, widget: LiveReply) -> None:
        """While following, the live reply shows only what fits the view (see LiveReply)."""
        rows = self.scrollable_content_region.height
        if self.following and rows > 0:
            widget.set_window(rows)
        elif widget.window is not None:
            self._whole_reply(widget)

    def _whole_reply(self, widget: LiveReply) -> None:
        """Away from the end: the whole reply again. Once it is laid out, the view moves down by
        the lines that came back above it, so it still shows what it showed (or where the
        user's scroll was going)."""
        self._shift_on_layout += widget.hidden_lines()
        widget.set_window(None)

    def on_resize(self) -> None:
        widget = self._live_widget()
        if widget is not None and widget.window is not None:
            self._fit_window(widget)

    def watch_paused(self, paused: bool) -> None:
        if not paused and self._live.is_dirty(self.session_id):
            self.flush()

    # -- reading -------------------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        """A reply is streaming or still being swapped in."""
        return self._state is not None or self._finishing > 0

    @property
    def replies(self) -> tuple[Message, ...]:
        """The finished replies loaded or ended here, oldest first."""
        return tuple(self._replies)

    def last_reply(self) -> str | None:
        for message in reversed(self._replies):
            if message.content.strip():
                return message.content
        return None

    def code_blocks(self) -> list[str]:
        """Code blocks of the loaded replies, newest first."""
        blocks: list[str] = []
        for message in reversed(self._replies):
            blocks.extend(reversed(code_blocks(message.content)))
        return blocks
