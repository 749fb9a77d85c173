"""Incremental Server-Sent Events decoding, robust to arbitrary chunk boundaries."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(slots=True, frozen=True)
class SSEEvent:
    event: str
    data: str


class SSEDecoder:
    """Feed bytes, get complete events.

    Follows the SSE rules: lines end at CR, LF or CRLF (even split across chunks), ``:`` lines
    are comments, one space after ``field:`` is dropped, ``data`` lines of one event are joined
    with ``\\n``, a blank line dispatches. UTF-8 is decoded incrementally so a character split
    between chunks survives; invalid bytes become U+FFFD rather than raising.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf = ""
        self._event = ""
        self._data: list[str] = []
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._feed_text(self._utf8.decode(chunk))

    def close(self) -> list[SSEEvent]:
        """End of stream: a trailing unterminated line is processed; an undispatched event is dropped."""
        events = self._feed_text(self._utf8.decode(b"", final=True))
        if self._buf:
            line, self._buf = self._buf.rstrip("\r"), ""
            ev = self._line(line)
            if ev:
                events.append(ev)
        return events

    @property
    def pending(self) -> bool:
        """True when an event was started but not terminated by a blank line."""
        return self._has_data or bool(self._buf.strip())

    def _feed_text(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        buf = self._buf + text if self._buf else text
        events: list[SSEEvent] = []
        if "\r" not in buf:
            # The usual case (LF only): a plain split is several times cheaper than the regex.
            lines = buf.split("\n")
            self._buf = lines.pop()
            for line in lines:
                if line.startswith("data:"):  # the commonest line, handled inline
                    value = line[6:] if line.startswith("data: ") else line[5:]
                    self._data.append(value)
                    self._has_data = True
                    continue
                ev = self._line(line)
                if ev:
                    events.append(ev)
            return events
        pos = 0
        for match in _EOL.finditer(buf):
            # A CR at the very end may be the first half of CRLF: wait for more.
            if match.group() == "\r" and match.end() == len(buf):
                break
            ev = self._line(buf[pos : match.start()])
            if ev:
                events.append(ev)
            pos = match.end()
        self._buf = buf[pos:]
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            if not self._has_data:
                self._event = ""
                return None
            ev = SSEEvent(self._event or "message", "\n".join(self._data))
            self._event, self._data, self._has_data = "", [], False
            return ev
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        return None


async def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[SSEEvent]:
    decoder = SSEDecoder()
    async for chunk in chunks:
        for ev in decoder.feed(chunk):
            yield ev
    for ev in decoder.close():
        yield ev


def decode_all(chunks: Iterable[bytes]) -> list[SSEEvent]:
    """Decode a whole byte sequence at once (tests and non-streamed bodies)."""
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events
