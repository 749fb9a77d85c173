"""The session service API against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from copilot_tui import (
    CopilotClient,
    InvalidSessionId,
    ProviderError,
    SessionExists,
    SessionNotFound,
    UnknownModel,
    UnknownProvider,
)
from copilot_tui import events as ev
from copilot_tui.errors import CopilotTuiError
from tests.servers.openai_server import FakeOpenAI, Script


async def wait_idle(session, events: list) -> None:  # noqa: ANN001
    for _ in range(2000):
        if any(e.type == ev.SESSION_IDLE for e in events):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("turn never finished")


async def test_recipe_api_end_to_end(client: CopilotClient, fake: FakeOpenAI) -> None:
    s1 = await client.create_session(model="lab/gpt-4o-mini")
    s2 = await client.create_session(
        model="lab/other",
        session_id="user-123-chat",
        system_message="You are helping with a Go project",
    )
    reply = await s1.send_and_wait("How do I create a virtual environment?")
    assert reply.content == "Echo: How do I create a virtual environment?"
    assert (
        reply.role == "assistant"
        and reply.status == "complete"
        and reply.model == "lab/gpt-4o-mini"
    )

    seen: list[ev.SessionEvent] = []
    unsubscribe = s2.on(seen.append)
    msg_id = await s2.send("How do I initialize a module?")
    assert isinstance(msg_id, str) and msg_id
    await wait_idle(s2, seen)
    unsubscribe()
    types = [e.type for e in seen]
    assert types.count(ev.SESSION_IDLE) == 1 and types[-1] == ev.SESSION_IDLE
    deltas = "".join(e.data.delta_content for e in seen if e.type == ev.MESSAGE_DELTA)
    final = next(e for e in seen if e.type == ev.MESSAGE)
    assert deltas == final.data.content == "Echo: How do I initialize a module?"
    usage = next(e for e in seen if e.type == ev.USAGE)
    assert usage.data.output_tokens == 7 and usage.data.estimated is False
    # the system message went to the model first
    body = fake.requests_for("other")[-1]["body"]
    assert body["messages"][0] == {"role": "system", "content": "You are helping with a Go project"}

    history = await s1.get_messages()
    assert [(m.role, m.status) for m in history] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    infos = {i.session_id: i for i in await client.list_sessions()}
    assert infos["user-123-chat"].message_count == 2
    assert infos["user-123-chat"].title == "How do I initialize a module?"
    assert infos["user-123-chat"].model == "lab/other"
    again = await client.resume_session("user-123-chat")
    assert again is s2
    await client.delete_session("user-123-chat")
    with pytest.raises(SessionNotFound):
        await client.resume_session("user-123-chat")
    models = await client.list_models()
    assert "lab/gpt-4o-mini" in [m.id for m in models]
    assert all(m.provider == "lab" for m in models)
    await s1.dispose()
    assert (await client.resume_session(s1.session_id)).session_id == s1.session_id


async def test_sessions_stream_concurrently(client: CopilotClient, fake: FakeOpenAI) -> None:
    # Each reply holds its first token until three requests are open at the same time on the server.
    fake.script("slow", Script(delay=0.02, first_delay=0.3))
    sessions = [await client.create_session(model="lab/slow") for _ in range(3)]
    replies = await asyncio.gather(
        *(s.send_and_wait(f"prompt number {i}") for i, s in enumerate(sessions))
    )
    assert [r.content for r in replies] == [f"Echo: prompt number {i}" for i in range(3)]
    reqs = fake.requests_for("slow")
    assert fake.max_active == 3
    # every request started before any ended: they overlapped, not ran in turn
    assert max(r["start"] for r in reqs) < min(r["end"] for r in reqs)


async def test_follow_up_sends_whole_history(client: CopilotClient, fake: FakeOpenAI) -> None:
    s = await client.create_session(model="lab/gpt-4o-mini", system_message="Be brief")
    await s.send_and_wait("first")
    await s.send_and_wait("second")
    messages = fake.requests_for("gpt-4o-mini")[-1]["body"]["messages"]
    assert messages == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": "second"},
    ]


async def test_send_on_busy_session_is_queued(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(delay=0.02))
    s = await client.create_session(model="lab/slow")
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    await s.send("one two three")
    await s.send("four")
    for _ in range(2000):
        if sum(e.type == ev.SESSION_IDLE for e in seen) == 2:
            break
        await asyncio.sleep(0.005)
    reqs = fake.requests_for("slow")
    assert len(reqs) == 2
    assert reqs[0]["end"] <= reqs[1]["start"]  # serialised within the session
    assert reqs[1]["body"]["messages"][-2] == {
        "role": "assistant",
        "content": "Echo: one two three",
    }
    contents = [m.content for m in await s.get_messages()]
    assert contents == ["one two three", "Echo: one two three", "four", "Echo: four"]


async def test_abort_keeps_partial_reply(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(text="word " * 200, delay=0.01))
    s = await client.create_session(model="lab/slow")
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    await s.send("go")
    while not any(e.type == ev.MESSAGE_DELTA for e in seen):
        await asyncio.sleep(0.005)
    await s.abort()
    idles = [e for e in seen if e.type == ev.SESSION_IDLE]
    assert len(idles) == 1 and idles[0].data.aborted is True
    reply = (await s.get_messages())[-1]
    assert reply.status == "aborted" and reply.content.startswith("word")
    assert len(reply.content) < len("word " * 200)
    # the session stays usable
    fake.script("slow", Script())
    assert (await s.send_and_wait("again")).content == "Echo: again"


async def test_resume_from_fresh_client(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as c1:
        s = await c1.create_session(
            model="lab/gpt-4o-mini", session_id="keep-me", system_message="sys"
        )
        await s.send_and_wait("remember this")
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as c2:
        again = await c2.resume_session("keep-me")
        assert again.info.system_message == "sys"
        assert [m.content for m in await again.get_messages()] == [
            "remember this",
            "Echo: remember this",
        ]
        await again.send_and_wait("and now?")
        assert fake.requests_for("gpt-4o-mini")[-1]["body"]["messages"][1:3] == [
            {"role": "user", "content": "remember this"},
            {"role": "assistant", "content": "Echo: remember this"},
        ]


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 129, "..", "semi;colon", "ünï"])
async def test_invalid_custom_ids(client: CopilotClient, bad: str) -> None:
    with pytest.raises(InvalidSessionId) as info:
        await client.create_session(model="lab/gpt-4o-mini", session_id=bad)
    assert isinstance(info.value, CopilotTuiError)
    assert "letters, digits" in str(info.value) or "reserved" in str(info.value)


async def test_duplicate_unknown_and_model_errors(client: CopilotClient) -> None:
    await client.create_session(model="lab/gpt-4o-mini", session_id="dup")
    with pytest.raises(SessionExists, match="already exists"):
        await client.create_session(model="lab/gpt-4o-mini", session_id="dup")
    with pytest.raises(SessionNotFound, match="No session"):
        await client.resume_session("missing")
    with pytest.raises(SessionNotFound):
        await client.delete_session("missing")
    with pytest.raises(UnknownProvider, match="nope"):
        await client.create_session(model="nope/gpt")
    with pytest.raises(UnknownModel, match="no model 'gpt-99'"):
        await client.create_session(model="lab/gpt-99")


async def test_model_refs_split_at_first_slash_and_bare_names(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("openai/gpt-4.1", Script())
    s = await client.create_session(model="lab/openai/gpt-4.1")
    assert s.model == "lab/openai/gpt-4.1"
    assert (await s.send_and_wait("hi")).content == "Echo: hi"
    assert fake.requests_for("openai/gpt-4.1")[0]["body"]["model"] == "openai/gpt-4.1"
    bare = await client.create_session(model="other")
    assert bare.model == "lab/other"


@pytest.mark.parametrize(
    ("script", "error_type", "phrase"),
    [
        (
            Script(status=401, error_body='{"error":{"message":"Incorrect API key provided"}}'),
            "authentication",
            "401",
        ),
        (Script(status=404), "model_not_found", "404"),
        (
            Script(
                status=429,
                error_body='{"error":{"message":"slow down"}}',
                headers={"Retry-After": "600"},
            ),
            "rate_limit",
            "Retry after 600 seconds",
        ),
        (Script(status=500), "server", "500"),
        (
            Script(
                status=400,
                error_body='{"error":{"message":"This model\'s maximum context length is 8192 tokens","code":"context_length_exceeded"}}',
            ),
            "context_length",
            "too long",
        ),
        (Script(malformed_at=2), "protocol", "malformed"),
        (Script(error_at=2), "server", "mid-reply"),
        (Script(no_finish=True), "incomplete", "without a finish marker"),
        (Script(drop_after=2), "incomplete", "dropped"),
        (
            Script(raw_body=b"<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
            "protocol",
            "HTML",
        ),
    ],
)
async def test_error_paths_become_one_sentence(
    client: CopilotClient, fake: FakeOpenAI, script: Script, error_type: str, phrase: str
) -> None:
    fake.script("gpt-4o-mini", script)
    s = await client.create_session(model="lab/gpt-4o-mini")
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    with pytest.raises(ProviderError) as info:
        await s.send_and_wait("hello there")
    err = next(e for e in seen if e.type == ev.SESSION_ERROR)
    assert err.data.error_type == error_type
    assert phrase in err.data.message and "\n" not in err.data.message
    assert str(info.value) == err.data.message
    assert [e.type for e in seen].count(ev.SESSION_IDLE) == 1
    reply = (await s.get_messages())[-1]
    assert reply.status == "error" and reply.error == err.data.message
    if script.malformed_at or script.error_at or script.drop_after or script.no_finish:
        assert reply.content  # partial text kept
    # other sessions are unaffected
    ok = await client.create_session(model="lab/other")
    assert (await ok.send_and_wait("fine?")).content == "Echo: fine?"


async def test_retry_before_first_token(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script(
        "gpt-4o-mini",
        Script(status=503),
        Script(status=429, headers={"Retry-After": "0"}),
        Script(),
    )
    s = await client.create_session(model="lab/gpt-4o-mini")
    notes: list[str] = []
    s.on(
        lambda e: (
            notes.append(e.data.status)
            if e.type == ev.SESSION_STATUS and e.data.get("status")
            else None
        )
    )
    reply = await s.send_and_wait("retry me")
    assert reply.content == "Echo: retry me"
    assert len(fake.requests_for("gpt-4o-mini")) == 3
    assert any(n.startswith("retrying in") for n in notes)


def test_retry_waits() -> None:
    """Backoff doubles from about half a second, with jitter, for four attempts; a server's
    Retry-After is honoured up to 20 s; nothing is retried once text has arrived."""
    from copilot_tui.errors import NetworkError, RateLimitError, ServerError
    from copilot_tui.service.turn import retry_wait as wait

    down = ServerError("busy (503)", retryable=True)
    for attempt, low in ((1, 0.5), (2, 1.0), (3, 2.0)):
        assert all(low <= (w := wait(down, attempt, False)) <= low * 1.5 for _ in range(20)), (
            attempt,
            w,
        )
    assert wait(down, 4, False) is None
    assert wait(down, 1, True) is None
    assert wait(ServerError("broken (500)", retryable=False), 1, False) is None
    assert wait(NetworkError("refused"), 1, False) is not None
    assert wait(RateLimitError("slow down", retry_after=3, retryable=True), 1, False) == 3
    assert wait(RateLimitError("later", retry_after=600, retryable=True), 1, False) is None


@pytest.mark.usefixtures("quick_retries")
async def test_connection_refused_and_stall(tmp_path: Path, fake: FakeOpenAI) -> None:
    from tests.conftest import write_config

    cfg = write_config(
        tmp_path / "c.toml", "http://127.0.0.1:9/v1", timeout="0.5", max_concurrency="8"
    )
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as c:
        s = await c.create_session(model="lab/anything")
        with pytest.raises(ProviderError, match="connection refused"):
            await s.send_and_wait("hi")
    cfg = write_config(tmp_path / "c2.toml", fake.base_url, timeout="0.5")
    fake.script("gpt-4o-mini", Script(stall_after=2))
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as c:
        s = await c.create_session(model="lab/gpt-4o-mini")
        with pytest.raises(ProviderError, match="stopped sending"):
            await s.send_and_wait("hello world again")
        assert (await s.get_messages())[-1].content == "Echo: hello"


async def test_max_concurrency_caps_parallel_requests(tmp_path: Path, fake: FakeOpenAI) -> None:
    from tests.conftest import write_config

    cfg = write_config(tmp_path / "c.toml", fake.base_url, max_concurrency="2")
    fake.script(
        "slow", Script(hold_at=1)
    )  # the first two hold their slots after a token until released
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as c:
        sessions = [await c.create_session(model="lab/slow") for _ in range(5)]
        waiting: list[str] = []
        for s in sessions:
            s.on(
                lambda e: (
                    waiting.append(e.session_id)
                    if e.type == ev.SESSION_STATUS and e.data.state == "waiting"
                    else None
                )
            )
        sending = asyncio.gather(*(s.send_and_wait(f"n{i}") for i, s in enumerate(sessions)))
        for _ in range(3000):
            if len(set(waiting)) == 3 and fake.active == 2:
                break
            await asyncio.sleep(0.01)
        assert (
            len(set(waiting)) == 3 and fake.active == 2
        )  # the extra sessions said they were waiting
        await asyncio.sleep(
            0.5
        )  # they wait at least this long: far longer than a first token takes here
        fake.release()
        replies = await asyncio.wait_for(sending, 30)
    assert [r.content for r in replies] == [f"Echo: n{i}" for i in range(5)]
    assert fake.max_active == 2
    # the wait is kept apart: a reply's times are its model's, from when its request went out
    queued = [r for r in replies if r.stats.queued]
    assert len(queued) >= 3 and all(
        r.stats.ttft is not None and r.stats.ttft < r.stats.queued for r in queued
    )
    assert sum(1 for r in replies if r.stats.queued == 0.0) == 2


async def test_event_handler_errors_do_not_break_turns(client: CopilotClient) -> None:
    s = await client.create_session(model="lab/gpt-4o-mini")

    def broken(event: ev.SessionEvent) -> None:
        raise RuntimeError("listener bug")

    s.on(broken)
    assert (await s.send_and_wait("still works")).content == "Echo: still works"


async def test_client_requires_start(config_path: Path, data_dir: Path) -> None:
    c = CopilotClient(config_path=config_path, data_dir=data_dir)
    with pytest.raises(CopilotTuiError, match="not started"):
        await c.list_sessions()
    await c.start()
    try:
        assert await c.list_sessions() == []
    finally:
        await c.stop()


async def test_abort_right_after_send_still_ends_the_turn(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    s = await client.create_session(model="lab/gpt-4o-mini")
    seen: list[ev.SessionEvent] = []
    s.on(seen.append)
    await s.send("first")
    await asyncio.sleep(0)  # the turn task exists but has not run yet
    await s.abort()
    await s.send("second")  # the worker is still alive: this runs
    for _ in range(1000):
        if sum(e.type == ev.SESSION_IDLE for e in seen) == 2:
            break
        await asyncio.sleep(0.005)
    idles = [e for e in seen if e.type == ev.SESSION_IDLE]
    assert [i.data.aborted for i in idles] == [True, False]
    assert (await s.get_messages())[-1].content == "Echo: second"


async def test_events_read_together_are_one_delta_counted_as_many(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    """A read holding many events becomes one delta; the token estimate still counts every event."""
    pieces = [f"w{i} " for i in range(40)]
    fake.script("gpt-4o-mini", Script(chunks=pieces, usage=False, burst=True))
    session = await client.create_session()
    seen: list = []
    session.on(seen.append)
    reply = await session.send_and_wait("hi")
    deltas = [e.data for e in seen if e.type == ev.MESSAGE_DELTA]
    assert reply.content == "".join(pieces) == "".join(d.delta_content for d in deltas)
    assert len(deltas) < len(pieces)  # joined (one write on loopback arrives in one or two reads)
    assert sum(d.pieces for d in deltas) == len(pieces)
    assert (reply.stats.output_tokens, reply.stats.tokens_estimated) == (len(pieces), True)
