"""The reply that is streaming now: finished Markdown blocks frozen, only the tail re-rendered.

A paragraph or code fence that is complete is rendered once into its own small widget; each
flush re-renders only the open tail, so the cost of a frame does not grow with the reply.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..safe import one_line
from .render import markdown


class _Block(Static):
    """A frozen Markdown block of a streaming reply."""


class LiveReply(Vertical):
    def __init__(self, message_id: str, model: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="reply live")
        self.message_id = message_id
        self.model = model
        self._frozen_upto = 0  # text before this offset lives in frozen blocks
        self._scan_pos = 0  # complete lines before this offset were scanned
        self._fence: str | None = None  # the open code fence marker while inside one
        self._shown = ""  # the tail text rendered now
        self._note = ""
        self._tail = Static(classes="tail")
        self._note_line = Static(Text("▍ waiting…", style="dim"), classes="note")

    def compose(self) -> ComposeResult:
        yield self._tail
        yield self._note_line

    @property
    def ready(self) -> bool:
        return self._tail.is_mounted

    def _boundary(self, text: str) -> int | None:
        """The last offset after which a new block starts (blank line or closed fence)."""
        pos, found = self._scan_pos, None
        while (nl := text.find("\n", pos)) >= 0:
            line = text[pos:nl].strip()
            if self._fence is not None:
                if line.startswith(self._fence) and not line.strip(self._fence[0]):
                    self._fence = None
                    found = nl + 1
            elif line.startswith(("```", "~~~")):
                marker = line[:3]
                self._fence = marker[0] * (len(line) - len(line.lstrip(marker[0])))
            elif not line and pos > self._frozen_upto:
                found = nl + 1
            pos = nl + 1
        self._scan_pos = pos
        return found

    def show_text(self, text: str) -> None:
        """Bring the widget up to ``text`` (the whole reply so far)."""
        boundary = self._boundary(text)
        if boundary is not None and boundary > self._frozen_upto:
            block = text[self._frozen_upto : boundary]
            self._frozen_upto = boundary
            if block.strip():
                self.mount(_Block(markdown(block), classes="block"), before=self._tail)
        tail = text[self._frozen_upto :]
        if tail != self._shown:
            self._shown = tail
            self._tail.update(markdown(tail) if tail.strip() else "")
        if text and not self._note:
            self._note_line.update(Text("▍", style="dim"))

    def set_note(self, note: str | None) -> None:
        self._note = note or ""
        label = f"▍ {one_line(note)}" if note else "▍"
        self._note_line.update(Text(label, style="dim italic"))
