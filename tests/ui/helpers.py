"""Helpers for driving the app: bounded waits on conditions, never on time."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from copilot_tui.ui.screens.main import MainScreen
from copilot_tui.ui.widgets.chat_pane import ChatPane


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


def main_screen(pilot: Pilot) -> MainScreen:
    for screen in pilot.app.screen_stack:
        if isinstance(screen, MainScreen):
            return screen
    raise AssertionError("main screen not shown")


def pane_of(pilot: Pilot, session_id: str) -> ChatPane | None:
    return main_screen(pilot)._panes.get(session_id)


def text_of(widget: object) -> str:
    """The plain text a widget shows now (rendered lines joined)."""
    from textual.widget import Widget

    assert isinstance(widget, Widget)
    lines = widget.render_lines(widget.region.reset_offset) if widget.region.area else []
    return "\n".join("".join(seg.text for seg in line) for line in lines)
