"""The flush clock shared by every streaming conversation.

Panes streaming side by side flush on one clock, each at its own phase, so their repaints
(a whole pane each) spread over separate frames, and the period stretches with the panes
streaming so the event loop keeps about the same share of the CPU.
"""

from __future__ import annotations

import time

FRAME = 0.05  # seconds between renders of a streaming reply, with one or two panes streaming
MAX_FRAME = 0.2  # the longest gap, with seven or more panes streaming on screen
SLOT = 0.025  # panes streaming together flush this far apart, not in the same frame
_flushed: dict[int, float] = {}  # conversation -> when it last flushed (monotonic)
_slots: dict[int, int] = {}  # conversation -> its phase on the flush clock, in SLOTs


def frame_period(now: float) -> float:
    """The flush clock's period: longer as more panes stream on screen at once.

    Each flush of an anchored pane repaints the whole pane (the text scrolls), so the cost of a
    frame grows with the panes streaming; stretching the period keeps the event loop's share
    of the CPU about the same, and a frame drops rather than queues.
    """
    for key in [k for k, t in _flushed.items() if now - t > 1.0]:
        del _flushed[key]
        _slots.pop(key, None)
    active = sum(1 for t in _flushed.values() if now - t < 0.5)
    return min(MAX_FRAME, FRAME * max(1, (active + 1) // 2))


def next_flush(key: int, now: float) -> tuple[float, float]:
    """When a pane flushes next, and the period. Each pane has its own phase on the clock, so
    the panes' repaints (a whole pane each) spread over separate frames instead of piling into
    one long screen update that stalls the event loop."""
    period = frame_period(now)
    slot = _slots.get(key)
    if slot is None:
        used = set(_slots.values())
        slot = _slots[key] = next(i for i in range(len(used) + 1) if i not in used)
    phase = (slot * SLOT) % period
    return ((now - phase) // period + 1) * period + phase, period


def flushed(key: int) -> float:
    """Note that a pane flushed now; returns the time (monotonic)."""
    now = _flushed[key] = time.monotonic()
    return now
