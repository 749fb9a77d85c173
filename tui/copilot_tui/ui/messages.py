"""Textual messages the UI posts between its parts."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..events import SessionEvent
from .workspace.tabs import Tab


@dataclass
class ServiceEvent(Message):
    """A session event from the service, re-posted on the UI's message queue."""

    event: SessionEvent


class StartupDone(Message):
    """The main screen has drawn its sessions and restored its tabs: idle-time work may begin."""


@dataclass
class StreamDirty(Message):
    """New reply text is buffered for a session; its pane should flush on its next frame."""

    session_id: str


@dataclass
class OpenSession(Message):
    """Open (or focus) the tab of a session, optionally revealing one message."""

    session_id: str
    message_id: str | None = None
    seq: int | None = None


@dataclass
class SessionAction(Message):
    """A sidebar request: 'new', or 'rename' / 'delete' of the row's session or comparison."""

    action: str
    tab: Tab | None = None


@dataclass
class PromptSubmitted(Message):
    """The user sent a prompt from a conversation pane."""

    session_id: str
    text: str


@dataclass
class OpenComparison(Message):
    """Open (or focus) the compare view of a comparison group."""

    group_id: str
