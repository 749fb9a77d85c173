"""State marks shared by the sidebar and the tab labels."""

from __future__ import annotations

from rich.text import Text

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def mark(state: str | None, frame: int) -> Text:
    """A one-cell mark: streaming (animated), waiting, unread reply, error, or blank."""
    if state == "streaming":
        return Text(SPINNER[frame % len(SPINNER)], style="bold green")
    if state == "waiting":
        return Text("…", style="bold yellow")
    if state == "unread":
        return Text("●", style="bold cyan")
    if state == "error":
        return Text("✗", style="bold red")
    return Text(" ")
