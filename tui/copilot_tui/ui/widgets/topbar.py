"""One header line: the app name, the active session's title, id and model (always literal)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..safe import one_line


class TopBar(Static):
    session_title: reactive[str] = reactive("")
    session_id: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    note: reactive[str] = reactive("")

    def render(self) -> Text:
        line = Text("copilot-tui", style="bold")
        if self.session_id:
            line.append("  ")
            line.append(one_line(self.session_title) or "(untitled)")
            line.append(f"  ·  {one_line(self.session_id)}  ·  {one_line(self.model)}", style="dim")
        if self.note:
            line.append(f"  ·  {one_line(self.note)}", style="italic")
        return line
