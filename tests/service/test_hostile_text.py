"""Hostile text from a server: characters no encoder accepts, credentials quoted back at us.

Against the fake OpenAI-compatible server on 127.0.0.1, a real SQLite file and the real CLI.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_tui import CopilotClient, ProviderError
from copilot_tui import events as ev
from copilot_tui.redact import MASK, MIN_PARTIAL, StreamRedactor, redact, remember_secret
from copilot_tui.service import turn as turn_module
from copilot_tui.store import DB_NAME, Store
from tests.servers.hostile import (
    canary_key,
    key_in_error,
    key_in_reply,
    lone_surrogate_reply,
    split_pair_reply,
)
from tests.servers.openai_server import FakeOpenAI, Script


def cli(
    config: Path, data: Path, *args: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    if key:
        env["LAB_API_KEY"] = key
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot_tui.cli.main",
            "--config",
            str(config),
            "--data-dir",
            str(data),
            *args,
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env=env,  # the timeout bounds a hang
    )


def stored(data: Path, session_id: str) -> list[tuple[str, str, str | None]]:
    conn = sqlite3.connect(data / DB_NAME)
    try:
        return conn.execute(
            "SELECT content, status, error FROM messages WHERE session_id = ? AND role = 'assistant' ORDER BY seq",
            (session_id,),
        ).fetchall()
    finally:
        conn.close()


def leaked(key: str, text: str, size: int = MIN_PARTIAL) -> str | None:
    """A piece of ``key`` (``size`` characters, past its public "sk-") that ``text`` shows."""
    for i in range(3, len(key) - size + 1):
        if key[i : i + size] in text:
            return key[i : i + size]
    return None


# -- characters no encoder accepts ---------------------------------------------------------


def test_lone_surrogate_through_the_cli(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", lone_surrogate_reply())
    r = cli(config_path, data_dir, "send", "--session", "s1", "hi")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert (
        r.stderr
        == "copilot-tui: note: no session 's1' yet, so it was created (on lab/gpt-4o-mini)\n"
    )  # and nothing else
    assert r.stdout == "Hello wor\ufffdld, and more.\n"
    assert stored(data_dir, "s1") == [("Hello wor\ufffdld, and more.", "complete", None)]
    exported = cli(config_path, data_dir, "sessions", "export", "s1", "--format", "json")
    assert exported.returncode == 0 and "\\ufffd" in exported.stdout or "\ufffd" in exported.stdout


async def test_split_utf16_pair_is_joined(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", split_pair_reply())
    s = await client.create_session("lab/gpt-4o-mini")
    deltas: list[str] = []
    s.on(lambda e: deltas.append(e.data.delta_content) if e.type == ev.MESSAGE_DELTA else None)
    reply = await s.send_and_wait("hi")
    assert reply.content == "smile \U0001f600 done" == "".join(deltas)


def test_store_cleans_what_it_is_given(tmp_path: Path) -> None:
    """Below the provider boundary, the store still never fails on a lone surrogate."""
    from copilot_tui.types import Message

    store = Store(tmp_path)
    try:
        store.create_session("s1", "lab/x", title="t\udcff")
        msg = Message("m1", "s1", "assistant", "a\ud800", "lab/x", "streaming", None, 1.0, 1.0)
        store.add_message(msg)
        store.update_message("m1", content="ab\udfff", status="error", error="bad \ud800")
        [m] = store.get_messages("s1")
        assert (m.content, m.error) == ("ab\ufffd", "bad \ufffd")
        assert store.get_session("s1").title == "t\ufffd"
    finally:
        store.close()


class _FlushFails(RuntimeError):
    pass


@pytest.mark.parametrize("final_save_fails", [False, True])
async def test_a_failing_layer_loses_no_text(
    client: CopilotClient, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, final_save_fails: bool
) -> None:
    """A bug below the session (here: the store raising something unexpected mid-stream) ends
    the turn with one sentence and its idle event; the text received so far is kept."""
    fake.script("gpt-4o-mini", Script(chunks=["one ", "two ", "three ", "four"]))
    monkeypatch.setattr(turn_module, "FLUSH_INTERVAL", 0.0)  # save after every piece
    store = client.runtime.store.store
    real = store.update_message
    calls: list[str | None] = []

    def update_message(message_id: str, **kw: object) -> None:
        calls.append(kw.get("status"))  # type: ignore[arg-type]
        if kw.get("status") is None or final_save_fails:
            raise _FlushFails("disk said no")
        real(message_id, **kw)

    monkeypatch.setattr(store, "update_message", update_message)
    s = await client.create_session("lab/gpt-4o-mini")
    seen: list[ev.SessionEvent] = []
    idle = asyncio.get_running_loop().create_future()
    s.on(seen.append)
    s.on(lambda e: idle.set_result(e) if e.type == ev.SESSION_IDLE and not idle.done() else None)
    await s.send("count")
    await asyncio.wait_for(idle, 30)  # bounds a hang
    [err] = [e for e in seen if e.type == ev.SESSION_ERROR]
    assert err.data.message.startswith("Unexpected error: _FlushFails: disk said no.")
    assert "\n" not in err.data.message
    assert calls[-1] == "error"
    [_, reply] = await s.get_messages()
    if final_save_fails:
        assert "saving failed" in err.data.message
    else:
        assert (reply.status, reply.content) == ("error", "one ")  # what had arrived is saved


# -- credentials quoted back ----------------------------------------------------------------

KEY_LENGTHS = (12, 23, 40, 64)
# the start of the error's message: 0, around the 200/300-character cuts, far past them
POSITIONS = (0, 150, 190, 199, 230, 250, 260, 270, 277, 280, 285, 290, 295, 297, 299, 400, 5000)


@pytest.mark.parametrize("length", KEY_LENGTHS)
async def test_key_quoted_in_an_error_at_any_position(
    config_path: Path,
    data_dir: Path,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    length: int,
) -> None:
    key = canary_key(length)
    monkeypatch.setenv("LAB_API_KEY", key)
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        for position in POSITIONS:
            for sep in ("", " ", "\n  "):
                fake.script("fail", key_in_error(key, position, sep=sep))
                s = await client.create_session("lab/fail")
                with pytest.raises(ProviderError) as info:
                    await s.send_and_wait("hi")
                message = str(info.value)
                assert leaked(key, message) is None, (position, repr(sep), message)
                if position < 250:  # the key is inside what is shown: its place is marked
                    assert MASK[:4] in message, (position, message)
                [_, reply] = await s.get_messages()
                assert reply.error == message


def test_a_cut_off_start_of_a_key_is_masked_at_a_cut() -> None:
    key = canary_key(40, seed=7)
    remember_secret(key)
    for n in (MIN_PARTIAL, 10, 39):
        assert redact("ends with " + key[:n], cut=True) == "ends with " + MASK
        assert redact("ends with " + key[:n]) == "ends with " + key[:n]  # not cut: may go on
    assert (
        redact("ends with " + key[: MIN_PARTIAL - 1], cut=True)
        == "ends with " + key[: MIN_PARTIAL - 1]
    )


@pytest.mark.parametrize("length", KEY_LENGTHS)
async def test_key_split_across_stream_events(
    config_path: Path,
    data_dir: Path,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    length: int,
) -> None:
    key = canary_key(length, seed=1)
    monkeypatch.setenv("LAB_API_KEY", key)
    splits = [
        [1],
        [3],
        [length // 2],
        [length - 1],
        [1, 2, 3],
        [2, length // 2, length - 2],
        list(range(1, length)),
    ]
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        for cuts in splits:
            fake.script("gpt-4o-mini", key_in_reply(key, cuts))
            s = await client.create_session("lab/gpt-4o-mini")
            deltas: list[str] = []
            s.on(
                lambda e, d=deltas: (
                    d.append(e.data.delta_content) if e.type == ev.MESSAGE_DELTA else None
                )
            )
            reply = await s.send_and_wait("tell me")
            assert reply.content == f"Your key is {MASK} and that is all.", cuts
            assert "".join(deltas) == reply.content
            for d in deltas:
                assert (
                    leaked(key, d, 2 if len(d) < MIN_PARTIAL else MIN_PARTIAL) is None
                    or d == reply.content
                )
        # split by whitespace inside the reply itself
        fake.script(
            "gpt-4o-mini", Script(chunks=["key: ", key[:5] + " ", key[5:9] + "\n", key[9:] + " ok"])
        )
        s = await client.create_session("lab/gpt-4o-mini")
        assert (await s.send_and_wait("again")).content == f"key: {MASK} ok"


def test_key_in_a_reply_through_the_cli(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    key = canary_key(23, seed=2)
    fake.script("gpt-4o-mini", key_in_reply(key, [4, 11, 19]))
    r = cli(config_path, data_dir, "send", "--session", "k1", "hi", key=key)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"Your key is {MASK} and that is all.\n"
    fake.script("fail", key_in_error(key, 277), key_in_error(key, 150, sep=" "))
    for _ in range(2):
        r = cli(
            config_path, data_dir, "send", "--session", "k2", "--model", "lab/fail", "hi", key=key
        )
        assert r.returncode == 1 and "401" in r.stderr
        assert leaked(key, r.stdout + r.stderr) is None, r.stderr
    shown = cli(config_path, data_dir, "sessions", "show", "k2", key=key)
    assert leaked(key, shown.stdout) is None
    for row in stored(data_dir, "k1") + stored(data_dir, "k2"):
        assert leaked(key, repr(row)) is None
    assert key.encode()[3:10] not in (data_dir / DB_NAME).read_bytes()


async def test_a_stream_cut_in_the_middle_of_a_key(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops after half a key: the text is kept, the half key masked; a reply
    merely ending in a letter a key starts with keeps that letter."""
    key = canary_key(30, seed=3)
    monkeypatch.setenv("LAB_API_KEY", key)
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        fake.script(
            "gpt-4o-mini", Script(chunks=["first ", "then ", key[:14], "never sent"], drop_after=3)
        )
        s = await client.create_session("lab/gpt-4o-mini")
        with pytest.raises(ProviderError):
            await s.send_and_wait("hi")
        [_, reply] = await s.get_messages()
        assert (reply.status, reply.content) == ("error", f"first then {MASK}")
        fake.script("gpt-4o-mini", Script(chunks=["ends in ", key[:2]]))
        assert (await s.send_and_wait("again")).content == "ends in " + key[:2]
        fake.script(
            "gpt-4o-mini", Script(chunks=["a reply ends in ", key[:8]])
        )  # as the server meant
        assert (await s.send_and_wait("and again")).content == "a reply ends in " + key[:8]


def test_stream_redactor_on_every_split() -> None:
    """Joined output equals masking the whole text, wherever the pieces are cut."""
    keys = [canary_key(n, seed=9) for n in (9, 17, 33)]
    for k in keys:
        remember_secret(k)
    rng = random.Random(5)
    texts = [
        f"a {keys[0]} b {keys[1]}{keys[2]} c",
        f"{keys[2][:10]} {keys[2][10:]} trailing {keys[0][:3]}",
        f"no key here at all, just s and k and {keys[1][:5]}x",
    ]
    for text in texts:
        expected = redact(text)
        for _ in range(200):
            cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 6)))
            pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
            r = StreamRedactor()
            out = "".join(r.feed(p) for p in pieces) + r.flush()
            assert out == redact(text, cut=True) or out == expected, (pieces, out)
            for k in keys:
                assert k not in out and k[3:12] not in out
