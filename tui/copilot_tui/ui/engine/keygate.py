"""Type-ahead: keys typed with or right after an action that moves the focus go where it moved.

Textual hands each key to the widget focused when the app reads it. A key that runs an action
(switch tab, open a dialog, send) moves the focus only once that widget, its screen and the
action have run, so keys read in the meantime went to the widget being left: a title typed
after f2 was sent to the model as a chat turn, text typed after ctrl+pageup went to the tab
left behind. The gate passes text typed into a text field straight through; after any other
key it holds what follows until the app has settled (the widgets the key went through have
handled their queues, a dialog pushed has mounted and taken the focus, a refresh has run),
then delivers the held keys, in order, to whatever has the focus then. Work that moves the
focus later (a session created in a worker) holds the keys itself with ``hold``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.widgets import Input, TextArea

HOLD_LIMIT = 5.0  # seconds at most that keys wait for the app to settle
ROUNDS = 3  # settling rounds (an action can start another that moves the focus)

Deliver = Callable[[events.Event], Awaitable[None]]


def _typing(app: App[Any], event: events.Event) -> bool:
    """A character typed into a text field: nothing that can move the focus."""
    if not isinstance(event, events.Key):
        return isinstance(event, events.Paste) and isinstance(app.focused, (Input, TextArea))
    return (
        event.is_printable
        and "+" not in event.key
        and event.key not in ("slash", "space") + tuple(_widget_keys(app))
        and isinstance(app.focused, (Input, TextArea))
    )


def _widget_keys(app: App[Any]) -> Iterable[str]:
    """Printable keys the focused widget binds itself (none for the stock text fields)."""
    focused = app.focused
    for binding in getattr(focused, "BINDINGS", ()):
        key = binding.key if hasattr(binding, "key") else binding[0]
        yield from (k.strip() for k in str(key).split(",") if len(k.strip()) == 1)


class KeyGate:
    """Holds input events while the focus is moving; ``deliver`` is the app's own dispatch."""

    def __init__(self, app: App[Any], deliver: Deliver) -> None:
        self._app = app
        self._deliver = deliver
        self._queue: deque[events.Event] = deque()
        self._holds = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return self._holds > 0 or bool(self._queue)

    async def receive(self, event: events.Event) -> None:
        """A key or paste read from the terminal: through now, or queued behind a hold."""
        if self.busy:
            self._queue.append(event)
        else:
            await self._send(event)

    def hold(self) -> Callable[[], None]:
        """Hold keys until the returned function is called (calling it again does nothing)."""
        self._holds += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._holds -= 1
            if not self._holds and self._queue:
                self._app.call_later(self._pump)

        return release

    async def _send(self, event: events.Event) -> None:
        app = self._app
        if _typing(app, event):
            await self._deliver(event)
            return
        target: DOMNode = app.focused or app.screen
        known = set(app.screen_stack)
        release = self.hold()
        try:
            await self._deliver(event)
        except BaseException:
            release()
            raise
        task = asyncio.get_running_loop().create_task(self._settle(target, known, release))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(self) -> None:
        while self._queue and not self._holds:
            await self._send(self._queue.popleft())

    async def _settle(self, target: DOMNode, known: set[Any], release: Callable[[], None]) -> None:
        try:
            await asyncio.wait_for(self._quiet(target, known), HOLD_LIMIT)
        except Exception:  # noqa: BLE001 - a timeout or a closing app: never keep keys held
            pass
        finally:
            release()

    async def _quiet(self, target: DOMNode, known: set[Any]) -> None:
        """Settled: the key's widgets have handled their queues, and a round of the focused
        widget's chain moved neither the focus nor the screen. Only a new screen waits for a
        frame (its widgets mount and take the focus then); the rest is a few queue passes."""
        app = self._app
        screen = app.screen
        await _drain([*target.ancestors_with_self])
        for _ in range(ROUNDS):
            if app.screen is not screen:  # a dialog was pushed, or one closed
                screen = app.screen
                # a new dialog's widgets mount and take the focus; a screen shown again (a
                # dialog closed) only resumes, and its many widgets need not be waited for
                fresh = screen not in known
                await _drain([app, *(screen.walk_children(with_self=True) if fresh else [screen])])
                await _after_refresh(app)
            focused = app.focused or app.screen
            await _drain([*focused.ancestors_with_self])
            if app.screen is screen and (app.focused or app.screen) is focused:
                return


async def _drain(nodes: list[DOMNode]) -> None:
    """Wait until each node has handled the messages queued for it now."""
    pending = 0
    done = asyncio.Event()

    def one_done() -> None:
        nonlocal pending
        pending -= 1
        if pending == 0:
            done.set()

    for node in nodes:
        if node.call_later(one_done):
            pending += 1
    if pending:
        await done.wait()


async def _after_refresh(app: App[Any]) -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished() -> None:
        if not future.done():
            future.set_result(None)

    if app.call_after_refresh(finished):
        await future
