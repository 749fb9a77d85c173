"""How many requests run at once against one provider, and when that drops to one.

Some servers answer one request at a time and treat a second one badly: llama-cpp-python's
OpenAI-compatible server answers 200 and then closes a second concurrent stream. Such a stream
ends before its first word and is retried like any failure before the first word; a provider
that keeps doing it while others run is sent one request at a time for the rest of the run.
"""

from __future__ import annotations

import asyncio
from collections import deque

DROPS_BEFORE_THROTTLE = 2  # early ends while other requests ran, before the limit becomes one


class ProviderLimit:
    """A semaphore whose size can shrink while it is held; ``limit`` None means no limit."""

    def __init__(self, name: str, limit: int | None) -> None:
        self.name = name
        self.limit = limit
        self.active = 0
        self.throttled = False
        self._drops = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self.limit is not None and self.active >= self.limit

    @property
    def over(self) -> bool:
        """More requests hold a slot than the (lowered) limit allows."""
        return self.limit is not None and self.active > self.limit

    @property
    def waiting_note(self) -> str:
        if self.throttled:
            return f"waiting: {self.name} answers one request at a time"
        return "waiting: too many requests to this provider at once"

    async def acquire(self) -> None:
        if not self.locked() and not self._waiters:
            self.active += 1
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was granted as the wait was cancelled: hand it on
            else:
                try:
                    self._waiters.remove(future)
                except ValueError:
                    pass
            raise

    def release(self) -> None:
        self.active -= 1
        while self._waiters and not self.locked():
            future = self._waiters.popleft()
            if not future.done():
                self.active += 1
                future.set_result(None)

    def early_end(self) -> bool:
        """A stream ended before its first word while other requests ran. True exactly once:
        when this lowers the limit to one for the rest of the run."""
        if self.active <= 1:
            return False
        self._drops += 1
        if self.throttled or self._drops < DROPS_BEFORE_THROTTLE:
            return False
        self.throttled = True
        self.limit = 1
        return True
