"""Interpreter settings the engine changes while the app runs, and puts back when it exits.

Both are process-wide, so they are set when the app starts (``start``), not when a module is
imported, and restored by ``stop``: a test, a script or another app importing the UI keeps
the interpreter as it was.
"""

from __future__ import annotations

import asyncio
import gc
import sys

# A render thread keeps the GIL until the interpreter's switch interval runs out (5 ms by
# default) each time the event loop wakes up wanting it back, so every timer, keypress and
# frame waited up to 5 ms per wake-up, tens of ms per frame: measured lag p99 ~90 ms with 8
# panes streaming at 100 tok/s, ~45 ms at 1 ms.
SWITCH_INTERVAL = 0.001

_saved_interval: float | None = None


def start() -> None:
    """Apply the settings (once; a second start changes nothing)."""
    global _saved_interval
    if _saved_interval is None:
        _saved_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)


def stop() -> None:
    """Put back what ``start`` and the collector pause changed."""
    global _saved_interval
    if _saved_interval is not None:
        sys.setswitchinterval(_saved_interval)
        _saved_interval = None
    CollectorPause.reset()


class CollectorPause:
    """No full garbage collection while replies stream.

    A streaming reply allocates many small objects (lines, segments, styles), so the collector
    runs often, and each full collection walks every object in the app: measured at 100-400 ms
    per pass with a few panes of long replies, a freeze of the whole UI (or of a render thread
    holding the GIL). Rendered lines are freed by reference counting, not by the collector, and
    the young generations are still collected as usual, so while anything streams only the
    oldest generation waits; the thresholds come back a moment after the last reply ends, so
    the one full pass that follows does not land on the swap to the finished messages (Textual
    pauses the collector during smooth scrolling for the same reason).
    """

    SETTLE = 2.0  # seconds after the last reply before full collections resume

    active = 0
    _saved: tuple[int, int, int] | None = None
    _restore: asyncio.TimerHandle | None = None

    @classmethod
    def begin(cls) -> None:
        cls.active += 1
        if cls._restore is not None:
            cls._restore.cancel()
            cls._restore = None
        if cls._saved is None:
            cls._saved = gc.get_threshold()
            gen0, gen1, _ = cls._saved
            gc.set_threshold(gen0, gen1, 1 << 30)

    @classmethod
    def end(cls) -> None:
        cls.active = max(0, cls.active - 1)
        if not cls.active and cls._saved is not None and cls._restore is None:
            try:
                cls._restore = asyncio.get_running_loop().call_later(cls.SETTLE, cls._resume)
            except RuntimeError:  # no loop (shutting down): resume now
                cls._resume()

    @classmethod
    def _resume(cls) -> None:
        cls._restore = None
        if not cls.active and cls._saved is not None:
            gc.set_threshold(*cls._saved)
            cls._saved = None

    @classmethod
    def reset(cls) -> None:
        """Resume full collections now, streaming or not (the app is exiting)."""
        if cls._restore is not None:
            cls._restore.cancel()
            cls._restore = None
        cls.active = 0
        if cls._saved is not None:
            gc.set_threshold(*cls._saved)
            cls._saved = None
