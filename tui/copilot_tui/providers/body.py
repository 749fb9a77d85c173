"""Reading response bodies with hard limits: size, decompression ratio, and steps the loop can stop.

httpx decodes ``Content-Encoding`` one network chunk at a time and in full, so one 64 KiB gzip
chunk can become ~64 MiB before anything sees it, and a reply read with ``aread()`` is held whole
whatever its size. Every body the providers read comes through here instead: raw bytes from
httpx, decompressed by zlib in steps of at most :data:`STEP` bytes, counted against a limit,
with the event loop given a turn between steps so an abort (escape, SIGINT, ``abort()``) lands
at once whatever the body is doing.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from .. import errors as E

KiB = 1024
MiB = 1024 * KiB

MAX_STREAM_BODY = (
    64 * MiB
)  # decoded bytes of one streamed reply (a 128k-token SSE reply is ~35 MiB)
MAX_DOCUMENT = 16 * MiB  # decoded bytes of a JSON document: model list, token, non-streamed reply
MAX_ERROR_BODY = 64 * KiB  # what is read of an error body, or of a non-reply, for its sentence
MAX_RATIO = 256  # decoded bytes per compressed byte, checked once RATIO_AFTER bytes came out
RATIO_AFTER = 4 * MiB
STEP = 64 * KiB  # decoded bytes per step; the loop runs between steps
ENCODINGS = "gzip, deflate"  # what we ask for: the encodings read here


def size_text(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB and n % MiB == 0 else f"{n // KiB} KiB"


class _Inflate:
    """Incremental gzip/deflate with bounded output per call (``max_length``).

    A gzip body may be several members one after another (RFC 1952; a server that compresses
    each flush on its own sends one per flush): each is decoded in turn, zero padding between
    them skipped, and anything else after a member is corrupt. A deflate body is one stream.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z = self._member()
        self._first = True
        self._between = False  # a gzip member ended: only padding or a new member may follow
        self._ended = False  # the deflate stream ended: what follows is ignored
        self.consumed = 0  # compressed bytes inflated so far (not merely received)

    def _member(self) -> Any:
        wbits = zlib.MAX_WBITS | 16 if self.encoding == "gzip" else zlib.MAX_WBITS
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of at most STEP bytes; input the output limit left over is kept by zlib."""
        while not self._ended:
            if self._between:
                data = data.lstrip(b"\0")
                if not data:
                    return
                self._between = False
                self._z = self._member()
            try:
                out = self._z.decompress(data, STEP)
            except zlib.error:
                if not (self._first and self.encoding == "deflate"):
                    raise
                # "deflate" is meant to be zlib-wrapped, but some servers send it raw
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._z.decompress(data, STEP)
            self._first = False
            rest = self._z.unused_data if self._z.eof else self._z.unconsumed_tail
            self.consumed += len(data) - len(rest)
            data = rest
            if out:
                yield out
            if self._z.eof:
                # gzip: what follows is the next member (or padding); deflate: ignored
                self._between = self.encoding == "gzip"
                self._ended = not self._between
            elif not data and len(out) < STEP:
                return  # all input taken, all its output given: wait for more


async def iter_body(
    response: httpx.Response, *, provider: str, limit: int = MAX_STREAM_BODY, cut: bool = False
) -> AsyncIterator[bytes]:
    """The decoded body in pieces of at most STEP bytes (raw network chunks when not encoded).

    Past ``limit`` decoded bytes: stop quietly when ``cut``, else raise one sentence naming the
    limit. A compressed body that expands more than MAX_RATIO times (once past RATIO_AFTER) is a
    decompression bomb, not a reply. httpx errors pass through for the caller to word.
    """
    encoding = response.headers.get("content-encoding", "").strip().lower()
    inflate: _Inflate | None = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflate = _Inflate("deflate" if encoding == "deflate" else "gzip")
    elif encoding not in ("", "identity"):
        raise E.ProtocolError(
            f"{provider} sent its reply with the content encoding {encoding!r}, which copilot-tui does not read."
        )
    total = since_yield = 0
    async for raw in response.aiter_raw():
        pieces: Iterator[bytes] = iter((raw,)) if inflate is None else inflate.feed(raw)
        while True:
            try:
                piece = next(pieces, None)
            except zlib.error:
                raise E.ProtocolError(
                    f"{provider} sent a {encoding} body that is corrupt."
                ) from None
            if piece is None:
                break
            total += len(piece)
            if total > limit:
                if cut:
                    if (keep := len(piece) - (total - limit)) > 0:
                        yield piece[:keep]
                    return
                raise E.ProtocolError(
                    f"{provider} sent a reply larger than {size_text(limit)}, the most copilot-tui reads of one reply; "
                    "the connection was closed."
                )
            if inflate is not None and total > RATIO_AFTER and total > inflate.consumed * MAX_RATIO:
                raise E.ProtocolError(
                    f"{provider} sent a compressed reply that expands more than {MAX_RATIO} times "
                    "(a decompression bomb); the connection was closed."
                )
            yield piece
            since_yield += len(piece)
            if since_yield >= STEP:
                # a fast body never waits on the network: let an abort and the other sessions in
                since_yield = 0
                await asyncio.sleep(0)


async def read_body(
    response: httpx.Response, *, provider: str, limit: int, cut: bool = False
) -> bytes:
    """The whole decoded body, at most ``limit`` bytes (see :func:`iter_body`)."""
    data = bytearray()
    async for piece in iter_body(response, provider=provider, limit=limit, cut=cut):
        data += piece
    return bytes(data)
