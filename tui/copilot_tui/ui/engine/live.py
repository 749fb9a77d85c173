"""The UI's one subscription to the service: what happens inside a service task.

Text goes into the workspace's reply buffer (``LiveText``) and only marks its session dirty;
every other event is posted once, as a typed ``ServiceEvent``, for the main screen to apply to
the workspace and hand to the views that show the session.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from ...events import MESSAGE_DELTA, TURN_START, SessionEvent
from ..messages import ServiceEvent, StreamDirty
from ..workspace.live import LiveText

__all__ = ["LiveText", "route_event"]


def route_event(live: LiveText, event: SessionEvent, post: Callable[[Message], object]) -> None:
    """Buffer the text, post one message, nothing more.

    Text only marks its session dirty (one message until the views flush); every other event
    goes on as a ServiceEvent.
    """
    if event.type == MESSAGE_DELTA:
        if live.append(event.session_id, event.data.message_id, event.data.delta_content or ""):
            post(StreamDirty(event.session_id))
        return
    if event.type == TURN_START:
        live.start(event.session_id, event.data.message_id)
    post(ServiceEvent(event))
