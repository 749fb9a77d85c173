"""A fair share of the event loop for streams that receive faster than they wait.

A fast stream can hand over hundreds of events from one network read without ever suspending,
and several such streams run back to back in one pass of the loop, so timers, input and the
screen wait for all of them. One keeper shared by every session of a client notices when the
loop itself has gone ``budget`` seconds without a new pass and asks each stream to step aside
at its next event. A stream that waits on the network (paced tokens) lets the loop pass on its
own and never pays for an extra yield.
"""

from __future__ import annotations

import asyncio
import time

BUDGET = 0.002  # seconds of one pass of the loop spent on streams before they step aside


class LoopShare:
    def __init__(self, budget: float = BUDGET) -> None:
        self.budget = budget
        self._since = time.monotonic()  # when the loop last ran our marker: a new pass began
        self._armed = False

    def _tick(self) -> None:
        self._armed = False
        self._since = time.monotonic()

    def overdue(self, now: float) -> bool:
        """True when the current pass of the loop has run ``budget`` seconds: yield then."""
        if not self._armed:
            self._armed = True
            asyncio.get_running_loop().call_soon(self._tick)
        return now - self._since >= self.budget
