"""Servers that answer one request at a time: a stream that ends before its first word is
retried like any failure before the first word, and a provider that keeps closing concurrent
streams is sent one request at a time for the rest of the run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_tui import CopilotClient
from copilot_tui import events as ev
from copilot_tui.service.limiter import ProviderLimit
from tests.conftest import write_config
from tests.servers.openai_server import FakeOpenAI, Script

ANSWER = "one two three four five six seven eight"
THROTTLE_NOTE = "sending it one request at a time from now on"


@pytest.mark.parametrize(
    "early",
    [Script(chunks=[], no_finish=True), Script(chunks=["never"], drop_after=0)],
    ids=["ended", "dropped"],
)
async def test_a_stream_that_ends_before_its_first_word_is_retried(
    client: CopilotClient, fake: FakeOpenAI, early: Script
) -> None:
    fake.script("gpt-4o-mini", early, Script(text=ANSWER))
    s = await client.create_session(model="lab/gpt-4o-mini")
    notes: list[str] = []
    s.on(
        lambda e: (
            notes.append(e.data.status)
            if e.type == ev.SESSION_STATUS and e.data.get("status")
            else None
        )
    )
    reply = await s.send_and_wait("go", timeout=60)
    assert reply.content == ANSWER and reply.status == "complete"
    assert len(fake.requests_for("gpt-4o-mini")) == 2
    assert any(n.startswith("retrying in") and "before" in n for n in notes)
    assert not any(THROTTLE_NOTE in n for n in notes)  # alone: nothing to throttle


def _one_at_a_time(fake: FakeOpenAI) -> None:
    """llama-cpp-python's server: a second concurrent stream gets 200 and is closed. The reply
    that runs holds its finish until two others were closed, so the retries meet it busy."""
    for model in (
        "ll",
        "ll2",
    ):  # two models on one server, as with llama-cpp-python's model aliases
        fake.script(
            model, Script(text=ANSWER, delay=0.01, close_if_busy=True, finish_after_drops=2)
        )


async def test_compare_on_a_one_at_a_time_server_completes_both_panes(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    _one_at_a_time(fake)
    notes: list[str] = []
    client.on(
        lambda e: (
            notes.append(e.data.status)
            if e.type == ev.SESSION_STATUS and e.data.get("status")
            else None
        )
    )
    comparison = await client.compare(["lab/ll", "lab/ll2"], "go")
    await comparison.wait(timeout=60)
    assert [p.status for p in comparison.panes] == ["done", "done"]
    assert [p.text for p in comparison.panes] == [ANSWER, ANSWER]
    assert not any(p.error for p in comparison.panes)
    assert fake.drops == 2  # and not one more: from then on one request at a time
    assert sum(THROTTLE_NOTE in n for n in notes) == 1  # said once
    assert any(n.startswith("retrying in") for n in notes)
    # later turns on that provider never overlap
    fake.requests.clear()
    sessions = [await client.create_session(model="lab/ll") for _ in range(3)]
    replies = await asyncio.gather(*(s.send_and_wait("again", timeout=60) for s in sessions))
    assert [r.content for r in replies] == [ANSWER] * 3
    assert fake.drops == 2 and not any(r["dropped"] for r in fake.requests)


def test_cli_compare_on_a_one_at_a_time_server(tmp_path: Path, fake: FakeOpenAI) -> None:
    _one_at_a_time(fake)
    cfg = write_config(tmp_path / "c.toml", fake.base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot_tui.cli.main",
            "--config",
            str(cfg),
            "--data-dir",
            str(tmp_path / "d"),
            "compare",
            "--json",
            "-m",
            "lab/ll",
            "-m",
            "lab/ll2",
            "go",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [p["answer"] for p in doc["panes"]] == [ANSWER, ANSWER]
    assert fake.drops == 2


async def test_limit_lowered_while_held_hands_slots_on_in_order() -> None:
    limit = ProviderLimit("ll", None)
    await limit.acquire()
    await limit.acquire()
    assert not limit.early_end()  # the first time: retried, not yet throttled
    assert limit.early_end() and not limit.early_end()  # the second: throttled, said once
    assert limit.limit == 1 and limit.over and limit.locked()
    limit.release()  # the dropped one steps back
    third = asyncio.ensure_future(limit.acquire())
    second = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0)
    assert not third.done() and not second.done()
    second.cancel()  # a waiter aborted while queued gives up its place
    limit.release()
    await asyncio.wait_for(third, 5)
    assert limit.active == 1 and second.cancelled()
    limit.release()
    assert limit.active == 0 and not limit.locked()
