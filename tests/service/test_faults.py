"""Faults through the service: each leaves one clear sentence, the partial reply marked, the
store consistent, and a session streaming at the same time untouched."""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copilot_tui import CopilotClient, ProviderError
from copilot_tui import events as ev
from copilot_tui.service.turn import Turn
from copilot_tui.store import DB_NAME
from tests.conftest import write_config
from tests.servers.openai_server import FakeOpenAI, Script

HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"

FAULTS = {
    "401": (
        Script(status=401, error_body='{"error":{"message":"Invalid key"}}'),
        "authentication",
        "401",
    ),
    "403": (
        Script(status=403, error_body='{"error":{"message":"Forbidden"}}'),
        "permission",
        "403",
    ),
    "404": (
        Script(status=404, error_body='{"error":{"message":"The model does not exist"}}'),
        "model_not_found",
        "404",
    ),
    "413": (
        Script(status=413, error_body="Request Entity Too Large", content_type="text/plain"),
        "context_length",
        "too long",
    ),
    "400-context": (
        Script(
            status=400,
            error_body='{"error":{"message":"prompt is too long: 300000 tokens > 200000 maximum"}}',
        ),
        "context_length",
        "too long",
    ),
    "429-retry-after": (
        Script(
            status=429,
            headers={"Retry-After": "3600"},
            error_body='{"error":{"message":"Rate limit reached"}}',
        ),
        "rate_limit",
        "Retry after 3600 seconds",
    ),
    "429-plain": (
        Script(
            status=429,
            error_body='{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}',
        ),
        "quota",
        "quota",
    ),
    "500": (Script(status=500), "server", "500"),
    "502-html": (Script(status=502, error_body=HTML, content_type="text/html"), "server", "502"),
    "503": (Script(status=503), "server", "503"),
    "malformed": (Script(malformed_at=2, text="one two three four"), "protocol", "malformed"),
    "200-not-sse": (
        Script(raw_body=b"plain text, not a stream", content_type="text/plain"),
        "protocol",
        "not an event stream",
    ),
    "200-html": (Script(raw_body=HTML, content_type="text/html"), "protocol", "HTML page"),
    "dropped": (Script(drop_after=2, text="one two three four"), "incomplete", "dropped"),
    "stall": (Script(stall_after=2, text="one two three four"), "incomplete", "stopped sending"),
}

pytestmark = pytest.mark.usefixtures("quick_retries")  # failures retried before they show


@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault_is_one_sentence_and_isolated(
    tmp_path: Path, fake: FakeOpenAI, name: str
) -> None:
    script, error_type, phrase = FAULTS[name]
    fake.script("gpt-4o-mini", script)
    fake.script(
        "slow", Script(text="steady " * 5, delay=0.01, until_released=True)
    )  # streams until released
    cfg = write_config(tmp_path / "c.toml", fake.base_url, timeout="1")
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        bystander = await client.create_session(model="lab/slow")
        victim = await client.create_session(model="lab/gpt-4o-mini")
        seen: list[ev.SessionEvent] = []
        victim.on(seen.append)
        streaming = asyncio.Event()
        bystander.on(lambda e: streaming.set() if e.type == ev.MESSAGE_DELTA else None)
        good = asyncio.create_task(bystander.send_and_wait("keep going"))
        await asyncio.wait_for(streaming.wait(), 30)
        with pytest.raises(ProviderError):
            await victim.send_and_wait("trigger the fault please")
        assert not good.done()  # still streaming
        fake.release()
        assert (await good).content == fake.sent_for("keep going")  # untouched
        assert (await good).content.startswith("steady " * 10)
        [err] = [e for e in seen if e.type == ev.SESSION_ERROR]
        assert err.data.error_type == error_type, err.data.message
        assert phrase in err.data.message
        assert (
            "\n" not in err.data.message
            and "Traceback" not in err.data.message
            and "<html" not in err.data.message.lower()
        )
        assert [e.type for e in seen].count(ev.SESSION_IDLE) == 1
        messages = await victim.get_messages()
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].status == "error" and messages[1].error == err.data.message
        if name in {"malformed", "dropped", "stall"}:
            assert messages[1].content.startswith("one")  # partial reply kept
        fake.script("gpt-4o-mini", Script())
        assert (
            await victim.send_and_wait("and again?")
        ).content == "Echo: and again?"  # still usable
    conn = sqlite3.connect(tmp_path / "d" / DB_NAME)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (
        conn.execute("SELECT COUNT(*) FROM messages WHERE status = 'streaming'").fetchone()[0] == 0
    )


async def test_unknown_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Turn, "retry_wait", staticmethod(lambda exc, attempt, text: None))
    cfg = write_config(tmp_path / "c.toml", "http://no-such-host.invalid/v1")
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        s = await client.create_session(model="lab/x")  # no backoff here
        with pytest.raises(ProviderError, match="Could not find the host no-such-host.invalid"):
            await s.send_and_wait("hi")


async def test_huge_reply_and_tiny_chunks(client: CopilotClient, fake: FakeOpenAI) -> None:
    big = "0123456789abcdef" * 65536  # 1 MiB per event, past the socket reader's high-water mark
    fake.script("gpt-4o-mini", Script(chunks=[big, big.upper(), big[::-1]]))
    s = await client.create_session(model="lab/gpt-4o-mini")
    reply = await s.send_and_wait("big")
    assert reply.content == big + big.upper() + big[::-1]
    fake.script("other", Script(chunks=["x"] * 20_000, usage=False))
    t = await client.create_session(model="lab/other")
    reply = await t.send_and_wait("tiny")
    assert (
        reply.content == "x" * 20_000
        and reply.stats.output_tokens == 20_000
        and reply.stats.tokens_estimated
    )


async def test_endless_stream_can_be_aborted(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(chunks=["tick "] * 1_000_000, delay=0.005))
    s = await client.create_session(model="lab/slow")
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    await s.send("never ends")
    while sum(e.type == ev.MESSAGE_DELTA for e in seen) < 5:
        await asyncio.sleep(0.01)
    await asyncio.wait_for(s.abort(), 5)
    reply = (await s.get_messages())[-1]
    assert reply.status == "aborted" and reply.content.startswith("tick tick")


def _lock_database(data_dir: Path) -> subprocess.Popen[str]:
    """Another process holding the database exclusively until ``_unlock`` (returns once it holds it)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked',flush=True)\nsys.stdin.readline()\nc.execute('COMMIT')",
            str(data_dir / DB_NAME),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout and holder.stdout.readline().strip() == "locked"
    return holder


def _unlock(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None and holder.poll() is None  # it held the lock until now
    holder.stdin.write("\n")
    holder.stdin.close()
    assert holder.wait(10) == 0


async def test_database_locked_for_a_while(client: CopilotClient, data_dir: Path) -> None:
    holder = _lock_database(data_dir)
    creating = asyncio.ensure_future(client.create_session(model="lab/gpt-4o-mini"))
    await asyncio.sleep(0.3)
    assert not creating.done()  # waiting for the lock, not failing
    _unlock(holder)
    s = await asyncio.wait_for(creating, 10)  # then it works
    assert (await s.send_and_wait("after the lock")).content == "Echo: after the lock"


async def test_a_request_does_not_wait_for_the_store(
    client: CopilotClient, data_dir: Path, fake: FakeOpenAI
) -> None:
    """The prompt is saved while the request goes out: a store held up by another process
    delays the saving, not the model; once the lock goes, prompt and reply are both saved."""
    s = await client.create_session(model="lab/gpt-4o-mini")
    await s.send_and_wait("warm up")  # the history is read once; later turns do not read it
    holder = _lock_database(data_dir)
    reply = asyncio.ensure_future(s.send_and_wait("while the store is busy"))
    for _ in range(3000):  # the lock is held until _unlock: the request goes out regardless
        if len(fake.requests) >= 2:
            break
        await asyncio.sleep(0.01)
    assert len(fake.requests) == 2, "the request waited for the store"
    _unlock(holder)
    assert (await asyncio.wait_for(reply, 10)).content == "Echo: while the store is busy"
    saved = [(m.role, m.content, m.status) for m in await s.get_messages()]
    assert saved[-2:] == [
        ("user", "while the store is busy", "complete"),
        ("assistant", "Echo: while the store is busy", "complete"),
    ]
    assert (
        fake.requests[-1]["body"]["messages"][-3]["content"] == "warm up"
    )  # the whole history went


def test_two_processes_on_one_data_dir(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    code = (
        "import asyncio,sys\nfrom copilot_tui import CopilotClient\n"
        "async def main():\n"
        "    async with CopilotClient(config_path=sys.argv[1], data_dir=sys.argv[2]) as c:\n"
        "        for i in range(10):\n"
        "            s = await c.create_session(model='lab/gpt-4o-mini', session_id=f'{sys.argv[3]}-{i}')\n"
        "            await s.send_and_wait(f'q{i}')\n"
        "asyncio.run(main())\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(config_path), str(data_dir), tag])
        for tag in ("a", "b")
    ]
    assert [p.wait(60) for p in procs] == [0, 0]
    conn = sqlite3.connect(data_dir / DB_NAME)
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 20
    assert (
        conn.execute("SELECT COUNT(*) FROM messages WHERE status = 'complete'").fetchone()[0] == 40
    )


async def test_read_only_data_dir_names_the_file(tmp_path: Path, config_path: Path) -> None:
    from copilot_tui.errors import StoreError

    if os.geteuid() == 0:
        ro = Path("/proc/self")  # root ignores permissions; /proc is read-only for everyone
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
    with pytest.raises(StoreError) as info:
        async with CopilotClient(config_path=config_path, data_dir=ro):
            pass
    assert f"{ro}/copilot-tui.sqlite3" in str(info.value) and f"check that {ro} is writable" in str(
        info.value
    )


async def test_hundred_sessions_at_once(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(text="word " * 50, delay=0.0, hold_until_active=100))
    cfg = write_config(tmp_path / "c.toml", fake.base_url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        sessions = [await client.create_session(model="lab/slow") for _ in range(100)]
        replies = await asyncio.gather(*(s.send_and_wait(f"n{i}") for i, s in enumerate(sessions)))
    assert all(r.content == "word " * 50 and r.status == "complete" for r in replies)
    assert (
        fake.max_active == 100
    )  # they really ran together (each holds its first token until all are open)
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"100 sessions: {time.monotonic() - started:.2f}s, peak RSS growth {growth_mb:.1f} MB")


async def test_full_disk_is_a_clear_error(client: CopilotClient, fake: FakeOpenAI) -> None:
    s = await client.create_session(model="lab/gpt-4o-mini")
    await s.send_and_wait("before the disk fills")
    conn = client.runtime.store.store.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: as good as a full disk
    fake.script("gpt-4o-mini", Script(chunks=["x" * 200_000]))
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    with pytest.raises(Exception) as info:
        await s.send_and_wait("this reply cannot be saved")
    assert "disk is full" in str(info.value) and str(client.data_path) in str(info.value)
    assert [e.type for e in seen].count(ev.SESSION_IDLE) == 1
    conn.execute("PRAGMA max_page_count = 1073741823")
    history = [m.content for m in await s.get_messages()]
    assert history[:2] == [
        "before the disk fills",
        "Echo: before the disk fills",
    ]  # nothing saved was lost
    fake.script("gpt-4o-mini", Script())
    assert (await s.send_and_wait("room again")).content == "Echo: room again"
