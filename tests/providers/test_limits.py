"""Hard limits on what a server can make the app read: decompression bombs, huge bodies, endless
lines. Each case ends with one sentence naming the limit, the connection closed (the hostile
server sees it long before its body is sent) and memory bounded (the real CLI's peak RSS)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot_tui import CopilotClient
from copilot_tui import errors as E
from copilot_tui import events as ev
from copilot_tui.providers import body as B
from copilot_tui.providers.http import get_json, read_error_body, read_non_stream
from copilot_tui.providers.sse import SSEDecoder
from copilot_tui.store import Store
from tests.conftest import write_config
from tests.servers.hostile import TEXT_EVENT, MiB, gzip_blocks, gzip_bomb, huge_body
from tests.servers.openai_server import FakeOpenAI, Script

# The CLI sending one prompt peaks at 42-57 MB RSS against these bodies. Without the limits the
# 1 GiB page took it to 2.1 GB and the bomb past 800 MB; with only httpx's own decoding (a
# 64 KiB network chunk inflated whole) the bomb still reaches ~170 MB.
MAX_RSS_MB = 120


# Runs the command as its child and writes that child's peak RSS (KiB) to argv[1]. A process
# started straight from pytest would count pytest's own memory: on exec Linux keeps the peak
# of the memory it replaces, and subprocess may vfork. Started from this small process it is
# accurate.
_PEAK = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def send_measured(config: Path, data: Path, prompt: str = "hi") -> tuple[int, str, int]:
    """Run ``copilot-tui send`` to its end: (exit code, stderr, peak RSS of that process in MB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    peak = data.parent / f"{data.name}-peak.txt"
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK,
            str(peak),
            sys.executable,
            "-m",
            "copilot_tui.cli.main",
            "--config",
            str(config),
            "--data-dir",
            str(data),
            "send",
            prompt,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,  # bounds a hang only
    )
    return r.returncode, r.stderr, int(peak.read_text()) // 1024  # ru_maxrss is in KiB


def stored_reply(data: Path) -> tuple[str, str | None, str]:
    """(status, error, content) of the only reply in the database."""
    store = Store(data)
    try:
        sessions = store.list_sessions()
        assert len(sessions) == 1
        reply = store.get_messages(sessions[0].session_id)[-1]
    finally:
        store.close()
    assert reply.role == "assistant"
    return reply.status, reply.error, reply.content


def served(record: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """The server's record of a request once its handler ended (it writes on after we stop)."""
    deadline = time.monotonic() + timeout  # bounds a hang only
    while record["end"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return record


def one_sentence(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("copilot-tui:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_gzip_bomb_is_stopped_with_memory_bounded(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", gzip_bomb(2048 * MiB))  # zeros: no line end, ~1000:1
    cfg = write_config(tmp_path / "c.toml", fake.base_url)
    code, stderr, rss = send_measured(cfg, tmp_path / "data")
    assert rss < MAX_RSS_MB, f"peak RSS {rss} MB"
    assert code == 1
    line = one_sentence(stderr)
    assert "expands more than 256 times" in line and "connection was closed" in line
    status, error, _ = stored_reply(tmp_path / "data")
    assert status == "error" and error is not None and "256 times" in error
    record = served(fake.requests_for("gpt-4o-mini")[0])
    # of ~2.1 MB compressed: the server stops at 1 MiB until the client closes (or its write fails first)
    assert record["closed"] and record["sent"] < 1.2 * MiB


def test_huge_html_page_is_worded_from_its_start(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", huge_body(1024 * MiB))
    cfg = write_config(tmp_path / "c.toml", fake.base_url)
    code, stderr, rss = send_measured(cfg, tmp_path / "data")
    assert code == 1
    assert "HTML page instead of a reply stream" in one_sentence(stderr)
    assert rss < MAX_RSS_MB, f"peak RSS {rss} MB"
    assert stored_reply(tmp_path / "data")[0] == "error"
    record = served(fake.requests_for("gpt-4o-mini")[0])
    assert record["closed"] and record["sent"] < 256 * MiB


@pytest.mark.parametrize(
    ("script", "phrase"),
    [
        # valid events at ~1000:1: the ratio cap stops it after 4 MiB of text events
        (gzip_bomb(2048 * MiB, text=True), "expands more than 256 times"),
        # a 200 JSON "completion" of 1 GiB: more than a document may be
        (
            huge_body(1024 * MiB, content_type="application/json", line=b"[" * 64),
            "larger than 16 MiB",
        ),
        # an event stream with no line end at all
        (
            huge_body(1024 * MiB, content_type="text/event-stream", line=b"data: " + b"x" * 58),
            "event longer than 16 MiB",
        ),
        # endless short events, no finish: the per-reply cap (identity, every event valid)
        (
            huge_body(
                1024 * MiB,
                content_type="text/event-stream",
                line=TEXT_EVENT[:-2] + b" " * 46 + b"\n\n",
            ),
            "larger than 64 MiB",
        ),
    ],
    ids=["text-bomb", "huge-json", "endless-line", "endless-events"],
)
async def test_each_limit_is_one_sentence_and_closes(
    client: CopilotClient, fake: FakeOpenAI, script: Script, phrase: str
) -> None:
    fake.script("gpt-4o-mini", script)
    s = await client.create_session(model="lab/gpt-4o-mini")
    with pytest.raises(E.ProviderError) as info:
        await s.send_and_wait("hi", timeout=120)
    assert phrase in str(info.value) and "\n" not in str(info.value)
    reply = (await s.get_messages())[-1]
    assert reply.status == "error" and reply.error == str(info.value)
    record = await asyncio.to_thread(served, fake.requests_for("gpt-4o-mini")[0])
    assert record["closed"] and record["sent"] < 256 * MiB  # of 1 GiB (or ~2 MiB compressed)


async def test_huge_compressed_error_body_is_read_only_in_part(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    page = b"".join(gzip_blocks(b"<h1>Server error</h1>" * 49932, 256 * MiB))
    fake.script(
        "gpt-4o-mini",
        Script(
            status=500,
            error_body=page,
            content_type="text/html",
            headers={"Content-Encoding": "gzip"},
        ),
    )
    s = await client.create_session(model="lab/gpt-4o-mini")
    with pytest.raises(E.ServerError, match=r"500 Internal Server Error\)\.$"):
        await s.send_and_wait("hi", timeout=60)


async def test_bodies_read_for_a_message_decode_in_small_steps() -> None:
    """One network chunk of a bomb (256 KiB, ~256 MiB expanded) never becomes one allocation:
    an error body, a non-reply and a JSON document peak at a few hundred KiB of Python memory."""
    bomb = b"".join(gzip_blocks(bytes(MiB), 256 * MiB))

    def response(content_type: str) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Content-Encoding": "gzip", "Content-Type": content_type},
            stream=_Raw([bomb]),
        )

    tracemalloc.start()
    try:
        assert len(await read_error_body(response("text/html"), provider="lab")) == B.MAX_ERROR_BODY
        assert (
            len(await read_non_stream(response("text/html"), provider="lab", url="u"))
            == B.MAX_ERROR_BODY
        )
        with pytest.raises(E.ProtocolError, match="256 times"):
            await read_non_stream(response("application/json"), provider="lab", url="u")
        peak = tracemalloc.get_traced_memory()[1] - len(bomb)
    finally:
        tracemalloc.stop()
    assert peak < 24 * MiB, f"peak {peak // 1024} KiB"


async def test_model_list_bomb_is_refused(fake: FakeOpenAI) -> None:
    fake.models_script = gzip_bomb(2048 * MiB, hold_at=1 * MiB)
    fake.models_script.content_type = "application/json"
    async with httpx.AsyncClient() as http:
        with pytest.raises(E.ProtocolError, match="256 times"):
            await get_json(http, f"{fake.base_url}/models", provider="lab")
    assert fake.models_record is not None
    assert (await asyncio.to_thread(served, fake.models_record))["closed"]


async def test_abort_during_a_bomb_ends_aborted_at_once(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    """abort() lands between decompression steps: the turn ends aborted, not with a limit's error,
    and the connection is closed while the server still holds most of the bomb."""
    fake.script("gpt-4o-mini", gzip_bomb(2048 * MiB, text=True))
    s = await client.create_session(model="lab/gpt-4o-mini")
    idle: asyncio.Future[ev.SessionEvent] = asyncio.get_running_loop().create_future()

    def watch(event: ev.SessionEvent) -> None:
        if event.type == ev.MESSAGE_DELTA and not hasattr(watch, "aborting"):
            watch.aborting = asyncio.ensure_future(s.abort())  # type: ignore[attr-defined]
        elif event.type == ev.SESSION_IDLE and not idle.done():
            idle.set_result(event)

    s.on(watch)
    await s.send("hi")
    done = await asyncio.wait_for(idle, 60)
    assert done.data.aborted and done.data.status == "aborted"
    reply = (await s.get_messages())[-1]
    assert reply.status == "aborted" and reply.content.startswith("haha") and reply.error is None
    assert len(reply.content) < B.RATIO_AFTER  # stopped well before any limit
    record = await asyncio.to_thread(served, fake.requests_for("gpt-4o-mini")[0])
    assert record["closed"] and record["sent"] <= 2 * MiB  # of the bomb's ~8.6 MiB compressed


# -- the pieces on their own ------------------------------------------------------------------


class _Raw(httpx.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> Iterator[bytes]:  # type: ignore[override]
        for piece in self.pieces:
            yield piece


def _response(pieces: list[bytes], encoding: str) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Encoding": encoding}, stream=_Raw(pieces))


async def _decoded(pieces: list[bytes], encoding: str, **kw: object) -> list[bytes]:
    return [p async for p in B.iter_body(_response(pieces, encoding), provider="lab", **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "wbits",
    [zlib.MAX_WBITS | 16, zlib.MAX_WBITS, -zlib.MAX_WBITS],
    ids=["gzip", "deflate", "raw-deflate"],
)
async def test_decoding_is_exact_in_bounded_steps(wbits: int) -> None:
    data = os.urandom(100_000) + bytes(3 * MiB) + b"end"
    z = zlib.compressobj(6, zlib.DEFLATED, wbits)
    packed = z.compress(data) + z.flush()
    encoding = "gzip" if wbits > zlib.MAX_WBITS else "deflate"
    pieces = await _decoded([packed[i : i + 1000] for i in range(0, len(packed), 1000)], encoding)
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= B.STEP


@pytest.mark.parametrize("split", [1, 7, 1000, 1 << 20])
async def test_gzip_members_one_after_another_are_all_decoded(split: int) -> None:
    """A body of several gzip members (zero padding between two) decodes to all of them, in
    bounded steps, however the network cuts it."""
    parts = [b"first ", os.urandom(70_000), bytes(300_000), b"end"]
    packed = _gzip(parts[0]) + b"\0" * 5 + b"".join(_gzip(p) for p in parts[1:])
    pieces = await _decoded([packed[i : i + split] for i in range(0, len(packed), split)], "gzip")
    assert b"".join(pieces) == b"".join(parts)
    assert max(len(p) for p in pieces) <= B.STEP


async def test_gzip_members_that_expand_too_far_are_a_bomb() -> None:
    member = _gzip(bytes(MiB))  # ~1 KiB each
    with pytest.raises(E.ProtocolError, match="expands more than 256 times"):
        await _decoded([member] * 64, "gzip")
    with pytest.raises(E.ProtocolError, match="gzip body that is corrupt"):
        await _decoded([_gzip(b"fine") + b"<html>not gzip</html>"], "gzip")


async def test_corrupt_or_unknown_encoding_is_one_sentence() -> None:
    with pytest.raises(E.ProtocolError, match="gzip body that is corrupt"):
        await _decoded([b"\x1f\x8b\x08\x00not gzip at all"], "gzip")
    with pytest.raises(E.ProtocolError, match="content encoding 'br'"):
        await _decoded([b"x"], "br")


def test_sse_event_cap_keeps_the_events_before_it() -> None:
    decoder = SSEDecoder("lab", max_event=1000)
    events = decoder.feed(b"data: first\n\ndata: " + b"x" * 2000)
    assert [e.data for e in events] == ["first"]
    with pytest.raises(E.ProtocolError, match="lab sent an event longer than"):
        decoder.feed(b"more")
    many_lines = SSEDecoder("lab", max_event=1000)
    with pytest.raises(E.ProtocolError):
        for _ in range(2000):
            many_lines.feed(b"data:\n")  # one event of endless empty data lines


async def test_a_body_that_never_waits_still_lets_an_abort_in() -> None:
    """A body already buffered never suspends the reader; decoding steps yield to the loop, so a
    cancel (what abort() does) lands after one step, not after the whole body."""
    data = bytes(3 * MiB)  # under the ratio check's floor: no limit stops it
    packed = _gzip(data)
    got: list[int] = []

    async def read() -> None:
        async for piece in B.iter_body(_response([packed], "gzip"), provider="lab"):
            got.append(len(piece))

    reader = asyncio.ensure_future(read())
    while not got:
        await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert sum(got) <= 2 * B.STEP < len(data)


def _gzip(data: bytes) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    return z.compress(data) + z.flush()


def test_sigint_while_a_compressed_stream_arrives_stores_aborted(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    """Ctrl-C in ``copilot-tui send`` ends the turn aborted (not with an error) and closes the
    connection; the server holds the rest of the bomb until then."""
    fake.script(
        "gpt-4o-mini", gzip_bomb(2048 * MiB, text=True, hold_at=2048)
    )  # ~2 MiB of events, under every limit
    cfg = write_config(tmp_path / "c.toml", fake.base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    # The CLI as a shell starts it: SIGINT deliverable and default, whatever the test process
    # inherited or blocked (a process started with SIGINT ignored rightly ignores Ctrl-C).
    start = (
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
        "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            start,
            "-m",
            "copilot_tui.cli.main",
            "--config",
            str(cfg),
            "--data-dir",
            str(tmp_path / "data"),
            "send",
            "hi",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60  # bounds a hang only
        while not (
            fake.requests_for("gpt-4o-mini") and fake.requests_for("gpt-4o-mini")[0].get("held")
        ):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
    finally:
        proc.kill()
        proc.wait()
    assert "Traceback" not in proc.stderr.read().decode()  # type: ignore[union-attr]
    status, error, content = stored_reply(tmp_path / "data")
    assert status == "aborted" and error is None
    record = served(fake.requests_for("gpt-4o-mini")[0])
    assert record["closed"] and record["sent"] < 64 * 1024
