"""Incremental Server-Sent Events decoding, robust to arbitrary chunk boundaries."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from .. import errors as E

MAX_EVENT = (
    16 * 1024 * 1024
)  # characters of one event (its lines so far): no chat chunk is this long
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
    between chunks survives; invalid bytes become U+FFFD rather than raising. An event longer
    than ``max_event`` characters raises ProtocolError: a body without line ends (or one endless
    event) must not grow memory without bound.
    """

    def __init__(self, provider: str = "The server", max_event: int = MAX_EVENT) -> None:
        self.provider = provider
        self.max_event = max_event
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf = ""
        self._more: list[str] = []  # pieces of a long line, joined once its end arrives
        self._more_size = 0
        self._event = ""
        self._data: list[str] = []
        self._data_size = 0  # characters (and lines) in _data
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._feed_text(self._utf8.decode(chunk))

    def close(self) -> list[SSEEvent]:
        """End of stream: a trailing unterminated line is processed; an undispatched event is dropped."""
        events = self._feed_text(self._utf8.decode(b"", final=True))
        self._join_more()
        if self._buf:
            line, self._buf = self._buf.rstrip("\r"), ""
            ev = self._line(line)
            if ev:
                events.append(ev)
        return events

    @property
    def pending(self) -> bool:
        """True when an event was started but not terminated by a blank line."""
        return self._has_data or bool(self._buf.strip()) or any(p.strip() for p in self._more)

    def _join_more(self) -> None:
        if self._more:
            self._buf += "".join(self._more)
            self._more, self._more_size = [], 0

    def _too_long(self) -> bool:
        return len(self._buf) + self._more_size + self._data_size > self.max_event

    def _check(self) -> None:
        if self._too_long():
            raise E.ProtocolError(
                f"{self.provider} sent an event longer than {self.max_event // (1024 * 1024)} MiB, the most "
                "copilot-tui reads of one; the connection was closed."
            )

    def _feed_text(self, text: str) -> list[SSEEvent]:
        self._check()  # an event that grew too long with the last piece (after that piece's events)
        if not text:
            return []
        if "\n" not in text and "\r" not in text:
            # the middle of a long line: gathered without copying what came before each time
            self._more.append(text)
            self._more_size += len(text)
            self._check()
            return []
        self._join_more()
        return self._lines(self._buf + text if self._buf else text)

    def _lines(self, buf: str) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        if "\r" not in buf:
            # The usual case (LF only): a plain split is several times cheaper than the regex.
            lines = buf.split("\n")
            self._buf = lines.pop()
            for line in lines:
                if line.startswith("data:"):  # the commonest line, handled inline
                    value = line[6:] if line.startswith("data: ") else line[5:]
                    self._data.append(value)
                    self._data_size += len(value) + 1
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
            self._event, self._data, self._has_data, self._data_size = "", [], False, 0
            return ev
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
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
