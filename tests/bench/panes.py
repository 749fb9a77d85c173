"""N conversations side by side inside the real app, with our renderer or a MarkdownStream baseline.

Both screens take the service's events the way the main screen does (text into a buffer or a
stream, everything else as a message) and note when each pane has the finished reply on screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream

from copilot_tui import events as ev
from copilot_tui.service import CopilotClient
from copilot_tui.ui.live import LiveText, route_event
from copilot_tui.ui.messages import ServiceEvent, StreamDirty
from copilot_tui.ui.widgets.conversation import Conversation
from copilot_tui.ui.widgets.live_reply import LiveReply

CSS = """
#panes { height: 1fr; }
#panes > * { width: 1fr; height: 1fr; }
BaselinePane { padding: 0 1; }
"""


class _Panes(Screen[None]):
    """Common part: subscription to the client and completion times per session."""

    DEFAULT_CSS = CSS

    def __init__(self, client: CopilotClient, session_ids: list[str]) -> None:
        super().__init__()
        self.client = client
        self.session_ids = session_ids
        self.done_at: dict[str, float] = {}
        self.idle_at: dict[str, float] = {}  # when the service said the reply ended
        self.shown_chars: dict[str, int] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def on_mount(self) -> None:
        self._unsubscribe = self.client.on(self._from_service)

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    def _from_service(self, event: ev.SessionEvent) -> None:
        raise NotImplementedError

    def _note_idle(self, event: ev.SessionEvent) -> None:
        if event.type == ev.SESSION_IDLE:
            self.idle_at[event.session_id] = time.perf_counter()

    def _painted(self, sid: str, chars: int) -> None:
        """Record the time the next frame after a reply finished was drawn."""

        def mark() -> None:
            self.done_at[sid] = time.perf_counter()
            self.shown_chars[sid] = chars

        self.call_after_refresh(mark)

    def streaming_lines(self) -> int:
        """Lines of streaming reply text on screen now, over all panes (proof it is drawn)."""
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        return len(self.done_at) == len(self.session_ids)


class OursScreen(_Panes):
    """The app's own Conversation widget, one per session."""

    def __init__(self, client: CopilotClient, session_ids: list[str]) -> None:
        super().__init__(client, session_ids)
        self.live = LiveText()
        self.panes: dict[str, Conversation] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            for i, sid in enumerate(self.session_ids):
                pane = Conversation(sid, self.live, id=f"pane-{i}")
                self.panes[sid] = pane
                yield pane

    def _from_service(self, event: ev.SessionEvent) -> None:
        if event.session_id not in self.panes:
            return
        self._note_idle(event)
        route_event(self.live, event, self.post_message)  # exactly what the main screen does

    def streaming_lines(self) -> int:
        return sum(w.region.height for w in self.query(LiveReply))

    @on(StreamDirty)
    def _dirty(self, message: StreamDirty) -> None:
        self.panes[message.session_id].text_arrived()

    @on(ServiceEvent)
    def _event(self, message: ServiceEvent) -> None:
        event = message.event
        self.panes[event.session_id].handle_event(event)
        if event.type == ev.SESSION_IDLE and event.data.get("message_id"):
            self.live.finish(event.session_id, event.data.message_id)

    @on(Conversation.ReplyFinished)
    def _finished(self, message: Conversation.ReplyFinished) -> None:
        self._painted(message.conversation.session_id, len(message.message.content))


class BaselinePane(VerticalScroll):
    """Textual's own streaming Markdown: one Markdown widget fed through a MarkdownStream."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.markdown = Markdown()
        self.stream: MarkdownStream | None = None
        self.chars = 0

    def compose(self) -> ComposeResult:
        yield self.markdown

    def on_mount(self) -> None:
        self.anchor()


class BaselineScreen(_Panes):
    def __init__(self, client: CopilotClient, session_ids: list[str]) -> None:
        super().__init__(client, session_ids)
        self.panes: dict[str, BaselinePane] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            for i, sid in enumerate(self.session_ids):
                pane = BaselinePane(id=f"pane-{i}")
                self.panes[sid] = pane
                yield pane

    def _from_service(self, event: ev.SessionEvent) -> None:
        pane = self.panes.get(event.session_id)
        if pane is None:
            return
        self._note_idle(event)
        if event.type == ev.MESSAGE_DELTA:
            if pane.stream is None:
                pane.stream = Markdown.get_stream(pane.markdown)
            text = event.data.delta_content or ""
            pane.chars += len(text)
            self._spawn(pane.stream.write(text))
        elif event.type == ev.SESSION_IDLE:
            self._spawn(self._end(event.session_id, pane))

    def streaming_lines(self) -> int:
        return sum(p.markdown.region.height for p in self.panes.values() if p.stream is not None)

    def _spawn(self, coro: object) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end(self, sid: str, pane: BaselinePane) -> None:
        if pane.stream is not None:
            await pane.stream.stop()
        self._painted(sid, len(pane.markdown.source))
