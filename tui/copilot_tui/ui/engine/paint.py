"""One heavy repaint per screen frame.

A frame's cost is not the sum of what changed: Textual renders every line of every widget in
the rectangle around all the changes, so two panes at opposite corners that repaint in the same
frame cost the whole screen. Streaming panes, the compare headers and the sidebar's spinners
therefore take turns: each asks for its turn here and changes what it shows only then, one job
per frame, the next one after the screen has been drawn.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from textual.app import App
from textual.widget import Widget

Job = Callable[[], object]
STALE = 0.25  # a turn not handed on by then (its frame never came) is taken back
GAP = 1 / 60  # Textual draws at most this often: a turn lasts at least one frame


class PaintTurns:
    def __init__(self) -> None:
        self._queue: deque[tuple[int, str]] = deque()
        self._jobs: dict[tuple[int, str], tuple[Widget, Job]] = {}
        self._busy = False
        self._since = 0.0

    def request(self, widget: Widget, job: Job, key: str = "", *, first: bool = False) -> None:
        """Run ``job`` (it repaints ``widget``) now if no other job ran this frame, else in turn
        (``first``: ahead of the queue).

        A widget has at most one job per key in the queue: a newer request replaces the job
        but keeps its place."""
        if not self._busy or time.monotonic() - self._since > STALE:
            self._run(widget, job)
            return
        mark = (id(widget), key)
        if mark not in self._jobs:
            if first:
                self._queue.appendleft(mark)
            else:
                self._queue.append(mark)
        self._jobs[mark] = (widget, job)

    async def wait(self, widget: Widget, key: str, *, first: bool = False) -> None:
        """Until ``widget``'s turn: for a change made by the awaiting code itself."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def release() -> None:
            if not turn.done():
                turn.set_result(None)

        self.request(widget, release, key, first=first)
        await turn

    def _run(self, widget: Widget, job: Job) -> None:
        self._busy = True
        self._since = time.monotonic()
        try:
            job()
        finally:
            widget.call_after_refresh(self._after, widget)

    def _after(self, widget: Widget) -> None:
        """The refresh after a job. It can come before the job's own repaint reached the
        screen (the screen was idle a moment earlier), so a turn lasts at least one frame and
        then waits for the refresh after that."""
        left = GAP - (time.monotonic() - self._since)
        if left <= 0 or not widget.is_attached:
            self._next()
            return
        asyncio.get_running_loop().call_later(left, self._again, widget)

    def _again(self, widget: Widget) -> None:
        if widget.is_attached:
            widget.call_after_refresh(self._next)
        else:
            self._next()

    def _next(self) -> None:
        while self._queue:
            widget, job = self._jobs.pop(self._queue.popleft())
            if widget.is_attached:
                self._run(widget, job)
                return
        self._busy = False


def paint_turns(app: App[object]) -> PaintTurns:
    """The app's one queue of paint turns."""
    turns = getattr(app, "_paint_turns", None)
    if turns is None:
        turns = PaintTurns()
        app._paint_turns = turns  # type: ignore[attr-defined]
    return turns
