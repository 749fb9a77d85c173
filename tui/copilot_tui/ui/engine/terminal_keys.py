"""What terminals send for alt keys, read the way the user pressed them.

Without the kitty keyboard protocol a terminal sends alt+key as ESC and the key. Textual's
parser reads ESC DEL (alt+backspace) as ctrl+w, ESC CR (alt+enter) as a plain enter, and an
ESC and a letter followed at once by more input (a fast typist, tmux, a paste of keys) as a
``^`` and the letter typed into the prompt. Here ESC and one key is alt and that key,
decided as soon as the key is read, and an alt key never carries a character, so a text
field never types it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from textual import events

from . import internals

# ESC then one of these starts a longer sequence (CSI, SS3, OSC, DCS, APC), not an alt key.
_INTRODUCERS = frozenset("[O]P_\x1b")


def alt_key(sequence: str) -> str | None:
    """The alt key that ESC and one character mean, or None for anything else."""
    if len(sequence) != 2 or sequence[0] != "\x1b" or sequence[1] in _INTRODUCERS:
        return None
    char = sequence[1]
    if char in ("\x7f", "\x08"):
        return "alt+backspace"
    if char in ("\r", "\n"):
        return "alt+enter"
    if not char.isprintable():
        return None
    from textual.keys import _character_to_key

    name = char if char.isalnum() else _character_to_key(char)
    if len(name) == 1 and name.isupper():
        return f"alt+shift+{name.lower()}"
    return f"alt+{name}"


def install() -> None:
    """Make the terminal driver read keys with ``parser_class()`` (if the internals are there)."""
    if not internals.available(internals.KEY_PARSER):
        return
    from textual.drivers import linux_driver

    linux_driver.XTermParser = parser_class()  # type: ignore[misc]


@functools.cache
def parser_class() -> type[Any]:
    """Textual's parser with alt keys read as pressed (see the module's docstring)."""
    from textual._xterm_parser import XTermParser

    class AltAwareParser(XTermParser):
        def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
            name = alt_key(sequence)
            if name is None and alt and len(sequence) == 1:
                name = alt_key("\x1b" + sequence)
            if name is not None:
                yield events.Key(name, None)
                return
            for key in super()._sequence_to_key_events(sequence, alt):
                if key.key.startswith("alt+") and key.character is not None:
                    yield events.Key(key.key, None)
                else:
                    yield key

    return AltAwareParser
