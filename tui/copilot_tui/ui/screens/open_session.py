"""ctrl+o: open a session by a fuzzy match of its title, fast with thousands of sessions.

Textual's list of simple commands scores and highlights every entry on every keystroke and
lists every entry when it opens (10,000 sessions: 3-5 s a key). Here the titles are filtered
by one regular expression (the typed characters in order), the cheapest ranking picks the best
``SHOWN``, and only those are scored and highlighted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, SimpleCommand, SimpleProvider
from textual.screen import Screen

SHOWN = 40  # entries listed at most: more than fit on any screen


class SessionProvider(SimpleProvider):
    """Sessions by title, newest first when nothing is typed."""

    def __init__(self, screen: Screen[Any], commands: list[SimpleCommand]) -> None:
        super().__init__(screen, [])
        self.sessions = commands
        self._lower = [c.name.lower() for c in commands]

    async def search(self, query: str) -> Hits:
        text = query.lower().strip()
        if not text:
            return
        pattern = re.compile(".*?".join(re.escape(c) for c in text if not c.isspace()))
        found: list[tuple[int, int, int]] = []  # (rank, length, index): lower is better
        for i, name in enumerate(self._lower):
            match = pattern.search(name)
            if match is None:
                continue
            rank = 0 if text in name else 1 if name.startswith(text[:1]) else 2
            found.append((rank, match.end() - match.start(), i))
        found.sort()
        matcher = self.matcher(query)
        for _, _, i in found[:SHOWN]:
            command = self.sessions[i]
            yield Hit(
                max(matcher.match(command.name), 0.01),
                matcher.highlight(command.name),
                command.callback,
                help=command.help_text,
            )

    async def discover(self) -> Hits:
        for command in self.sessions[:SHOWN]:
            yield DiscoveryHit(command.name, command.callback, help=command.help_text)


def session_commands(
    entries: list[tuple[str, str, str]], opener: Callable[[str], Callable[[], None]]
) -> list[SimpleCommand]:
    """Commands for ``(title, session id, model)`` entries, in the order given."""
    return [
        SimpleCommand(
            (title or "(untitled)").replace("[", "(").replace("]", ")"),
            opener(sid),
            f"{sid} · {model}",
        )
        for title, sid, model in entries
    ]
