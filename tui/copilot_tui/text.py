"""Making untrusted text (model replies, titles) inert before it reaches a terminal."""

from __future__ import annotations

import re

# CSI, OSC (to BEL or ST), DCS/SOS/PM/APC strings, other two-byte ESC sequences, then C0/C1
# controls except tab and newline. Order matters: whole sequences first, stray bytes after.
_CONTROL_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST (unterminated: to the end)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # other Fe escapes
    r"|\x1b"  # a lone ESC
    r"|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]"  # C0 (not \t \n) and C1 controls, DEL
)


_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it can always be encoded.

    JSON may escape half of a UTF-16 pair (``"\\ud800"``) and decoders hand that on as a lone
    surrogate, which no UTF-8 encoder accepts: SQLite, a terminal or a file write would fail on
    it. Surrogates are the only code points a Python string can hold that UTF-8 cannot encode.
    """
    if text.isascii() or not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub("\ufffd", text)


def strip_controls(text: str) -> str:
    """Remove terminal control sequences and control characters; keep tabs and newlines.

    CR becomes a newline when it ends a line (CRLF) and is dropped otherwise, so a reply cannot
    overwrite what was printed before it.
    """
    text = text.replace("\r\n", "\n")
    return _CONTROL_SEQUENCES.sub("", text)


def one_line(text: str, limit: int = 80) -> str:
    """A title or id for a one-line display: controls removed, whitespace collapsed, clipped."""
    text = " ".join(strip_controls(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
