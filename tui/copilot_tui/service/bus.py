"""Subscribers to a stream of events: one implementation for the client, sessions and comparisons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class EventBus(Generic[E]):
    """Handlers called in order for every event; a handler's bug is logged, never raised, so a
    listener can never break the turn or the comparison that emits. A bus may pass every event
    on to a wider one (a session's events also reach the client's subscribers)."""

    def __init__(self, what: str, *, then: EventBus[E] | None = None) -> None:
        self._what = what
        self._then = then
        self._handlers: list[Callable[[E], Any]] = []

    def on(self, handler: Callable[[E], Any]) -> Callable[[], None]:
        """Subscribe; returns the unsubscribe function."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def emit(self, event: E) -> None:
        bus: EventBus[E] | None = self
        while bus is not None:
            for handler in list(bus._handlers):
                try:
                    handler(event)
                except Exception:
                    log.exception("%s event handler failed", bus._what)
            bus = bus._then

    def clear(self) -> None:
        self._handlers.clear()
