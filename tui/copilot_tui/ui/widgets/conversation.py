"""A scrolling conversation: finished messages as one widget each, plus the live reply.

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
import time
from dataclasses import dataclass
from functools import partial

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message as TMessage
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ... import events as ev
from ...types import Message, ReplyStats
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
from .live_reply import LiveReply, lead_blanks


class MessageView(Static):
    """One finished message, rendered once per width (see Prerendered)."""

    def __init__(
        self, message: Message, *, show_meta: bool = True, renderable: RenderableType | None = None
    ) -> None:
        if renderable is None:
            renderable = (
                user_renderable(message.content)
                if message.role == "user"
                else reply_renderable(message, show_meta=show_meta)
            )
        role = "user" if message.role == "user" else "reply"
        super().__init__(renderable, id=f"m-{message.id}", classes=f"msg {role} -{message.status}")
        self.auto_links = False  # replies render links as text; skip restyling every line
        self.message = message
        self.prerendered = Prerendered(renderable)

    def render(self) -> Prerendered:
        return self.prerendered

    def render_line(self, y: int) -> Strip:
        """Only the lines on screen are styled and handed over, not the whole message."""
        lines = self.prerendered.lines(self.size.width)
        line = lines[y] if 0 <= y < len(lines) else Strip([])
        style = self.visual_style.rich_style
        return line.apply_style(style) if style else line


class OlderMarker(Static):
    """Shown above the oldest loaded message while older ones remain on disk."""


@dataclass
class _LiveState:
    message_id: str
    model: str | None
    content: str | None = None
    stats: ReplyStats | None = None
    error: str | None = None


class Conversation(VerticalScroll, can_focus=True):
    """The messages of one session."""

    paused: var[bool] = var(False)

    @dataclass
    class NeedOlder(TMessage):
        """The user scrolled to the top and older messages exist."""

        conversation: Conversation
        before_seq: int

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
        self._oldest_seq: int | None = None
        self._has_older = False
        self._loading_older = False
        self._last_flush = 0.0
        self._flush_timer_pending = False
        self._finishing = 0  # replies being rendered in full before they replace the live view
        self._replies: list[Message] = []  # finished replies loaded, oldest first
        self._shift_on_layout = 0  # lines to move the view down by when the next layout lands
        self._pending_up = 0.0  # lines the user scrolled up meanwhile, applied after that shift
        self._keep: tuple[Widget, int, float] | None = (
            None  # (widget, its y, view's offset from it)
        )

    def on_mount(self) -> None:
        self.anchor()

    # -- history -------------------------------------------------------------------------

    def load(self, messages: list[Message], *, has_older: bool, turn: Turn | None = None) -> None:
        """Show a session's recent messages (called once, when the pane opens).

        A reply still streaming is drawn live from the live text. One the store holds as
        streaming whose ``turn`` has ended since (the history was read just before its end) is
        drawn live too and then finished, with its text from the live text, not the store's.
        """
        self._has_older = has_older
        self._oldest_seq = messages[0].seq if messages else None
        widgets: list[Static | LiveReply] = []
        ended: tuple[str, str] | None = None
        if has_older:
            widgets.append(OlderMarker(Text("↑ older messages: scroll up to load", style="dim")))
        for m in messages:
            live_now = m.id == self._live.current(self.session_id)
            ended_since = turn is not None and turn.reply_id == m.id and turn.status is not None
            if m.role == "assistant" and m.status == "streaming" and (live_now or ended_since):
                self._state = _LiveState(m.id, m.model)
                if not live_now and turn is not None and turn.status is not None:
                    self._state.stats, self._state.error = turn.stats, turn.error
                    ended = (m.id, turn.status)
                widgets.append(LiveReply(m.id, m.model, id=f"live-{m.id}"))
            elif m.role in ("user", "assistant"):
                widgets.append(MessageView(m, show_meta=self.show_meta))
                if m.role == "assistant":
                    self._replies.append(m)
        self.mount_all(widgets)
        self.call_after_refresh(self.scroll_end, animate=False)
        if self._state is not None:
            self.call_after_refresh(self.flush)
        if ended is not None:
            self.call_after_refresh(self._finish, *ended)

    def prepend(
        self, messages: list[Message], *, has_older: bool, views: list[MessageView] | None = None
    ) -> None:
        """Add older messages above the loaded ones, keeping the view where it was.

        ``views``, when given, are those messages' views already built (and drawn) elsewhere."""
        self._loading_older = False
        self._has_older = has_older
        for marker in self.query(OlderMarker):
            marker.remove()
        if not messages:
            return
        self._oldest_seq = messages[0].seq
        if views is None:
            views = [
                MessageView(m, show_meta=self.show_meta)
                for m in messages
                if m.role in ("user", "assistant")
            ]
        self._replies[:0] = [m for m in messages if m.role == "assistant"]
        widgets: list[Static] = []
        if has_older:
            widgets.append(OlderMarker(Text("↑ older messages: scroll up to load", style="dim")))
        widgets.extend(views)
        # Keep the view on what it shows: the first message on screen now is where the view is
        # measured from once the older ones are laid out above it (see watch_virtual_size).
        kept = next((w for w in self.children if isinstance(w, (MessageView, LiveReply))), None)
        if kept is not None:
            self._keep = (kept, kept.virtual_region.y, self.scroll_y - kept.virtual_region.y)
        mounting = self.mount_all(widgets, before=0)
        if kept is not None:
            # the virtual size does not always change in a pass of its own (not if the layout
            # lands while another is pending): then the view is kept once they are laid out

            async def keep_once_laid_out() -> None:
                await mounting
                self.call_after_refresh(self._keep_view)

            self.call_later(keep_once_laid_out)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        widget = self._live_widget()
        if widget is not None and widget.window is not None and not self.following:
            self._whole_reply(widget)
        if (
            new_value <= 0
            and self._has_older
            and not self._loading_older
            and self._oldest_seq is not None
        ):
            self._loading_older = True
            self.post_message(self.NeedOlder(self, self._oldest_seq))

    def _keep_view(self) -> None:
        """Once older messages are laid out above it, scroll by as much as they pushed down the
        message the view was measured from."""
        if self._keep is not None:
            widget, y_before, offset = self._keep
            y = widget.virtual_region.y if widget.is_attached else y_before
            if y != y_before:
                self._keep = None
                self.scroll_to(y=y + offset, animate=False, immediate=True)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        self._keep_view()
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

    @property
    def oldest_seq(self) -> int | None:
        return self._oldest_seq

    def is_showing(self, message_id: str) -> bool:
        """The message is loaded and at least partly in the view."""
        try:
            widget = self.query_one(f"#m-{message_id}")
        except Exception:
            return False
        region = widget.region
        return bool(region) and region.overlaps(self.region)

    def is_found(self, message_id: str) -> bool:
        """The message is flashed as a search hit."""
        return any(w.has_class("-found") for w in self.query(f"#m-{message_id}"))

    def reveal(self, message_id: str) -> bool:
        """Scroll to a loaded message and flash it; False when it is not loaded."""
        try:
            widget = self.query_one(f"#m-{message_id}")
        except Exception:
            return False
        live = self._live_widget()
        if live is not None:
            live.set_window(None)  # the jump is to a message above it: nothing to keep in view
            self._shift_on_layout = 0
        self.release_anchor()
        self.scroll_to_widget(widget, top=True, animate=False)
        widget.add_class("-found")
        self.set_timer(2.5, lambda: widget.remove_class("-found"))
        return True

    # -- events --------------------------------------------------------------------------

    def handle_event(self, event: ev.SessionEvent) -> None:
        """Apply one service event of this conversation's session."""
        data = event.data
        if event.type == ev.USER_MESSAGE:
            msg = Message(data.message_id, self.session_id, "user", data.content, status="complete")
            self.mount(MessageView(msg))
            self.scroll_end(animate=False)
            self.anchor()
        elif event.type == ev.TURN_START:
            if (
                self._state is not None and self._ending is not None
            ):  # the last reply waits for its width
                self._finish(self._state.message_id, self._ending, tries=40)
            self._state = _LiveState(data.message_id, data.get("model"))
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
