"""The copilot provider against a fake GitHub + Copilot API: exchange, catalog, routing, errors."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot_tui import errors as E
from copilot_tui.providers.copilot_auth import (
    CopilotTokenManager,
    LoginError,
    poll_for_token,
    refresh_time,
    request_device_code,
    save_github_token,
    token_path,
)
from tests.provider_support import client_for, failed_turn, turn
from tests.servers.base import Script
from tests.servers.copilot_server import GITHUB_TOKEN, USER_CODE, FakeCopilot, copilot_error


@pytest.fixture(scope="module")
def server() -> Iterator[FakeCopilot]:
    with FakeCopilot() as fake:
        yield fake


@pytest.fixture
def copilot(server: FakeCopilot) -> FakeCopilot:
    server.reset()
    save_github_token(token_path(), GITHUB_TOKEN)  # the saved login, in the isolated data dir
    return server


def chat_requests(fake: FakeCopilot) -> list[dict]:
    return fake.requests_to("/chat/completions")


async def test_streamed_reply_with_azure_quirks_and_headers(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    copilot.script("gpt-4.1", Script(text="Hi from Copilot ✓", quirks=True, ping=True))
    async with client_for(tmp_path, copilot.config()) as client:
        msg = await turn(client, "copilot/gpt-4.1")
    assert msg.content == "Hi from Copilot ✓"
    assert msg.status == "complete"
    assert msg.stats.output_tokens == 4 and msg.stats.input_tokens == 9
    exchange = copilot.requests_to("/copilot_internal/v2/token")[0]
    assert exchange["headers"]["Authorization"] == f"token {GITHUB_TOKEN}"
    req = chat_requests(copilot)[-1]
    h = req["headers"]
    assert h["Authorization"].startswith("Bearer tid=fake")
    assert h["Copilot-Integration-Id"] == "vscode-chat"
    assert h["Editor-Version"].startswith("vscode/") and h["Editor-Plugin-Version"].startswith(
        "copilot-chat/"
    )
    assert h["X-Initiator"] == "user" and h["Openai-Intent"] == "conversation-panel"
    assert h["X-GitHub-Api-Version"] == "2025-04-01" and h["Accept"] == "text/event-stream"
    assert req["body"]["stream"] is True and req["body"]["model"] == "gpt-4.1"


async def test_request_ids_are_fresh(copilot: FakeCopilot, tmp_path: Path) -> None:
    async with client_for(tmp_path, copilot.config()) as client:
        await turn(client, "copilot/gpt-4.1")
        await turn(client, "copilot/gpt-4o")
    ids = [r["headers"]["X-Request-Id"] for r in chat_requests(copilot)]
    assert len(ids) == 2 and len(set(ids)) == 2


async def test_catalog_filter_limits_and_routing_flags(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    async with client_for(tmp_path, copilot.config()) as client:
        (status,) = await client.provider_statuses(refresh=True)
        offered = await client.list_models()
    assert status.usable
    by_id = {m.model: m for m in status.models}
    assert list(by_id) == [
        "gpt-4.1",
        "gpt-4o",
        "claude-sonnet-4.5",
        "gpt-5-codex",
        "gemini-2.5-pro",
    ]
    assert by_id["gpt-4.1"].context_window == 128000 and by_id["gpt-4.1"].max_output_tokens == 16384
    assert not by_id["gpt-5-codex"].supported and "/responses" in (by_id["gpt-5-codex"].note or "")
    assert not by_id["gemini-2.5-pro"].supported and "requires_consent" in (
        by_id["gemini-2.5-pro"].note or ""
    )
    assert [m.model for m in offered] == ["gpt-4.1", "gpt-4o", "claude-sonnet-4.5"]


async def test_claude_is_routed_to_v1_messages(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.script("claude-sonnet-4.5", Script(text="Claude via Copilot", ping=True))
    async with client_for(tmp_path, copilot.config()) as client:
        session = await client.create_session(
            model="copilot/claude-sonnet-4.5", system_message="Be brief."
        )
        msg = await session.send_and_wait("hello", timeout=30)
    assert msg.content == "Claude via Copilot"
    assert chat_requests(copilot) == []
    req = copilot.requests_to("/v1/messages")[-1]
    assert req["body"]["system"] == "Be brief." and req["body"]["max_tokens"] == 16384
    assert req["headers"]["Authorization"].startswith("Bearer tid=fake")


async def test_responses_only_model_is_refused_without_a_request(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    async with client_for(tmp_path, copilot.config()) as client:
        exc, _ = await failed_turn(client, "copilot/gpt-5-codex")
    assert exc.code == "unsupported_api_for_model"
    assert "/responses" in str(exc)
    assert chat_requests(copilot) == [] and copilot.requests_to("/v1/messages") == []


async def test_model_not_supported(copilot: FakeCopilot, tmp_path: Path) -> None:
    async with client_for(tmp_path, copilot.config(models=["gpt-9"])) as client:
        exc, _ = await failed_turn(client, "copilot/gpt-9")
    assert isinstance(exc, E.ModelNotFound) and exc.code == "model_not_supported"
    assert "does not offer 'gpt-9'" in str(exc)


async def test_unsupported_api_for_model_from_the_service(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    async with client_for(tmp_path, copilot.config(models=["claude-sonnet-4.5"])) as client:
        exc, _ = await failed_turn(client, "copilot/claude-sonnet-4.5")
    assert exc.code == "unsupported_api_for_model"
    assert "/chat/completions" in str(exc)


async def test_no_available_model_endpoints(copilot: FakeCopilot, tmp_path: Path) -> None:
    body = json.dumps(
        {
            "message": "no endpoints available for this model under your current plan and policies",
            "code": "no_available_model_endpoints",
        }
    )
    copilot.script("gpt-4o", Script(status=400, error_body=body))
    async with client_for(tmp_path, copilot.config()) as client:
        exc, _ = await failed_turn(client, "copilot/gpt-4o")
    assert exc.code == "no_available_model_endpoints"
    assert "current plan and policies" in str(exc)


async def test_rate_limited_with_long_wait_is_a_clear_error(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    body = copilot_error(
        "Sorry, you have been rate-limited. Please retry after 2733 seconds.",
        "rate_limited",
        "rate_limit",
    )
    copilot.script("gpt-4.1", Script(status=429, error_body=body))
    async with client_for(tmp_path, copilot.config()) as client:
        exc, _ = await failed_turn(client, "copilot/gpt-4.1")
    assert isinstance(exc, E.RateLimitError) and exc.retry_after == 2733
    assert "retry after 2733 seconds" in str(exc).lower()
    assert len(chat_requests(copilot)) == 1


async def test_weekly_rate_limit_is_never_retried(copilot: FakeCopilot, tmp_path: Path) -> None:
    body = copilot_error(
        "You've reached your weekly rate limit. Please retry after 5 seconds.",
        "user_weekly_rate_limited",
    )
    copilot.script(
        "gpt-4.1", Script(status=429, error_body=body), Script(text="should not be reached")
    )
    async with client_for(tmp_path, copilot.config()) as client:
        exc, _ = await failed_turn(client, "copilot/gpt-4.1")
    assert not exc.retryable and "weekly" in str(exc)
    assert len(chat_requests(copilot)) == 1


@pytest.mark.usefixtures("quick_retries")
async def test_429_with_retry_after_1_then_success(copilot: FakeCopilot, tmp_path: Path) -> None:
    limited = Script(
        status=429,
        headers={"Retry-After": "1"},
        error_body=copilot_error("rate limited", "rate_limited"),
    )
    copilot.script("gpt-4.1", limited, Script(text="after the wait"))
    async with client_for(tmp_path, copilot.config()) as client:
        msg = await turn(client, "copilot/gpt-4.1")
    assert msg.content == "after the wait"
    assert len(chat_requests(copilot)) == 2


async def test_429_without_a_wait_is_not_hammered(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.script(
        "gpt-4.1",
        Script(status=429, error_body=copilot_error("Too many requests", "rate_limited")),
        Script(),
    )
    async with client_for(tmp_path, copilot.config()) as client:
        exc, _ = await failed_turn(client, "copilot/gpt-4.1")
    assert isinstance(exc, E.RateLimitError)
    assert len(chat_requests(copilot)) == 1


@pytest.mark.usefixtures("quick_retries")
async def test_503_then_success(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.script(
        "gpt-4.1",
        Script(status=503, error_body="upstream unavailable", content_type="text/plain"),
        Script(text="ok"),
    )
    async with client_for(tmp_path, copilot.config()) as client:
        msg = await turn(client, "copilot/gpt-4.1")
    assert msg.content == "ok"


async def test_error_chunk_mid_stream_keeps_partial_text(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    copilot.script("gpt-4.1", Script(text="one two three", error_at=2, quirks=True))
    async with client_for(tmp_path, copilot.config()) as client:
        exc, reply = await failed_turn(client, "copilot/gpt-4.1")
    assert "upstream model error" in str(exc)
    assert reply.content == "one two" and reply.status == "error"
    assert len(chat_requests(copilot)) == 1


async def test_no_copilot_access_on_exchange(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.no_access = True
    async with client_for(tmp_path, copilot.config()) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert not status.usable
    assert "no copilot access for this account or token" in (status.reason or "").lower()
    assert "Resource not accessible by personal access token" in (status.reason or "")
    said = f"{status.reason} {status.fix or ''}"
    assert (
        said.count("github.com/settings/copilot") == 1 and said.count("login copilot") == 1
    )  # each fix once


async def test_not_logged_in(copilot: FakeCopilot, tmp_path: Path) -> None:
    token_path().unlink()
    async with client_for(tmp_path, copilot.config()) as client:
        (status,) = await client.provider_statuses(refresh=True)
        exc, _ = await failed_turn(client, "copilot/gpt-4.1")
    assert not status.usable and status.reason == "not logged in"
    assert status.fix == "run: copilot-tui login copilot"
    assert isinstance(exc, E.ProviderUnavailable) and "login copilot" in str(exc)


async def test_401_mid_session_one_shared_refresh_for_two_sessions(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    copilot.script("gpt-4.1", Script(text="fresh token works", hold_until_active=2))
    async with client_for(tmp_path, copilot.config()) as client:
        a = await client.create_session(model="copilot/gpt-4.1")
        b = await client.create_session(model="copilot/gpt-4.1")
        assert copilot.exchanges == 1
        copilot.expire_issued()  # the service now answers 401 "token expired" to the first token
        replies = await asyncio.gather(
            a.send_and_wait("x", timeout=30), b.send_and_wait("y", timeout=30)
        )
    assert [r.content for r in replies] == ["fresh token works"] * 2
    assert copilot.exchanges == 2
    tokens = [r["copilot_token"] for r in chat_requests(copilot)]
    # each session retried once with the one fresh token (their order on the wire may interleave)
    assert sorted(tokens) == sorted([copilot.issued[0]] * 2 + [copilot.issued[1]] * 2)


async def test_timed_refresh_is_shared_by_concurrent_sessions(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    copilot.script("gpt-4.1", Script(text="ok", hold_until_active=2))
    async with client_for(tmp_path, copilot.config()) as client:
        a = await client.create_session(model="copilot/gpt-4.1")
        b = await client.create_session(model="copilot/gpt-4.1")
        provider = client.provider("copilot")
        provider.auth.clock = lambda: time.time() + 1500  # past refresh_in - 60
        await asyncio.gather(a.send_and_wait("x", timeout=30), b.send_and_wait("y", timeout=30))
    assert copilot.exchanges == 2
    assert copilot.max_active == 2


async def test_default_max_concurrency_is_low(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.script("gpt-4.1", Script(text="a b", hold_until_active=2))
    async with client_for(tmp_path, copilot.config()) as client:
        assert client.provider("copilot").max_concurrency == 2
        sessions = [await client.create_session(model="copilot/gpt-4.1") for _ in range(5)]
        replies = await asyncio.gather(*(s.send_and_wait("go", timeout=30) for s in sessions))
    assert {r.content for r in replies} == {"a b"}
    assert copilot.max_active == 2


def test_refresh_time_takes_the_earlier_rule() -> None:
    assert refresh_time(1000, 1000 + 1800, 1500) == 1000 + 1440  # refresh_in - 60
    assert refresh_time(1000, 1000 + 600, 1500) == 1000 + 300  # expires_at - 300
    assert refresh_time(1000, 1000 + 1800, None) == 1000 + 1500


async def test_token_manager_concurrent_callers_share_one_exchange(copilot: FakeCopilot) -> None:
    async with httpx.AsyncClient() as http:
        manager = CopilotTokenManager(
            http, lambda: GITHUB_TOKEN, token_url=f"{copilot.url}/copilot_internal/v2/token"
        )
        tokens = await asyncio.gather(*(manager.get() for _ in range(8)))
        assert len({t.token for t in tokens}) == 1 and copilot.exchanges == 1
        assert tokens[0].api_url == copilot.url
        stale = tokens[0]
        fresh = await asyncio.gather(*(manager.refresh(stale) for _ in range(5)))
    assert len({t.token for t in fresh}) == 1 and copilot.exchanges == 2


async def test_device_flow_honours_interval_and_slow_down(copilot: FakeCopilot) -> None:
    copilot.interval = 5
    copilot.approve({"error": "authorization_pending"}, {"error": "slow_down", "interval": 10})
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with httpx.AsyncClient() as http:
        code = await request_device_code(http, github_url=copilot.url)
        assert code.user_code == USER_CODE and code.interval == 5
        token = await poll_for_token(http, code, github_url=copilot.url, sleep=fake_sleep)
    assert token == GITHUB_TOKEN
    assert sleeps == [5, 5, 10]
    body = copilot.requests_to("/login/oauth/access_token")[0]["body"]
    assert body["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"error": "expired_token"}, "expired"),
        ({"error": "access_denied"}, "declined"),
    ],
)
async def test_device_flow_failures(copilot: FakeCopilot, answer: dict, words: str) -> None:
    copilot.poll_answers = [{"error": "authorization_pending"}, answer]

    async def no_sleep(seconds: float) -> None:
        return None

    async with httpx.AsyncClient() as http:
        code = await request_device_code(http, github_url=copilot.url)
        with pytest.raises(LoginError, match=words):
            await poll_for_token(http, code, github_url=copilot.url, sleep=no_sleep)


async def test_session_parameters_on_both_routes(copilot: FakeCopilot, tmp_path: Path) -> None:
    """Copilot's chat API takes temperature and top_p, not a seed; Claude's route the same."""
    params = {"temperature": 0.2, "top_p": 0.7, "seed": 3}
    async with client_for(tmp_path, copilot.config()) as client:
        gpt = await client.create_session(model="copilot/gpt-4.1", params=params)
        await gpt.send_and_wait("hi", timeout=30)
        claude = await client.create_session(model="copilot/claude-sonnet-4.5", params=params)
        await claude.send_and_wait("hi", timeout=30)
    assert chat_requests(copilot)[-1]["body"] == {
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "n": 1,
        "temperature": 0.2,
        "top_p": 0.7,
    }
    assert copilot.requests_to("/v1/messages")[-1]["body"] == {
        "model": "claude-sonnet-4.5",
        "max_tokens": 16384,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "temperature": 0.2,
        "top_p": 0.7,
    }


async def test_an_image_is_an_image_url_part_with_the_vision_header(
    copilot: FakeCopilot, tmp_path: Path
) -> None:
    import base64

    gif = b"GIF89a" + b"\x00" * 6
    (tmp_path / "a.gif").write_bytes(gif)
    async with client_for(tmp_path, copilot.config()) as client:
        session = await client.create_session(model="copilot/gpt-4.1")
        await session.send_and_wait("What is it?", attachments=[tmp_path / "a.gif"], timeout=30)
    req = chat_requests(copilot)[-1]
    assert req["headers"]["Copilot-Vision-Request"] == "true"
    url = "data:image/gif;base64," + base64.b64encode(gif).decode()
    assert req["body"]["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is it?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]
