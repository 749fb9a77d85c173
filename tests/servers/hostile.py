"""Hostile answers for the fake OpenAI-compatible server: what a broken or malicious server on
the other end of the wire can send. Each builder returns a :class:`Script` to queue with
``fake.script(model, ...)``; the server sends it in the exact Chat Completions wire format."""

from __future__ import annotations

import json
import random
import string
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.servers.openai_server import Script

LONE_SURROGATE = "\ud800"  # json.dumps escapes it as the six characters \ud800, as a server would


def lone_surrogate_reply(before: str = "Hello wor", after: str = "ld, and more.") -> Script:
    """A delta holding ``"\\ud800"``: half of a UTF-16 pair, which no UTF-8 encoder accepts."""
    return Script(chunks=[before[:5], before[5:] + LONE_SURROGATE + after[:3], after[3:]])


def split_pair_reply() -> Script:
    """An emoji whose two UTF-16 halves arrive in two events (each escaped on its own)."""
    return Script(chunks=["smile ", "\ud83d", "\ude00", " done"])


def canary_key(length: int, seed: int = 0) -> str:
    """A fake API key of ``length`` characters, unlike anything else in a test's text."""
    rng = random.Random(seed * 1000 + length)
    return "sk-" + "".join(
        rng.choice(string.ascii_letters + string.digits) for _ in range(length - 3)
    )


def key_in_error(key: str, position: int, *, status: int = 401, sep: str = "") -> Script:
    """An error whose message quotes ``key`` starting at ``position`` (``sep`` is put into the
    middle of the key, as a server that wraps or spaces its text would)."""
    half = len(key) // 2
    quoted = key[:half] + sep + key[half:]
    message = "." * position + quoted + " is not a valid key; see the documentation for details."
    return Script(
        status=status,
        error_body=json.dumps({"error": {"message": message, "type": "invalid_request_error"}}),
    )


def key_in_reply(
    key: str, cuts: list[int], *, before: str = "Your key is ", after: str = " and that is all."
) -> Script:
    """A reply that repeats ``key``, split into stream events at the offsets ``cuts``."""
    text = before + key + after
    offsets = [0, *(len(before) + c for c in cuts), len(text)]
    return Script(chunks=[text[a:b] for a, b in zip(offsets, offsets[1:], strict=False) if b > a])


MiB = 1024 * 1024
TEXT_EVENT = b'data: {"choices":[{"index":0,"delta":{"content":"ha"},"finish_reason":null}]}\n\n'


@dataclass(frozen=True)
class Wire:
    """What a valid reply stream of one wire format starts with, and one event of it that
    carries the text ``ha``: the pieces hostile bodies are made of."""

    name: str
    content_type: str
    head: bytes
    event: bytes

    def padded(self, size: int) -> bytes:
        """The text event made ``size`` bytes long by JSON whitespace before its line end:
        still valid, so only the size of the body can stop it."""
        body = self.event.rstrip(b"\n")
        return body + b" " * (size - len(self.event)) + self.event[len(body) :]


def _sse(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


OPENAI = Wire("openai", "text/event-stream", b"", TEXT_EVENT)
OLLAMA = Wire(
    "ollama",
    "application/x-ndjson",
    b"",
    b'{"model":"llama3.2:latest","created_at":"2023-08-04T08:52:19.385406455-07:00",'
    b'"message":{"role":"assistant","content":"ha"},"done":false}\n',
)
ANTHROPIC = Wire(
    "anthropic",
    "text/event-stream; charset=utf-8",
    _sse(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-sonnet-4-5",
                "usage": {"input_tokens": 12, "output_tokens": 1},
            },
        },
    )
    + _sse(
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    _sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ha"}},
    ),
)


def gzip_blocks(piece: bytes, total: int, batch: int = 64, *, head: bytes = b"") -> Iterator[bytes]:
    """``head``, then ``total`` bytes of ``piece`` repeated, gzip-compressed as it is sent,
    ``batch`` pieces per write (so one network chunk of ~64 KiB expands to ~64 MiB). Only one
    compressed block is held (after the first, every ``piece`` compresses to the same bytes), so
    a bomb of many GiB costs the server nothing. The gzip trailer is never sent."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield z.compress(head) + z.compress(piece) + z.flush(zlib.Z_SYNC_FLUSH)
    steady = z.compress(piece) + z.flush(zlib.Z_SYNC_FLUSH)
    left = total // len(piece) - 1
    while left > 0:
        n = min(batch, left)
        yield steady * n
        left -= n


def gzip_bomb(
    total: int = 2 * 1024 * MiB,
    *,
    text: bool = False,
    hold_at: int | None = 1 * MiB,
    wire: Wire = OPENAI,
    make: Callable[..., Any] = Script,
) -> Any:
    """A 200 reply stream of ``wire``'s format, ``Content-Encoding: gzip``, that expands to
    ``total`` bytes: zeros (no line end ever), or with ``text`` an endless run of valid text
    events. The server waits for the client to close after ``hold_at`` compressed bytes (~1000
    times that expanded). ``make`` is the script class of the server it is for."""
    piece = wire.event * (MiB // len(wire.event)) if text else bytes(MiB)
    head = wire.head if text else b""
    return make(
        body=lambda: gzip_blocks(piece, total, head=head),
        headers={"Content-Encoding": "gzip"},
        content_type=wire.content_type,
        hold_body_at=hold_at,
    )


def gzip_members(
    pieces: list[bytes],
    *,
    repeat_last: int = 1,
    hold_at: int | None = None,
    wire: Wire = OPENAI,
    make: Callable[..., Any] = Script,
) -> Any:
    """A 200 reply stream of ``wire``'s format whose body is one gzip member per piece, one
    after another (as a server that compresses each flush on its own sends it); the last
    member is sent ``repeat_last`` times (compressed once, so a long run costs nothing)."""
    members = [zlib.compress(p, 9, wbits=31) for p in pieces]

    def body() -> Iterator[bytes]:
        yield from members[:-1]
        for _ in range(repeat_last):
            yield members[-1]

    return make(
        body=body,
        headers={"Content-Encoding": "gzip"},
        content_type=wire.content_type,
        hold_body_at=hold_at,
    )


def huge_body(
    total: int = 1024 * MiB,
    *,
    content_type: str = "text/html",
    line: bytes = b"<p>lorem ipsum</p>\n",
    hold_at: int | None = 64 * MiB,
    head: bytes = b"",
    make: Callable[..., Any] = Script,
) -> Any:
    """A 200 body of ``total`` bytes (an HTML page by default) after ``head``, generated 1 MiB
    at a time."""
    block = line * (MiB // len(line))

    def body() -> Iterator[bytes]:
        if head:
            yield head
        for _ in range(total // len(block)):
            yield block

    return make(body=body, content_type=content_type, hold_body_at=hold_at)
