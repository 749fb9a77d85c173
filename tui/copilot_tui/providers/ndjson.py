"""Incremental newline-delimited JSON decoding, robust to arbitrary chunk boundaries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .. import errors as E

MAX_LINE = 16 * 1024 * 1024  # a single reply line this long is not a chat stream


class NDJSONDecoder:
    """Feed bytes, get one JSON object per complete line.

    Lines are split on bytes, so a UTF-8 character split between chunks is joined before it is
    decoded (a newline byte never occurs inside a multi-byte character). Blank lines and a
    trailing CR are ignored; a line that is not a JSON object raises ProtocolError.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._buf = bytearray()
        self.lines = 0

    def feed(self, chunk: bytes) -> Iterator[dict[str, Any]]:
        """Objects are yielded one by one so good lines before a bad one are not lost."""
        self._buf += chunk
        if b"\n" not in chunk:  # the middle of a long line: no need to search all of it again
            self._check()
            return
        while (end := self._buf.find(b"\n")) >= 0:
            line = bytes(self._buf[:end])
            del self._buf[: end + 1]
            obj = self._line(line)
            if obj is not None:
                yield obj
        self._check()

    def _check(self) -> None:
        if len(self._buf) > MAX_LINE:
            raise E.ProtocolError(
                f"{self.provider} sent a line longer than {MAX_LINE // (1024 * 1024)} MiB, the most copilot-tui "
                "reads of one; the connection was closed."
            )

    def close(self) -> list[dict[str, Any]]:
        """End of stream: a last line without a newline still counts."""
        line, self._buf = bytes(self._buf), bytearray()
        obj = self._line(line)
        return [obj] if obj is not None else []

    def _line(self, line: bytes) -> dict[str, Any] | None:
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        self.lines += 1
        try:
            obj = json.loads(text)
        except ValueError:
            raise E.ProtocolError(f"{self.provider} sent a line that is not JSON.") from None
        except RecursionError:
            raise E.ProtocolError(f"{self.provider} sent a line nested too deeply.") from None
        if not isinstance(obj, dict):
            raise E.ProtocolError(f"{self.provider} sent a line that is not a JSON object.")
        return obj
