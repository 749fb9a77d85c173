"""Untrusted text (replies, titles, ids, errors) made inert before it reaches the terminal."""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls except \t and \n, DEL, and C1 controls (which include the 8-bit CSI and OSC).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Whole escape sequences first, so their parameters do not show up as stray text.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (52 clipboard, 8 hyperlinks...), BEL or ST ended
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
)


def clean(text: str) -> str:
    """Strip terminal control sequences and control characters, keeping newlines and tabs."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


def one_line(text: str) -> str:
    """A cleaned single line (titles, labels): newlines and tabs become spaces."""
    return " ".join(clean(text).split())


def plain(text: str, style: str = "") -> Text:
    """A Rich Text that is never parsed as markup."""
    return Text(clean(text), style=style)
