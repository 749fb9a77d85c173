"""The anthropic provider against a fake Messages API speaking the real wire format."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_tui import errors as E
from copilot_tui.providers.anthropic import messages_body
from copilot_tui.providers.base import ChatMessage, ChatRequest
from tests.provider_support import client_for, failed_turn, turn
from tests.servers.anthropic_server import API_KEY, FakeAnthropic, Script, error_body


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def anthropic(server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    server.reset()
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    return server


def config(fake: FakeAnthropic, **extra: str) -> str:
    lines = ["[providers.claude]", 'type = "anthropic"', f'base_url = "{fake.url}"']
    return "\n".join(lines + [f"{k} = {v}" for k, v in extra.items()]) + "\n"


async def test_streamed_reply_with_pings_and_usage(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    anthropic.script("claude-sonnet-4-5", Script(text="Hello from Claude, ünïcødé ✓", ping=True))
    async with client_for(tmp_path, config(anthropic)) as client:
        msg = await turn(client, "claude/claude-sonnet-4-5")
    assert msg.content == "Hello from Claude, ünïcødé ✓"
    assert msg.status == "complete"
    assert msg.stats.output_tokens == 5 and not msg.stats.tokens_estimated
    assert msg.stats.input_tokens == 12
    req = anthropic.requests_to("/v1/messages")[-1]
    assert req["headers"]["x-api-key"] == API_KEY
    assert req["headers"]["anthropic-version"] == "2023-06-01"
    assert req["body"]["stream"] is True and req["body"]["max_tokens"] >= 1


async def test_system_at_top_level_and_same_roles_merged(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    async with client_for(tmp_path, config(anthropic)) as client:
        session = await client.create_session(
            model="claude/claude-sonnet-4-5", system_message="Be terse."
        )
        await session.send_and_wait("first", timeout=30)
        await session.send_and_wait("second", timeout=30)
    body = anthropic.requests_to("/v1/messages")[-1]["body"]
    assert body["system"] == "Be terse."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


def test_messages_body_merges_consecutive_roles() -> None:
    req = ChatRequest(
        "m",
        [
            ChatMessage("system", "a"),
            ChatMessage("user", "x"),
            ChatMessage("user", "y"),
            ChatMessage("system", "b"),
        ],
        max_tokens=7,
    )
    body = messages_body(req, 7)
    assert body["system"] == "a\n\nb"
    assert body["messages"] == [{"role": "user", "content": "x\n\ny"}]
    assert body["max_tokens"] == 7


async def test_models_listed(anthropic: FakeAnthropic, tmp_path: Path) -> None:
    async with client_for(tmp_path, config(anthropic)) as client:
        statuses = await client.provider_statuses(refresh=True)
    assert statuses[0].usable
    assert [m.id for m in statuses[0].models] == [
        "claude/claude-sonnet-4-5",
        "claude/claude-haiku-4-5",
    ]


async def test_no_key_is_a_clear_status(
    anthropic: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    async with client_for(tmp_path, config(anthropic)) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert not status.usable
    assert status.reason == "no API key (ANTHROPIC_API_KEY is not set)"
    assert (status.fix or "").startswith("export ANTHROPIC_API_KEY=")


async def test_wrong_key_is_an_authentication_error(
    anthropic: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-wrong")
    async with client_for(tmp_path, config(anthropic, models='["claude-sonnet-4-5"]')) as client:
        exc, _ = await failed_turn(client, "claude/claude-sonnet-4-5")
    assert isinstance(exc, E.AuthenticationError)
    assert "invalid x-api-key" in str(exc)


async def test_error_event_mid_stream_keeps_partial_text(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    anthropic.script("claude-sonnet-4-5", Script(text="one two three four", error_at=2))
    async with client_for(tmp_path, config(anthropic)) as client:
        exc, reply = await failed_turn(client, "claude/claude-sonnet-4-5")
    assert "Overloaded" in str(exc) and exc.code == "overloaded_error"
    assert reply.content == "one two"
    assert reply.status == "error"
    assert len(anthropic.requests_to("/v1/messages")) == 1  # never re-sent after text arrived


async def test_stream_without_message_stop_is_incomplete(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    anthropic.script("claude-sonnet-4-5", Script(text="one two three", truncate_at=2))
    async with client_for(tmp_path, config(anthropic)) as client:
        exc, reply = await failed_turn(client, "claude/claude-sonnet-4-5")
    assert isinstance(exc, E.IncompleteReply)
    assert reply.content == "one two"


@pytest.mark.usefixtures("quick_retries")
async def test_529_overloaded_is_retried_then_succeeds(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    overloaded = Script(
        status=529, error_body=json.dumps(error_body("overloaded_error", "Overloaded"))
    )
    anthropic.script("claude-sonnet-4-5", overloaded, Script(text="after overload"))
    async with client_for(tmp_path, config(anthropic)) as client:
        msg = await turn(client, "claude/claude-sonnet-4-5")
    assert msg.content == "after overload"
    assert len(anthropic.requests_to("/v1/messages")) == 2


@pytest.mark.usefixtures("quick_retries")
async def test_429_with_retry_after_then_success(anthropic: FakeAnthropic, tmp_path: Path) -> None:
    limited = Script(
        status=429,
        headers={"retry-after": "1"},
        error_body=json.dumps(
            error_body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            )
        ),
    )
    anthropic.script("claude-sonnet-4-5", limited, Script(text="ok now"))
    async with client_for(tmp_path, config(anthropic)) as client:
        msg = await turn(client, "claude/claude-sonnet-4-5")
    assert msg.content == "ok now"


async def test_long_retry_after_becomes_a_clear_error(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    limited = Script(
        status=429,
        headers={"retry-after": "600"},
        error_body=json.dumps(error_body("rate_limit_error", "Rate limited")),
    )
    anthropic.script("claude-sonnet-4-5", limited)
    async with client_for(tmp_path, config(anthropic)) as client:
        exc, _ = await failed_turn(client, "claude/claude-sonnet-4-5")
    assert isinstance(exc, E.RateLimitError)
    assert "Retry after 600 seconds" in str(exc)
    assert len(anthropic.requests_to("/v1/messages")) == 1


async def test_max_concurrency_caps_overlapping_streams(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    anthropic.script("claude-haiku-4-5", Script(text="a b c", hold_until_active=2))
    async with client_for(tmp_path, config(anthropic, max_concurrency="2")) as client:
        sessions = [await client.create_session(model="claude/claude-haiku-4-5") for _ in range(4)]
        replies = await asyncio.gather(*(s.send_and_wait("go", timeout=30) for s in sessions))
    assert [r.content for r in replies] == ["a b c"] * 4
    assert anthropic.max_active == 2


async def test_session_parameters_in_the_messages_body(
    anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    """Temperature and top_p as the Messages API names them; it has no seed, so none is sent."""
    text = config(anthropic) + "[params.claude]\ntemperature = 0.5\nseed = 9\n"
    async with client_for(tmp_path, text) as client:
        session = await client.create_session(
            model="claude/claude-sonnet-4-5", params={"top_p": 0.9, "max_tokens": 300}
        )
        await session.send_and_wait("hi", timeout=30)
    body = anthropic.requests_to("/v1/messages")[-1]["body"]
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "temperature": 0.5,
        "top_p": 0.9,
    }


async def test_an_image_is_a_base64_block(anthropic: FakeAnthropic, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 8
    (tmp_path / "a.png").write_bytes(png)
    async with client_for(tmp_path, config(anthropic)) as client:
        session = await client.create_session(model="claude/claude-sonnet-4-5")
        await session.send_and_wait("What is this?", attachments=[tmp_path / "a.png"], timeout=30)
    import base64

    data = base64.b64encode(png).decode()
    assert anthropic.requests_to("/v1/messages")[-1]["body"]["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": data},
                },
                {"type": "text", "text": "What is this?"},
            ],
        }
    ]
