"""The provider boundary: reply text as every later layer may safely receive it.

Whatever a server sends, the text handed on can be encoded (no lone surrogates: the store, a
terminal and an export would fail on one) and holds no credential this process has sent, even
one split across two stream events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from ..redact import StreamRedactor, redact
from ..text import clean_text
from .base import StreamChunk


def _is_high(ch: str) -> bool:
    return "\ud800" <= ch <= "\udbff"


def _is_low(ch: str) -> bool:
    return "\udc00" <= ch <= "\udfff"


class ReplyGuard:
    """Cleans and masks one reply's text, piece by piece.

    A UTF-16 pair split across two events (a server escaping each half in its own event) is
    joined back into its character; any other surrogate becomes U+FFFD. Text that could be the
    start of a secret is held back until the next piece; :meth:`drain` returns it when the
    reply ends in any way, so nothing received is lost.
    """

    def __init__(self) -> None:
        self._high = ""  # a high surrogate that ended the last piece
        self._redactor = StreamRedactor()

    @property
    def holding(self) -> bool:
        """Whether text has been received but not yet handed on."""
        return bool(self._high) or self._redactor.holding

    def text(self, text: str) -> str:
        """The part of the text received so far that can be handed on now."""
        if self._high:
            text, self._high = self._high + text, ""
        if not text.isascii():
            if _is_high(text[-1]):
                text, self._high = text[:-1], text[-1]
            text = _join_pairs(text)
        return self._redactor.feed(clean_text(text))

    def drain(self, *, cut: bool = True) -> str:
        """Everything still held, for a reply that ends now.

        ``cut``: the reply stopped early (an error, an abort), so a start of a key at its end is
        masked; a reply that ended as the server meant keeps its last words as they are.
        """
        high, self._high = self._high, ""
        tail = self._redactor.feed("\ufffd") if high else ""
        return tail + self._redactor.flush(cut=cut)


def _join_pairs(text: str) -> str:
    """Turn each high+low surrogate pair into the character it encodes."""
    if not any(_is_high(ch) for ch in text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


async def guarded(
    chunks: AsyncIterator[StreamChunk], guard: ReplyGuard
) -> AsyncIterator[StreamChunk]:
    """``chunks`` with text and status notes passed through ``guard``; held text ends the stream.

    On an error or a cancel the held text stays in ``guard`` for the caller to :meth:`drain`.
    """
    async for chunk in chunks:
        text = guard.text(chunk.text) if chunk.text else ""
        status = redact(clean_text(chunk.status)) if chunk.status else chunk.status
        if text == chunk.text and status == chunk.status:
            yield chunk
        elif (
            text
            or status
            or chunk.usage is not None
            or chunk.finish_reason is not None
            or chunk.extra
        ):
            yield replace(chunk, text=text, status=status)
    tail = guard.drain(cut=False)
    if tail:
        yield StreamChunk(text=tail)
