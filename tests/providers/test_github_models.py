"""The github-models provider against a fake models.github.ai."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_tui import errors as E
from tests.provider_support import client_for, failed_turn, turn
from tests.servers.base import Script
from tests.servers.github_models_server import TOKEN, FakeGitHubModels, rate_limit


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGitHubModels]:
    with FakeGitHubModels() as fake:
        yield fake


@pytest.fixture
def gh_models(server: FakeGitHubModels, monkeypatch: pytest.MonkeyPatch) -> FakeGitHubModels:
    server.reset()
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return server


def config(fake: FakeGitHubModels, **extra: str) -> str:
    lines = ["[providers.ghm]", 'type = "github-models"', f'base_url = "{fake.url}"']
    return "\n".join(lines + [f"{k} = {v}" for k, v in extra.items()]) + "\n"


def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    """A ``gh`` on PATH that prints a token, like ``gh auth token`` does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo "{token}" && exit 0\nexit 1\n')
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


async def test_streamed_reply_with_github_headers(
    gh_models: FakeGitHubModels, tmp_path: Path
) -> None:
    async with client_for(tmp_path, config(gh_models)) as client:
        msg = await turn(client, "ghm/openai/gpt-4.1", "hi")
    assert msg.content == "Echo: hi" and msg.status == "complete"
    assert msg.stats.output_tokens == 2
    req = gh_models.requests_to("/inference/chat/completions")[-1]
    assert req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert req["headers"]["Accept"] == "application/vnd.github+json"
    assert req["headers"]["X-GitHub-Api-Version"] == "2022-11-28"


async def test_catalog_is_a_bare_array(gh_models: FakeGitHubModels, tmp_path: Path) -> None:
    async with client_for(tmp_path, config(gh_models)) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert status.usable
    assert [m.id for m in status.models] == [
        "ghm/openai/gpt-4.1",
        "ghm/meta/llama-3.3-70b-instruct",
    ]
    assert (
        status.models[0].context_window == 1048576 and status.models[0].max_output_tokens == 32768
    )


async def test_token_from_gh_auth_token(
    gh_models: FakeGitHubModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    fake_gh(tmp_path, monkeypatch, TOKEN)
    async with client_for(tmp_path, config(gh_models)) as client:
        msg = await turn(client, "ghm/openai/gpt-4.1", "via gh")
    assert msg.content == "Echo: via gh"


async def test_no_token_status(
    gh_models: FakeGitHubModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    async with client_for(tmp_path, config(gh_models)) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert not status.usable
    assert "GITHUB_TOKEN" in (status.reason or "") and "gh auth login" in (status.fix or "")


async def test_per_minute_limit_waits_and_retries(
    gh_models: FakeGitHubModels, tmp_path: Path
) -> None:
    gh_models.script("openai/gpt-4.1", rate_limit("minute", 1), Script(text="after a minute"))
    async with client_for(tmp_path, config(gh_models)) as client:
        msg = await turn(client, "ghm/openai/gpt-4.1")
    assert msg.content == "after a minute"
    assert len(gh_models.requests_to("/inference/chat/completions")) == 2


async def test_per_minute_limit_with_long_wait_is_shown_as_such(
    gh_models: FakeGitHubModels, tmp_path: Path
) -> None:
    gh_models.script("openai/gpt-4.1", rate_limit("minute", 46))
    async with client_for(tmp_path, config(gh_models)) as client:
        exc, _ = await failed_turn(client, "ghm/openai/gpt-4.1")
    assert isinstance(exc, E.RateLimitError) and exc.retry_after == 46
    assert "per minute" in str(exc) and "46 seconds" in str(exc)


async def test_per_day_limit_is_not_retried(gh_models: FakeGitHubModels, tmp_path: Path) -> None:
    gh_models.script("openai/gpt-4.1", rate_limit("day", 11000), Script(text="never"))
    async with client_for(tmp_path, config(gh_models)) as client:
        exc, _ = await failed_turn(client, "ghm/openai/gpt-4.1")
    assert isinstance(exc, E.QuotaExceeded) and not exc.retryable
    assert "per day" in str(exc) and "daily" in str(exc)
    assert len(gh_models.requests_to("/inference/chat/completions")) == 1


async def test_bad_token(
    gh_models: FakeGitHubModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "nope")
    async with client_for(tmp_path, config(gh_models)) as client:
        (status,) = await client.provider_statuses(refresh=True)
    assert not status.usable and "401" in (status.reason or "")
    assert "models: read" in (status.fix or "")


async def test_session_parameters_in_the_chat_body(
    gh_models: FakeGitHubModels, tmp_path: Path
) -> None:
    async with client_for(tmp_path, config(gh_models)) as client:
        session = await client.create_session(
            model="ghm/openai/gpt-4.1",
            params={"temperature": 0, "top_p": 1, "seed": 7, "max_tokens": 100},
        )
        await session.send_and_wait("hi", timeout=30)
    body = gh_models.requests_to("/inference/chat/completions")[-1]["body"]
    assert body == {
        "model": "openai/gpt-4.1",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 100,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 7,
    }
