"""What a tab shows: one session's conversation, or one comparison's panes.

Typed references instead of prefixed strings; ``encode``/``decode`` are how open tabs are
saved between runs (``decode`` also reads the "group:ID" strings earlier versions saved).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GroupTab", "SessionTab", "Tab", "decode", "encode"]

_LEGACY_GROUP = "group:"  # how earlier versions saved a comparison tab


@dataclass(frozen=True, slots=True)
class SessionTab:
    """A conversation tab of one session."""

    session_id: str


@dataclass(frozen=True, slots=True)
class GroupTab:
    """A compare view: the panes of one comparison group side by side."""

    group_id: str


Tab = SessionTab | GroupTab


def encode(tab: Tab) -> dict[str, str]:
    if isinstance(tab, GroupTab):
        return {"group": tab.group_id}
    return {"session": tab.session_id}


def decode(value: object) -> Tab | None:
    """A saved tab, or None for anything unreadable (the saved state is never trusted)."""
    if isinstance(value, dict):
        group, session = value.get("group"), value.get("session")
        if isinstance(group, str) and group:
            return GroupTab(group)
        if isinstance(session, str) and session:
            return SessionTab(session)
        return None
    if isinstance(value, str) and value:
        if value.startswith(_LEGACY_GROUP):
            group_id = value.removeprefix(_LEGACY_GROUP)
            return GroupTab(group_id) if group_id else None
        return SessionTab(value)
    return None
