"""What sessions and comparisons need from the client, and nothing more.

The client owns one runtime; sessions and comparisons get it instead of the client, so none of
them reaches into another's private state, and the service has no import cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .. import events as ev
from ..store import AsyncStore
from .bus import EventBus
from .loopshare import LoopShare
from .registry import ProviderRegistry

if TYPE_CHECKING:
    from .compare import Comparison
    from .session import Session


class Runtime:
    def __init__(
        self, store: AsyncStore, providers: ProviderRegistry, events: EventBus[ev.SessionEvent]
    ) -> None:
        self.store = store
        self.providers = providers
        self.events = events  # every session's events
        self.loop_share = LoopShare()  # shared by every session: fast streams step aside in turn
        self.sessions: dict[str, Session] = {}  # the live ones, by id
        self.comparisons: dict[str, Comparison] = {}  # the open ones, by group id
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A background task the client waits for (or cancels) when it stops."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
