"""Masking credentials in text that reaches the user, the store or a terminal.

Servers sometimes quote the key they rejected in their error body, and a model can be made to
repeat one; whatever credential this process has sent is remembered here so such text is
masked before anyone sees or saves it. Masking always runs on whole text, before anything is
shortened: a key cut in half by a length limit would otherwise no longer match, and its first
half would show. A key quoted with whitespace inside it (a line wrap, a space a server put
there) is still found, and text that arrives in pieces goes through :class:`StreamRedactor`,
which masks a key split across pieces.
"""

from __future__ import annotations

import re
import threading

MASK = "********"
_MIN_LENGTH = 8  # shorter values are too likely to occur in ordinary text
MIN_PARTIAL = 4  # a cut-off start of a key this long (not counting whitespace) is masked too
MAX_GAP = 8  # whitespace characters tolerated between two characters of a key
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_ordered: tuple[str, ...] = ()
_firsts: re.Pattern[str] | None = None  # any character a secret starts with


def remember_secret(value: str | None) -> None:
    """Mask ``value`` from now on (values shorter than 8 characters are ignored)."""
    global _pattern
    value = value.strip() if value else value
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            if value not in _secrets:
                _secrets.add(value)
                _pattern = None


def _compiled() -> tuple[re.Pattern[str] | None, tuple[str, ...], re.Pattern[str] | None]:
    """The pattern matching any secret (whitespace allowed inside), longest first."""
    global _pattern, _ordered, _firsts
    with _lock:
        if _pattern is None and _secrets:
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))
            gap = rf"\s{{0,{MAX_GAP}}}"
            _pattern = re.compile("|".join(gap.join(re.escape(c) for c in s) for s in _ordered))
            _firsts = re.compile(
                "[" + "".join(re.escape(c) for c in sorted({s[0] for s in _ordered})) + "]"
            )
        return _pattern, _ordered, _firsts


def _is_prefix(tail: str, secret: str) -> bool:
    """Whether ``tail`` is the start of ``secret`` (whitespace runs allowed), but not all of it."""
    j = gap = 0
    for ch in tail:
        if j < len(secret) and ch == secret[j]:
            j += 1
            gap = 0
        elif ch.isspace() and j and gap < MAX_GAP:
            gap += 1
        else:
            return False
    return 0 < j < len(secret)


def partial_start(text: str) -> int | None:
    """Where the longest end of ``text`` that could be the start of a secret begins, if any.

    Only the last few hundred characters are looked at: a start of a secret is at most as long
    as the secret plus the whitespace allowed inside it.
    """
    _, ordered, firsts = _compiled()
    if not ordered or firsts is None:
        return None
    window = len(ordered[0]) * (MAX_GAP + 1)
    for match in firsts.finditer(text, max(0, len(text) - window)):
        tail = text[match.start() :]
        if any(_is_prefix(tail, s) for s in ordered):
            return match.start()
    return None


def redact(text: str, *, cut: bool = False) -> str:
    """``text`` with every remembered secret masked.

    ``cut``: the text was shortened at its end (a size limit, a stream that stopped), so a
    trailing start of a secret of at least ``MIN_PARTIAL`` characters is masked as well.
    """
    if not text:
        return text
    pattern, _, _ = _compiled()
    if pattern is None:
        return text
    text = pattern.sub(MASK, text)
    if cut:
        start = partial_start(text)
        if start is not None and len("".join(text[start:].split())) >= MIN_PARTIAL:
            text = text[:start] + MASK
    return text


class StreamRedactor:
    """Masks secrets in text that arrives in pieces, such as a streamed reply.

    Each piece is masked joined to what came before; the end of the text that could still turn
    out to be the start of a secret is held back until the next piece shows what it is. That
    hold-back is never longer than the longest secret (plus whitespace inside it), and with no
    secrets known nothing is held at all.
    """

    def __init__(self) -> None:
        self._held = ""

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def feed(self, text: str) -> str:
        """What of ``held + text`` can be shown now, masked; the rest is held."""
        if not self._held and _compiled()[0] is None:
            return text
        text = redact(self._held + text)
        start = partial_start(text)
        if start is None:
            self._held = ""
            return text
        self._held = text[start:]
        return text[:start]

    def flush(self, *, cut: bool = True) -> str:
        """The held text, at the end of the stream; ``cut``: the stream stopped early, so a
        start of a secret at its end is masked too."""
        held, self._held = self._held, ""
        return redact(held, cut=cut)
