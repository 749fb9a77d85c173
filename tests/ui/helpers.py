"""Helpers for driving the app: bounded waits on conditions, never on time."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from copilot_tui.ui.screens.main import MainScreen
from copilot_tui.ui.widgets.chat_pane import ChatPane
from copilot_tui.ui.widgets.marks import SPINNER


async def wait_for(
    pilot: Pilot, condition: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot) -> None:
    """Let the app handle every message already queued, and those they queue in turn.

    Not ``pilot.pause()``: that waits for the process to look idle, which takes up to a second
    a call while replies stream or other work keeps the CPU busy, and proves nothing more."""
    for _ in range(3):
        await pilot.pause(0)


def main_screen(pilot: Pilot) -> MainScreen:
    for screen in pilot.app.screen_stack:
        if isinstance(screen, MainScreen):
            return screen
    raise AssertionError("main screen not shown")


def pane_of(pilot: Pilot, session_id: str) -> ChatPane | None:
    return main_screen(pilot).chat_pane(session_id)


def text_of(widget: object) -> str:
    """The plain text a widget shows now (rendered lines joined)."""
    from textual.widget import Widget

    assert isinstance(widget, Widget)
    lines = widget.render_lines(widget.region.reset_offset) if widget.region.area else []
    return "\n".join("".join(seg.text for seg in line) for line in lines)


_MARKS = {"…": "waiting", "●": "unread", "✗": "error", " ": None} | dict.fromkeys(
    SPINNER, "streaming"
)


def sidebar_mark(pilot: Pilot, session_id: str) -> str | None:
    """The state mark drawn in front of a session's row in the sidebar, read off the row itself:
    "streaming", "waiting", "unread", "error" or None for none."""
    rows = main_screen(pilot).sidebar.session_list
    y = rows._index_to_line[rows.get_option_index(session_id)] - round(rows.scroll_offset.y)
    assert 0 <= y < rows.scrollable_content_region.height, f"the row of {session_id} is out of view"
    x = rows.get_component_styles("option-list--option").padding.left
    glyph = rows.render_line(y).crop(x, x + 1).text
    assert glyph in _MARKS, f"{glyph!r} is not a mark"
    return _MARKS[glyph]


def session_ids(pilot: Pilot) -> list[str]:
    return list(main_screen(pilot).workspace.sessions)


async def started(pilot: Pilot) -> MainScreen:
    """Wait until the main screen has loaded sessions and restored tabs."""
    await wait_for(
        pilot,
        lambda: any(isinstance(s, MainScreen) for s in pilot.app.screen_stack),
        what="main screen",
    )
    screen = main_screen(pilot)
    await wait_for(pilot, lambda: not screen.restoring, what="start-up")
    return screen


async def open_tab(pilot: Pilot, session_id: str) -> ChatPane:
    screen = main_screen(pilot)
    await screen.open_session(session_id)
    pane = screen.chat_pane(session_id)
    assert pane is not None
    await wait_for(
        pilot,
        lambda: pane.is_mounted and screen.active_session_id == session_id and pane.region.area > 0,
        what="pane shown",
    )
    await settle(pilot)
    await wait_for(pilot, lambda: screen.active_session_id == session_id, what="pane still active")
    return pane


async def send(pilot: Pilot, pane: ChatPane, text: str) -> None:
    """Type into the pane's prompt as a user would (focus it, set the text, press enter)."""
    await keys_delivered(pilot)  # a key still held for the focus to move would go to this pane
    pane.prompt.focus()
    pane.prompt.load_text(text)
    await tap(pilot, "enter")


async def wait_idle(pilot: Pilot, pane: ChatPane, replies: int = 1, timeout: float = 15.0) -> None:
    await wait_for(
        pilot,
        lambda: (
            not pane.session.busy
            and len(pane.conversation.replies) >= replies
            and not pane.conversation.streaming
        ),
        timeout,
        what=f"reply in {pane.session_id}",
    )


def shown(widget: object) -> str:
    """What a widget's renderable says, as plain text (independent of screen geometry)."""
    from rich.console import Console

    console = Console(width=100, color_system=None, file=None, record=True, force_terminal=False)
    renderable = getattr(widget, "content", widget)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def _post_key(pilot: Pilot, key: str) -> None:
    from textual import events

    pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))


async def keys_delivered(pilot: Pilot) -> None:
    """Wait until no typed key is held back waiting for the focus to move (see keygate)."""
    await wait_for(pilot, lambda: not pilot.app.key_gate.busy, what="keys delivered")


async def tap(pilot: Pilot, *keys: str) -> None:
    """Press keys without waiting for the app to go idle (it never is while replies stream)."""
    for key in keys:
        _post_key(pilot, key)
        await pilot.pause(0.02)


def in_one_read(pilot: Pilot, *keys: str) -> None:
    """Queue keys back to back, as a fast typist or a remote terminal delivers them in one read."""
    for key in keys:
        _post_key(pilot, key)


async def focused_prompt(pilot: Pilot, session_id: str) -> ChatPane:
    """Once started, the session's tab open with its prompt focused."""
    await started(pilot)
    pane = await open_tab(pilot, session_id)
    pane.prompt.focus()
    await pilot.pause()
    return pane
