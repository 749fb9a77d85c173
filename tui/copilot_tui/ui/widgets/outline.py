"""The geometry of a long conversation without its text: one entry per finished message, its
height measured once per width and estimated until then.

A conversation mounts only the messages in or near its view (see Conversation); everything
above and below is a spacer as tall as the outline says. Plain Python, no Textual: the layout
of 10,000 messages is a list of numbers, not 10,000 widgets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MARGIN = 1  # the blank line above every message (its CSS margin)
# Rendered Markdown runs longer than its characters suggest (blank lines between blocks, code
# lines shorter than the width, table rules): a first guess, corrected by what is measured.
_REPLY_FACTOR = 3.5


@dataclass(frozen=True)
class Entry:
    """One finished message: where it sits in the store and how long its text is."""

    seq: int
    id: str
    role: str
    size: int


class Outline:
    """Heights of a conversation's finished messages at one width, for the spacers and jumps."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self._index = {e.id: i for i, e in enumerate(entries)}
        self._measured: dict[str, int] = {}
        self._width = 0
        self._ratio = 1.0  # measured / estimated, over what was measured at this width
        self._sums: tuple[float, float] = (0, 0)  # (measured, their estimates)

    def __len__(self) -> int:
        return len(self.entries)

    def index(self, message_id: str) -> int | None:
        return self._index.get(message_id)

    def set_width(self, width: int) -> None:
        """Heights belong to one width; a new width starts measuring again."""
        if width != self._width:
            self._width = width
            self._measured.clear()
            self._ratio, self._sums = 1.0, (0, 0)

    def _raw(self, i: int) -> float:
        entry, width = self.entries[i], max(self._width - 4, 10)
        if entry.role == "user":
            return 1 + math.ceil(entry.size / width)  # "You" and the text
        return 2 + entry.size * _REPLY_FACTOR / width  # the text and the meta line

    def height(self, i: int) -> int:
        """Lines message ``i`` takes, its margin included."""
        measured = self._measured.get(self.entries[i].id)
        if measured is not None:
            return measured
        return MARGIN + max(1, round(self._raw(i) * self._ratio))

    def measure(self, i: int, height: int) -> None:
        """The height (margin included) message ``i`` was drawn at, at the current width."""
        entry = self.entries[i]
        if entry.id in self._measured:
            self._measured[entry.id] = height
            return
        self._measured[entry.id] = height
        measured, estimated = self._sums
        self._sums = (measured + height - MARGIN, estimated + self._raw(i))
        if self._sums[1] > 0:
            self._ratio = self._sums[0] / self._sums[1]

    def is_measured(self, i: int) -> bool:
        return self.entries[i].id in self._measured

    def span(self, lo: int, hi: int) -> int:
        """Lines from the top of message ``lo`` to the top of message ``hi``."""
        return sum(self.height(i) for i in range(max(lo, 0), min(hi, len(self.entries))))

    def at(self, y: float, start: int = 0) -> tuple[int, float]:
        """The message at ``y`` lines below the top of message ``start``, and how far into it."""
        top = 0
        for i in range(start, len(self.entries)):
            h = self.height(i)
            if y < top + h:
                return i, y - top
            top += h
        return max(len(self.entries) - 1, 0), 0.0
