"""Sessions on the Copilot runtime through GitHub's SDK, over BYOK against the fake OpenAI server.

One client (one runtime process) serves the module's chat tests: each runtime start costs 1-3 s.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from copilot_tui import CopilotClient
from copilot_tui import events as ev
from tests.servers.openai_server import FakeOpenAI, Script

pytestmark = [pytest.mark.usefixtures("copilot_runtime"), pytest.mark.asyncio(loop_scope="module")]


def runtime_config(path: Path, base_url: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(
            [
                'default_model = "lab/gpt-4o-mini"',
                "[providers.lab]",
                'type = "openai"',
                f'base_url = "{base_url}"',
                'api_key = "sk-lab-secret-123456"',
                'runtime = "copilot"',
            ]
        )
        + "\n"
    )
    path.chmod(0o600)
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(runtime_env: Path, server: FakeOpenAI) -> AsyncIterator[CopilotClient]:
    config = runtime_config(runtime_env / "cfg" / "config.toml", server.base_url)
    async with CopilotClient(config_path=config, data_dir=runtime_env / "data") as c:
        yield c


@pytest.fixture
def rt_client(shared: CopilotClient, fake: FakeOpenAI) -> CopilotClient:
    return shared


def chat_bodies(fake: FakeOpenAI) -> list[dict]:
    return [r["body"] for r in fake.requests if r["model"] == "gpt-4o-mini"]


async def test_three_sessions_send_at_once_then_follow_up(
    rt_client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(hold_until_active=3, delay=0.01))
    sessions = [
        await rt_client.create_session(session_id="user-123-chat", system_message="Be brief."),
        await rt_client.create_session(),
        await rt_client.create_session(),
    ]
    replies = await asyncio.gather(
        *(s.send_and_wait(f"question {i}", timeout=60) for i, s in enumerate(sessions))
    )
    # the echo of each prompt (the runtime puts the date in front of every user message)
    assert all(r.content.startswith("Echo: ") for r in replies)
    assert [r.content.rsplit("\n", 1)[-1] for r in replies] == [f"question {i}" for i in range(3)]
    assert fake.max_active == 3  # the three replies streamed at the same time
    # a plain chat on the runtime: our system message, no tools
    first = chat_bodies(fake)
    assert all(not b.get("tools") for b in first)
    assert any(b["messages"][0] == {"role": "system", "content": "Be brief."} for b in first)
    # the follow-up carries the conversation so far, kept by the runtime under our custom id
    fake.requests.clear()
    follow = await sessions[0].send_and_wait("and then?", timeout=60)
    assert follow.content.endswith("and then?")
    (body,) = chat_bodies(fake)
    said = [(m["role"], str(m.get("content"))) for m in body["messages"]]
    assert said[0] == ("system", "Be brief.")
    assert said[1][0] == "user" and said[1][1].endswith("question 0")
    assert said[2] == ("assistant", replies[0].content)
    assert said[3][0] == "user" and said[3][1].endswith("and then?")
    # our store keeps every message, as for any other provider
    stored = await (await rt_client.resume_session("user-123-chat")).get_messages()
    assert [m.content for m in stored] == [
        "question 0",
        replies[0].content,
        "and then?",
        follow.content,
    ]
    assert all(m.status == "complete" for m in stored)
    assert stored[1].stats is not None and stored[1].stats.output_tokens
    # the runtime's own session carries the same custom id
    runtime = await rt_client.runtime.providers.sdk.client()
    assert "user-123-chat" in {m.session_id for m in await runtime.list_sessions()}


async def test_an_aborted_reply_keeps_its_words_and_the_next_turn_is_clean(
    rt_client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(hold_at=1), Script())
    s = await rt_client.create_session()
    streamed = asyncio.Event()
    s.on(lambda e: streamed.set() if e.type == ev.MESSAGE_DELTA else None)
    await s.send("hold on")
    await asyncio.wait_for(streamed.wait(), 60)
    await s.abort()
    fake.release()
    (reply,) = [m for m in await s.get_messages() if m.role == "assistant"]
    assert reply.status == "aborted" and reply.content == "Echo:"
    # the runtime's late events of the aborted turn do not end the next one early
    again = await s.send_and_wait("next", timeout=60)
    assert again.content.startswith("Echo: ") and again.content.endswith("next")


async def test_history_reaches_a_runtime_that_lost_the_session(
    tmp_path: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new runtime home (the runtime's own state gone): the stored conversation still goes."""
    config = runtime_config(tmp_path / "cfg" / "config.toml", fake.base_url)
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as c:
        s = await c.create_session(session_id="kept-chat")
        await s.send_and_wait("remember pumpkin", timeout=60)
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "another-home"))
    fake.requests.clear()
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as c:
        s = await c.resume_session("kept-chat")
        reply = await s.send_and_wait("what did I say?", timeout=60)
    assert reply.content.endswith("what did I say?")
    (body,) = chat_bodies(fake)
    system = body["messages"][0]
    assert system["role"] == "system" and "remember pumpkin" in system["content"]
    assert "Assistant: Echo: " in system["content"]


async def test_provider_errors_are_one_sentence_and_the_session_goes_on(
    rt_client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script(
        "gpt-4o-mini",
        Script(status=400, error_body='{"error": {"message": "bad thing happened"}}'),
        Script(),
    )
    s = await rt_client.create_session()
    errors: list[ev.SessionEvent] = []
    s.on(lambda e: errors.append(e) if e.type == ev.SESSION_ERROR else None)
    with pytest.raises(Exception) as failed:
        await s.send_and_wait("first", timeout=60)
    message = str(failed.value)
    assert "\n" not in message and "Traceback" not in message
    assert "sk-lab-secret-123456" not in message
    assert len(errors) == 1
    ok = await s.send_and_wait("second", timeout=60)
    assert ok.content.endswith("second")


async def test_a_killed_runtime_is_one_sentence_and_the_next_message_restarts_it(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(hold_at=1), Script())
    config = runtime_config(tmp_path / "cfg" / "config.toml", fake.base_url)
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as own:
        await _kill_and_restart(own, fake)


async def _kill_and_restart(rt_client: CopilotClient, fake: FakeOpenAI) -> None:
    s = await rt_client.create_session()
    streamed = asyncio.Event()
    s.on(lambda e: streamed.set() if e.type == ev.MESSAGE_DELTA else None)
    turn = asyncio.ensure_future(s.send_and_wait("hold on", timeout=60))
    await asyncio.wait_for(streamed.wait(), 60)
    sdk = rt_client.runtime.providers.sdk
    os.kill(sdk._client._cli_process.pid, signal.SIGKILL)  # the runtime crashes
    with pytest.raises(Exception) as failed:
        await turn
    assert "Copilot runtime stopped" in str(failed.value)
    assert "\n" not in str(failed.value)
    fake.release()
    (reply,) = [m for m in await s.get_messages() if m.role == "assistant"]
    assert reply.status == "error" and reply.content == "Echo:"  # the words before the crash
    again = await s.send_and_wait("still there?", timeout=60)
    assert again.content.endswith("still there?")


async def test_a_missing_runtime_is_one_sentence(
    tmp_path: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", str(tmp_path / "no-such-runtime"))
    config = runtime_config(tmp_path / "cfg" / "config.toml", fake.base_url)
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as c:
        s = await c.create_session()
        with pytest.raises(Exception) as failed:
            await s.send_and_wait("hello", timeout=60)
        message = str(failed.value)
        assert message.startswith("The Copilot runtime is not at ") and "npm install" in message
        assert "\n" not in message
        assert fake.requests == []


async def test_copilot_without_any_login_says_so_without_starting_the_runtime(
    tmp_path: Path,
) -> None:
    config = tmp_path / "cfg" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[providers.copilot]\ntype = "copilot"\n[providers.odd]\ntype = "copilot"\n'
        'transport = "grpc"\n'
    )
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as c:
        statuses = {s.name: s for s in await c.provider_statuses(refresh=True)}
        assert not c.runtime.providers.sdk.started  # no 200 MB process just to say no
    assert statuses["copilot"].reason == "not logged in"
    assert statuses["copilot"].fix == "run: copilot-tui login copilot"
    assert (
        statuses["odd"].reason == 'providers.odd.transport must be "sdk" or "http" (got \'grpc\').'
    )
