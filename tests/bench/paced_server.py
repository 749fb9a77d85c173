"""A lean asyncio OpenAI-compatible streaming server for benchmarks, run in its own process.

Tokens go out on an absolute schedule (token i at start + i / rate), so the time a client takes
beyond the ideal is the client's own lag, not drift accumulated by the server's sleeps. With
rate 0 it streams as fast as the socket takes it (the "firehose").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from tests.bench.corpus import reply_tokens


def _event(payload: dict) -> bytes:
    data = b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


_requests = 0


async def _handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rate: float, tokens: int
) -> None:
    global _requests
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            body = json.loads(await reader.readexactly(length)) if length else {}
            if method == "GET":
                data = json.dumps({"object": "list", "data": [{"id": "bench"}]}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(data)).encode()
                    + b"\r\n\r\n"
                    + data
                )
                await writer.drain()
                continue
            n = int(body.get("max_tokens") or tokens)
            _requests += 1
            pieces = reply_tokens(n, seed=_requests)  # varied replies, the same on every run
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            start = time.monotonic()
            for i, piece in enumerate(pieces):
                if rate:
                    delay = start + i / rate - time.monotonic()
                    if delay > 0:
                        await writer.drain()
                        await asyncio.sleep(delay)
                writer.write(
                    _event(
                        {
                            "choices": [
                                {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                            ]
                        }
                    )
                )
                if not rate and i % 64 == 0:
                    await writer.drain()
            writer.write(_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
            writer.write(
                _event(
                    {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": len(pieces)}}
                )
            )
            data = b"data: [DONE]\n\n"
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int, rate: float, tokens: int) -> None:
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, rate, tokens), "127.0.0.1", port, backlog=1024
    )
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--rate", type=float, default=0.0, help="tokens per second per stream (0: unpaced)"
    )
    p.add_argument("--tokens", type=int, default=2000)
    a = p.parse_args()
    asyncio.run(serve(a.port, a.rate, a.tokens))


if __name__ == "__main__":
    main()
