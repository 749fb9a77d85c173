"""Untrusted text (replies, titles, ids, errors) made inert before it reaches the terminal."""

from __future__ import annotations

from rich.text import Text

from ..text import strip_controls as clean

__all__ = ["clean", "one_line", "plain"]


def one_line(text: str) -> str:
    """A cleaned single line (titles, labels): newlines and tabs become spaces."""
    return " ".join(clean(text).split())


def plain(text: str, style: str = "") -> Text:
    """A Rich Text that is never parsed as markup."""
    return Text(clean(text), style=style)
