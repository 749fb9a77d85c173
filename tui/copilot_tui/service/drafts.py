"""Drafts: the unsent text of each session's prompt, kept across tab closes and restarts.

The front ends reach the store only through the service; this is that path for drafts.
"""

from __future__ import annotations

from ..store import AsyncStore

__all__ = ["MAX_DRAFT", "load_drafts", "save_draft"]

MAX_DRAFT = 1_000_000  # characters: a pasted file is a draft too, a runaway paste is cut


async def load_drafts(store: AsyncStore) -> dict[str, str]:
    """Every session's draft, by session id."""
    drafts: dict[str, str] = await store.list_drafts()
    return drafts


async def save_draft(store: AsyncStore, session_id: str, text: str) -> None:
    """Keep ``text`` as the session's draft; blank text removes it."""
    await store.set_draft(session_id, text[:MAX_DRAFT] if text.strip() else "")
