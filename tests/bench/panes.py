"""Panes streaming side by side: the product's own views, or a ``MarkdownStream`` baseline.

``OursProbe`` watches the real app: one pane is a chat tab, two or more a comparison in the
main screen's compare view. ``BaselineApp`` is Textual's own streaming Markdown with nothing
else on screen. Both note when the service said each reply ended and when the finished reply
was on screen (the frame after it was put in place).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream

from copilot_tui import events as ev
from copilot_tui.service import CopilotClient
from tests.bench.harness import MODEL


class _Watch:
    """The service side of a run: which sessions streamed, what they sent, when they ended."""

    def __init__(self, client: CopilotClient) -> None:
        self.client = client
        self.panes = 0
        self.done_at: dict[str, float] = {}  # the finished reply was on screen
        self.idle_at: dict[str, float] = {}  # the service said the reply ended
        self.shown_chars: dict[str, int] = {}
        self.sent_chars: dict[str, int] = {}
        self.session_ids: list[str] = []
        self._unsubscribe: Callable[[], None] = client.on(self._count)

    def _count(self, event: ev.SessionEvent) -> None:
        sid = event.session_id
        if event.type == ev.TURN_START and sid not in self.session_ids:
            self.session_ids.append(sid)
        elif event.type == ev.MESSAGE_DELTA:
            self.sent_chars[sid] = self.sent_chars.get(sid, 0) + len(event.data.delta_content or "")
        elif event.type == ev.SESSION_IDLE:
            self.idle_at[sid] = time.perf_counter()

    def on_screen(self, sid: str, chars: int) -> None:
        self.done_at.setdefault(sid, time.perf_counter())
        self.shown_chars.setdefault(sid, chars)

    @property
    def finished(self) -> bool:
        return self.panes > 0 and len(self.done_at) == self.panes


class OursProbe(_Watch):
    """The real app's main screen, fed by ctrl+s's comparison (or a tab for one pane)."""

    def __init__(self, client: CopilotClient) -> None:
        super().__init__(client)
        self.screen: Any = None

    async def ready(self, screen: Any, panes: int) -> None:
        self.screen, self.panes = screen, panes

    async def send(self, prompt: str, tokens: int) -> None:
        from copilot_tui.service.compare import PaneSpec
        from copilot_tui.ui.screens.compare_dialog import CompareRequest

        if self.panes == 1:
            session = await self.client.create_session(MODEL)
            await self.screen.open_session(session.session_id)
            await session.send(prompt, max_tokens=tokens)
        else:
            # one model in every pane: a comparison tells them apart by their system messages
            specs = [PaneSpec(MODEL, f"You answer in pane {i + 1}.") for i in range(self.panes)]
            self.screen.start_comparison(CompareRequest(specs, None, prompt))

    def message_hook(self, message: Message) -> None:
        from copilot_tui.ui.widgets.conversation import Conversation

        if isinstance(message, Conversation.ReplyFinished):
            sid, chars = message.conversation.session_id, len(message.message.content)
            message.conversation.call_after_refresh(self.on_screen, sid, chars)

    def streaming_lines(self) -> int:
        from copilot_tui.ui.widgets.live_reply import LiveReply

        return sum(w.region.height for w in self.screen.query(LiveReply))


class BaselinePane(VerticalScroll):
    """Textual's own streaming Markdown: one Markdown widget fed through a MarkdownStream."""

    DEFAULT_CSS = "BaselinePane { width: 1fr; height: 1fr; padding: 0 1; }"

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.markdown = Markdown()
        self.stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        yield self.markdown

    def on_mount(self) -> None:
        self.anchor()


class BaselineApp(App[None], _Watch):
    """Nothing but the panes: the baseline pays for no sidebar, tabs or headers."""

    CSS = "#panes { height: 1fr; }"

    def __init__(self, client: CopilotClient, session_ids: list[str]) -> None:
        App.__init__(self)
        _Watch.__init__(self, client)
        self.panes = len(session_ids)
        self._ids = session_ids
        self._by_id: dict[str, BaselinePane] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            for i, sid in enumerate(self._ids):
                pane = self._by_id[sid] = BaselinePane(id=f"pane-{i}")
                yield pane

    def on_mount(self) -> None:
        self.client.on(self._feed)

    async def send(self, prompt: str, tokens: int) -> None:
        for sid in self._ids:
            session = await self.client.resume_session(sid)
            await session.send(prompt, max_tokens=tokens)

    def _feed(self, event: ev.SessionEvent) -> None:
        pane = self._by_id.get(event.session_id)
        if pane is None:
            return
        if event.type == ev.MESSAGE_DELTA:
            if pane.stream is None:
                pane.stream = Markdown.get_stream(pane.markdown)
            self._spawn(pane.stream.write(event.data.delta_content or ""))
        elif event.type == ev.SESSION_IDLE:
            self._spawn(self._end(event.session_id, pane))

    def streaming_lines(self) -> int:
        return sum(p.markdown.region.height for p in self._by_id.values() if p.stream is not None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end(self, sid: str, pane: BaselinePane) -> None:
        if pane.stream is not None:
            await pane.stream.stop()
        self.call_after_refresh(self.on_screen, sid, len(pane.markdown.source))
