"""Session events, named as in the Copilot SDK (``assistant.message_delta``, ``session.idle``...)."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

USER_MESSAGE = "user.message"
TURN_START = "assistant.turn_start"
MESSAGE_DELTA = "assistant.message_delta"
MESSAGE = "assistant.message"
USAGE = "assistant.usage"
SESSION_ERROR = "session.error"
SESSION_IDLE = "session.idle"
SESSION_STATUS = "session.status"  # waiting / loading model / retrying in N s
TITLE_CHANGED = "session.title_changed"
MODEL_CHANGE = "session.model_change"
PARAMS_CHANGED = "session.params_changed"  # temperature, top_p, max_tokens, seed, context_size
SESSION_CREATED = "session.created"
SESSION_DELETED = "session.deleted"
# the active branch changed: a reply regenerated, a prompt edited, another version chosen
BRANCH_CHANGED = "session.branch_changed"
# agent sessions: a tool started or ended (``tool``: a ToolCall), a permission asked and answered
TOOL_START = "tool.execution_start"
TOOL_COMPLETE = "tool.execution_complete"
PERMISSION_REQUESTED = "permission.requested"
PERMISSION_COMPLETED = "permission.completed"


class EventData:
    """Attribute access over a dict (``event.data.delta_content``), tolerant of missing keys."""

    __slots__ = ("_values",)

    def __init__(self, **values: Any) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"EventData({self._values!r})"


# Event ids only need to be unique within a process: a counter is far cheaper than uuid4 per token.
_PREFIX = f"{os.getpid():x}-{int(time.time()):x}-"
_COUNTER = itertools.count(1)


def _next_id() -> str:
    return _PREFIX + str(next(_COUNTER))


@dataclass(slots=True)
class SessionEvent:
    type: str
    data: EventData
    session_id: str
    id: str = field(default_factory=_next_id)
    timestamp: float = field(default_factory=time.time)

    @classmethod
    def make(cls, type: str, session_id: str, **data: Any) -> SessionEvent:
        return cls(type=type, data=EventData(**data), session_id=session_id)
