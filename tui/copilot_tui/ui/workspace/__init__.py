"""The UI's state, outside the widgets (no Textual import; a contract keeps it so)."""

from .live import LiveText
from .model import (
    ActiveChanged,
    Change,
    Compose,
    ComposeChanged,
    DraftChanged,
    InfoChanged,
    Mark,
    MarkChanged,
    NoteChanged,
    SessionsChanged,
    TabsChanged,
    Turn,
    Workspace,
)
from .tabs import GroupTab, SessionTab, Tab, decode, encode

__all__ = [
    "ActiveChanged",
    "Change",
    "Compose",
    "ComposeChanged",
    "DraftChanged",
    "GroupTab",
    "InfoChanged",
    "LiveText",
    "Mark",
    "MarkChanged",
    "NoteChanged",
    "SessionTab",
    "SessionsChanged",
    "Tab",
    "TabsChanged",
    "Turn",
    "Workspace",
    "decode",
    "encode",
]
