"""Side-by-side comparison: the service operation and the ``compare`` command, against the fake server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_tui import CopilotClient, UnknownModel
from copilot_tui import events as ev
from copilot_tui.service.compare import (
    COMPARE_DONE,
    CompareEvent,
    ComparisonNotFound,
    InvalidComparison,
    PaneSpec,
)
from tests.conftest import write_config
from tests.servers.openai_server import FakeOpenAI, Script

FAST = "lab/gpt-4o-mini"
SLOW = "lab/slow"
FAIL = "lab/fail"


def _overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def _paced(fake: FakeOpenAI) -> None:
    """A fast model, a slow one (long first token, slow stream) and one that fails with 500."""
    fake.script("gpt-4o-mini", Script(text="fast answer here", first_delay=0.2))
    fake.script(
        "slow", Script(text="slow answer comes in many pieces", first_delay=0.5, delay=0.05)
    )
    fake.script("fail", Script(status=500))


async def test_all_panes_run_at_once_and_a_failure_stays_in_its_pane(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    _paced(fake)
    seen: list[CompareEvent] = []
    comparison = await client.compare([FAST, SLOW, FAIL], "Which is faster?")
    comparison.on(seen.append)
    await comparison.wait(timeout=20)

    fast, slow, fail = comparison.panes
    assert [p.status for p in comparison.panes] == ["done", "done", "error"]
    assert fast.text == "fast answer here"
    assert slow.text == "slow answer comes in many pieces"
    assert "500" in (fail.error or "") and fail.text == ""
    assert not fast.error and not slow.error

    # the server saw both streaming requests in flight together, and the failing one did not wait
    ok = [fake.requests_for("gpt-4o-mini")[0], fake.requests_for("slow")[0]]
    failed = fake.requests_for("fail")[0]
    assert fake.max_active >= 2
    assert _overlap(ok[0], ok[1])
    assert failed["start"] < min(r["end"] for r in ok)

    # one subscription carries every pane's events, with its index
    assert {e.index for e in seen if e.type == ev.MESSAGE_DELTA} == {0, 1}
    assert [e.index for e in seen if e.type == ev.SESSION_ERROR] == [2]
    assert [e.type for e in seen].count(COMPARE_DONE) == 1
    assert seen[-1].type == COMPARE_DONE

    # each pane is a real session of one group
    groups = await client.list_comparisons()
    assert [g.group_id for g in groups] == [comparison.group_id]
    assert groups[0].session_ids == [p.session_id for p in comparison.panes]
    infos = {i.session_id: i for i in await client.list_sessions()}
    assert all(infos[p.session_id].group_id == comparison.group_id for p in comparison.panes)
    assert comparison.title == "Which is faster?"


async def test_live_stats_of_each_pane(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", Script(text="a b c d"))  # usage reported by the server
    fake.script("other", Script(text="w x y z", usage=False, delay=0.01))  # counted
    states: dict[int, list[str]] = {0: [], 1: []}
    comparison = await client.compare([FAST, "lab/other"], "stats please")
    comparison.on(
        lambda e: (
            states[e.index].append(comparison.panes[e.index].status)
            if e.index is not None
            else None
        )
    )
    await comparison.wait(timeout=20)
    with_usage, counted = comparison.panes
    assert with_usage.output_tokens == 4 and not with_usage.tokens_estimated
    assert counted.output_tokens == 4 and counted.tokens_estimated
    for pane in comparison.panes:
        assert pane.ttft is not None and pane.duration is not None and pane.ttft <= pane.duration
        assert pane.stats_dict()["queued"] == 0.0
        assert "streaming" in states[pane.index] and states[pane.index][-1] == "done"
    assert counted.tokens_per_second is not None and counted.tokens_per_second > 0


async def test_fastest_marks_once_all_are_done(client: CopilotClient, fake: FakeOpenAI) -> None:
    # early first token but a slow stream vs. a late first token and a quick stream
    fake.script("gpt-4o-mini", Script(text="one two three four five six", delay=0.15))
    fake.script("other", Script(text="all at once", first_delay=0.4))
    comparison = await client.compare([FAST, "lab/other", FAIL], "race")
    assert comparison.fastest_ttft is None and comparison.fastest_total is None  # still running
    await comparison.wait(timeout=20)
    assert comparison.fastest_ttft == 0
    assert comparison.fastest_total == 1
    data = comparison.to_dict()
    assert data["fastest_ttft"] == 0 and data["fastest_total"] == 1 and data["answered"] == 2


async def test_abort_one_pane_keeps_the_others_running(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(text="quick reply", first_delay=0.3))
    fake.script("slow", Script(text="never " * 50, delay=0.1))
    comparison = await client.compare([FAST, SLOW], "go")
    started = asyncio.Event()
    comparison.on(lambda e: started.set() if e.type == ev.MESSAGE_DELTA and e.index == 1 else None)
    await asyncio.wait_for(started.wait(), 10)
    await comparison.abort(1)
    assert comparison.panes[1].status == "aborted"
    await comparison.wait(timeout=20)
    fast, slow = comparison.panes
    assert fast.status == "done" and fast.text == "quick reply"
    assert slow.status == "aborted" and slow.text.startswith("never")
    stored = await slow.session.get_messages()
    assert stored[-1].status == "aborted" and stored[-1].content == slow.text
    assert comparison.fastest_total == 0  # an aborted pane is never the winner


async def test_abort_before_the_turns_start_and_abort_all(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("slow", Script(text="x " * 100, delay=0.1))
    comparison = await client.compare([FAST, SLOW], "go")
    await comparison.abort(0)  # nothing has run yet
    assert comparison.panes[0].status == "aborted"
    await comparison.abort_all()
    await comparison.wait(timeout=10)
    assert [p.status for p in comparison.panes] == ["aborted", "aborted"]
    assert not comparison.busy
    with pytest.raises(Exception, match="No pane 5"):
        await comparison.abort(5)


async def test_follow_up_goes_to_every_pane_with_its_own_history(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("other", Script(text="other's first answer"), Script(text="other's second answer"))
    specs = [
        PaneSpec(FAST, "You are terse."),
        PaneSpec(FAST, "You are verbose."),
        PaneSpec("lab/other"),
    ]
    comparison = await client.compare(specs, "first question", system_message="Shared system.")
    await comparison.wait(timeout=20)
    first = [p.text for p in comparison.panes]
    assert first == ["Echo: first question", "Echo: first question", "other's first answer"]
    assert comparison.panes[0].label != comparison.panes[1].label  # same model, told apart

    await comparison.send("second question")
    await comparison.wait(timeout=20)
    assert [p.status for p in comparison.panes] == ["done"] * 3
    assert comparison.panes[2].text == "other's second answer"

    follow_ups = [r["body"]["messages"] for r in fake.requests if len(r["body"]["messages"]) > 2]
    assert len(follow_ups) == 3
    expected_systems = ["You are terse.", "You are verbose.", "Shared system."]
    by_system = {m[0]["content"]: m for m in follow_ups}
    assert sorted(by_system) == sorted(expected_systems)
    for pane, system in zip(comparison.panes, expected_systems, strict=True):
        assert by_system[system] == [
            {"role": "system", "content": system},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": first[pane.index]},
            {"role": "user", "content": "second question"},
        ]
        assert len(await pane.session.get_messages()) == 4


async def test_reopens_from_a_fresh_client(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    _paced(fake)
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as first:
        comparison = await first.compare([FAST, SLOW, FAIL], "remember me", title="Pace test")
        await comparison.wait(timeout=20)
        before = [
            (p.model, p.status, p.text, p.error, p.ttft, p.duration, p.output_tokens)
            for p in comparison.panes
        ]
        marks = (comparison.fastest_ttft, comparison.fastest_total)
        group_id = comparison.group_id

    async with CopilotClient(config_path=config_path, data_dir=data_dir) as second:
        listed = await second.list_comparisons()
        assert [(g.group_id, g.title) for g in listed] == [(group_id, "Pace test")]
        reopened = await second.open_comparison(group_id)
        after = [
            (p.model, p.status, p.text, p.error, p.ttft, p.duration, p.output_tokens)
            for p in reopened.panes
        ]
        assert after == before
        assert (reopened.fastest_ttft, reopened.fastest_total) == marks
        assert reopened.last_prompt == "remember me"

        fake.script("fail", Script(text="recovered"))
        await reopened.send("again")
        await reopened.wait(timeout=20)
        assert [p.status for p in reopened.panes] == ["done", "done", "done"]
        assert reopened.panes[2].text == "recovered"

        with pytest.raises(ComparisonNotFound):
            await second.open_comparison("nope")
        await second.delete_comparison(group_id)
        assert await second.list_comparisons() == []
        assert len(await second.list_sessions()) == 3  # the conversations stay


async def test_reopen_in_the_same_client_while_running(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("slow", Script(text="tick " * 8, delay=0.1))
    comparison = await client.compare([FAST, SLOW], "keep going")
    assert (
        await client.open_comparison(comparison.group_id) is comparison
    )  # one live object per group
    streaming = asyncio.Event()
    comparison.on(
        lambda e: streaming.set() if e.type == ev.MESSAGE_DELTA and e.index == 1 else None
    )
    await asyncio.wait_for(streaming.wait(), 10)
    comparison.close()
    assert comparison.closed

    rebuilt = await client.open_comparison(comparison.group_id)  # a view reopened mid-turn
    assert rebuilt is not comparison and not rebuilt.closed
    assert rebuilt.panes[1].status in ("waiting", "streaming") and rebuilt.busy
    done: list[CompareEvent] = []
    rebuilt.on(lambda e: done.append(e) if e.type == COMPARE_DONE else None)
    await rebuilt.wait(timeout=20)
    assert rebuilt.panes[1].status == "done" and rebuilt.panes[1].text.strip().endswith("tick")
    assert len(done) == 1
    rebuilt.close()


async def test_a_pane_reopened_mid_turn_shows_the_text_and_figures_so_far(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    """A pane follows its session's running turn: reopened mid-reply, it shows what arrived
    (not the last save), and its figures tick from the turn's own."""
    fake.script("slow", Script(chunks=["one ", "two ", "three"], hold_at=2, usage=False))
    comparison = await client.compare([FAST, SLOW], "so far")
    two = asyncio.Event()
    comparison.on(
        lambda e: (
            two.set()
            if e.type == ev.MESSAGE_DELTA
            and e.index == 1
            and comparison.panes[1].text == "one two "
            else None
        )
    )
    try:
        await asyncio.wait_for(two.wait(), 30)
        comparison.close()
        rebuilt = await client.open_comparison(comparison.group_id)
        pane = rebuilt.panes[1]
        assert pane.status == "streaming" and pane.text == "one two "
        assert pane.output_tokens == 2 and pane.tokens_estimated
        assert pane.ttft is not None and pane.duration is not None and pane.ttft <= pane.duration
    finally:
        fake.release()
    await rebuilt.wait(timeout=20)
    assert pane.status == "done" and pane.text == "one two three" and pane.output_tokens == 3
    stored = (await pane.session.get_messages())[-1]
    assert pane.stats == stored.stats  # the figures the store kept
    rebuilt.close()


async def test_max_concurrency_makes_extra_panes_wait(
    tmp_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    config = write_config(tmp_path / "limited.toml", fake.base_url, max_concurrency="1")
    for model in (
        "gpt-4o-mini",
        "other",
        "slow",
    ):  # the pane with the slot holds it after a token until released
        fake.script(model, Script(text=f"{model} says one two three", hold_at=1))
    async with CopilotClient(config_path=config, data_dir=data_dir) as client:
        waiting: set[int] = set()

        def watch(event: CompareEvent) -> None:
            if (
                event.type == ev.SESSION_STATUS
                and event.event
                and event.event.data.state == "waiting"
            ):
                assert "too many requests" in (event.event.data.status or "")
                waiting.add(event.index)

        comparison = await client.compare([FAST, "lab/other", SLOW], "one at a time")
        comparison.on(watch)
        for _ in range(3000):
            if len(waiting) == 2 and fake.active == 1:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(
            0.5
        )  # the queued panes wait at least this long, far more than a first token takes
        fake.release()
        await comparison.wait(timeout=30)

        assert fake.max_active == 1
        assert len(waiting) == 2  # the two panes behind the first
        assert [p.status for p in comparison.panes] == ["done"] * 3
        for index in waiting:
            pane = comparison.panes[index]
            # the queue is not the model's time: first token is counted from its own request
            assert pane.queued > 0 and pane.ttft is not None and pane.ttft < pane.queued
        last = max(comparison.panes, key=lambda p: p.queued)
        stored = (await last.session.get_messages())[-1].stats
        # the session keeps the wait apart from the model's times, and saves both
        assert stored.ttft == pytest.approx(last.ttft) and stored.queued == pytest.approx(
            last.queued
        )
        ttfts = [p.ttft for p in comparison.panes]

    async with CopilotClient(config_path=config, data_dir=data_dir) as again:
        reopened = await again.open_comparison(comparison.group_id)
        assert [p.ttft for p in reopened.panes] == pytest.approx(ttfts, abs=1e-6)


async def test_validation_leaves_nothing_behind(client: CopilotClient) -> None:
    with pytest.raises(InvalidComparison, match="2 to 8 models; 1 given"):
        await client.compare([FAST], "hi")
    with pytest.raises(InvalidComparison, match="9 given"):
        await client.compare([PaneSpec(FAST, f"S{i}") for i in range(9)], "hi")
    with pytest.raises(InvalidComparison, match="Pane 2 repeats pane 1"):
        await client.compare([FAST, "gpt-4o-mini"], "hi")
    with pytest.raises(InvalidComparison, match="Pane 3 repeats pane 1"):
        await client.compare(
            [PaneSpec(FAST, "A"), PaneSpec(FAST, "B"), FAST], "hi", system_message="A"
        )
    with pytest.raises(UnknownModel):
        await client.compare([FAST, "lab/no-such-model"], "hi")
    with pytest.raises(Exception, match="empty"):
        await client.compare([FAST, SLOW], "   ")
    assert await client.list_groups() == []
    assert await client.list_sessions() == []


# -- the command --------------------------------------------------------------------------------


def _cli(
    config_path: Path, data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "copilot_tui.cli.main",
        "--config",
        str(config_path),
        "--data-dir",
        str(data_dir),
        "compare",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=60)


def test_cli_text(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    _paced(fake)
    result = _cli(config_path, data_dir, "-m", FAST, "-m", SLOW, "-m", FAIL, "Which is faster?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("== [1] lab/gpt-4o-mini ==\nfast answer here\n") < out.index(
        "== [2] lab/slow ==\nslow answer"
    )
    assert "== [3] lab/fail (error) ==\nerror: " in out
    assert fake.max_active >= 2
    table = out[out.index("MODEL") :].splitlines()
    assert table[0].split() == ["MODEL", "STATUS", "FIRST", "TOKEN", "TOKENS", "TOKENS/S", "TOTAL"]
    rows = {line.split()[0]: line for line in table[2:5]}
    assert rows[FAST].split()[1] == "done" and rows[SLOW].split()[1] == "done"
    assert rows[FAIL].split()[1] == "error"
    assert rows[FAST].count("*") == 2  # fastest first token and total
    assert table[-1] == "* fastest"
    assert "comparison: " in result.stderr


def test_cli_json_and_stdin(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    _paced(fake)
    result = _cli(
        config_path,
        data_dir,
        "-m",
        FAST,
        "-m",
        FAIL,
        "--system",
        "Be brief.",
        "--json",
        "-",
        stdin="from stdin\n",
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["models"] == [FAST, FAIL]
    assert doc["prompt"].strip() == "from stdin"
    assert len(doc["group_id"]) > 0 and doc["answered"] == 1
    ok, failed = doc["panes"]
    assert ok["status"] == "done" and ok["answer"] == "fast answer here" and ok["error"] is None
    assert ok["system_message"] == "Be brief."
    assert set(ok["stats"]) == {
        "ttft",
        "duration",
        "output_tokens",
        "tokens_estimated",
        "tokens_per_second",
        "queued",
        "tool_calls",
    }
    assert ok["stats"]["output_tokens"] == 3 and ok["stats"]["tool_calls"] == 0
    assert failed["status"] == "error" and "500" in failed["error"]
    assert doc["fastest_ttft"] == 0 and doc["fastest_total"] == 0
    sent = fake.requests_for("gpt-4o-mini")[0]["body"]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}


def test_cli_exit_1_when_no_model_answers(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("other", Script(status=500))
    result = _cli(config_path, data_dir, "-m", FAIL, "-m", "lab/other", "hi")
    assert result.returncode == 1
    assert result.stdout.count("(error) ==") == 2
    assert "no model answered" in result.stderr
    result = _cli(config_path, data_dir, "-m", FAIL, "-m", "lab/other", "--json", "hi")
    assert result.returncode == 1
    assert json.loads(result.stdout)["answered"] == 0


@pytest.mark.parametrize("count", [0, 1, 9])
def test_cli_usage_errors_exit_2(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, count: int
) -> None:
    models = [f"gpt-4o-mini::You are pane {i}." for i in range(9)][:count]
    args = [a for m in models for a in ("-m", m)]
    result = _cli(config_path, data_dir, *args, "hi")
    assert result.returncode == 2
    assert "2 to 8 models" in result.stderr
    assert fake.requests == []


def test_cli_duplicate_pane_exits_2(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    result = _cli(config_path, data_dir, "-m", FAST, "-m", "gpt-4o-mini", "hi")
    assert result.returncode == 2
    assert "repeats pane 1" in result.stderr
    assert fake.requests == []


def test_cli_same_model_twice_with_its_own_system_message(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    result = _cli(
        config_path,
        data_dir,
        "-m",
        f"{FAST}::Answer in French",
        "-m",
        f"{FAST}::Answer in German",
        "--json",
        "hi",
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [p["system_message"] for p in doc["panes"]] == ["Answer in French", "Answer in German"]
    systems = sorted(r["body"]["messages"][0]["content"] for r in fake.requests_for("gpt-4o-mini"))
    assert systems == ["Answer in French", "Answer in German"]
