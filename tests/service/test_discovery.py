"""Discovery with no config file: which providers appear for each environment, and the default."""

from __future__ import annotations

import itertools
import os
import stat
from pathlib import Path

import pytest

from copilot_tui import CopilotClient
from copilot_tui.config import Config
from copilot_tui.providers.copilot_auth import save_github_token, token_path
from copilot_tui.service.discovery import (
    default_model,
    has_credentials,
    implicit_providers,
    readiness,
)
from copilot_tui.types import ModelInfo, ProviderStatus, Readiness

KEYS = ("copilot_login", "GITHUB_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def no_gh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


@pytest.mark.parametrize(
    "present", [c for n in range(len(KEYS) + 1) for c in itertools.combinations(KEYS, n)]
)
def test_each_combination(
    present: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_gh(monkeypatch, tmp_path)
    for key in KEYS[1:]:
        if key in present:
            monkeypatch.setenv(key, "x-test")
    if "copilot_login" in present:
        save_github_token(token_path(), "ghu_x")
    config = Config(path=tmp_path / "missing.toml")
    found = implicit_providers(config)
    assert set(found) == {"copilot", "github-models", "openai", "anthropic", "ollama", "local"}
    usable = {name for name in found if has_credentials(name)}
    expected = {"ollama", "local"}
    expected |= {"copilot"} if "copilot_login" in present else set()
    expected |= {"github-models"} if "GITHUB_TOKEN" in present else set()
    expected |= {"openai"} if "OPENAI_API_KEY" in present else set()
    expected |= {"anthropic"} if "ANTHROPIC_API_KEY" in present else set()
    assert usable == expected
    assert all(pc.implicit for pc in found.values())
    model = default_model(config, found)
    if "copilot_login" in present:
        assert model == "copilot/gpt-4.1"
    elif "OPENAI_API_KEY" in present:
        assert model == "openai/gpt-4o-mini"
    elif "ANTHROPIC_API_KEY" in present:
        assert model == "anthropic/claude-sonnet-4-5"
    elif "GITHUB_TOKEN" in present:
        assert model == "github-models/openai/gpt-4.1"
    else:
        assert model == "local/smollm2"


def test_gh_on_path_adds_github_models_without_running_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "gh-ran"
    gh = bin_dir / "gh"
    gh.write_text(f"#!/bin/sh\ntouch {marker}\necho tok\n")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    config = Config(path=tmp_path / "missing.toml")
    found = implicit_providers(config)
    assert has_credentials("github-models")
    assert default_model(config, found) == "local/smollm2"  # gh may not be logged in: not a default
    assert not marker.exists()  # start-up never runs gh


def test_a_config_with_providers_disables_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    from copilot_tui.config import parse_config

    config = parse_config(
        '[providers.lab]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n',
        tmp_path / "c.toml",
    )
    assert implicit_providers(config) == {}


async def test_statuses_explain_each_unusable_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    no_gh(monkeypatch, tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    save_github_token(token_path(), "ghu_x")
    token_path().unlink()  # logged out again: copilot is not discovered
    async with CopilotClient(data_dir=tmp_path / "data") as client:
        assert client.default_model == "local/smollm2"
        statuses = {s.name: s for s in await client.provider_statuses(refresh=True)}
    assert statuses["copilot"].reason == "not logged in"
    assert statuses["copilot"].fix == "run: copilot-tui login copilot"
    assert statuses["anthropic"].reason == "no API key (ANTHROPIC_API_KEY is not set)"
    assert "GITHUB_TOKEN" in (statuses["github-models"].reason or "")
    assert "OPENAI_API_KEY" in (statuses["openai"].reason or "")
    ollama = statuses["ollama"]
    assert not ollama.usable and ollama.reason == f"not reachable at http://127.0.0.1:{port}"
    assert ollama.fix
    assert not any(
        statuses[n].usable for n in ("copilot", "anthropic", "github-models", "openai", "ollama")
    )


async def test_an_answering_ollama_becomes_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers.ollama_server import FakeOllama

    no_gh(monkeypatch, tmp_path)
    with FakeOllama() as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        async with CopilotClient(data_dir=tmp_path / "data") as client:
            assert client.default_model == "local/smollm2"  # start-up does not wait for the network
            statuses = {s.name: s for s in await client.provider_statuses()}
            assert statuses["ollama"].usable
            assert client.default_model == "ollama/llama3.2:latest"
            session = await client.create_session()
            assert session.model == "ollama/llama3.2:latest"


def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key, no login, no gh, no Ollama listening."""
    import socket

    no_gh(monkeypatch, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")


def fresh_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline, and no local engine either."""
    import importlib.util

    offline(monkeypatch, tmp_path)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xllamacpp" else real(name, *a),
    )


HINTS = ("pip install", "export ", "login copilot", "ollama serve", "gh auth login", "https://")


async def test_a_fresh_machine_says_each_fix_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from copilot_tui.cli.models import _models

    fresh_machine(monkeypatch, tmp_path)
    async with CopilotClient(data_dir=tmp_path / "data") as client:
        statuses = await client.provider_statuses(refresh=True)
        await _models(client, argparse.Namespace(json=False))
    assert [s.name for s in statuses if s.usable] == []
    for status in statuses:
        assert status.reason and status.fix, status
        assert status.fix not in status.reason
        for hint in HINTS:
            assert f"{status.reason} {status.fix}".count(hint) <= 1, (hint, status)
    local = next(s for s in statuses if s.name == "local")
    assert local.fix == "pip install xllamacpp==2026.10.11549" and "pip install" not in (
        local.reason or ""
    )
    out = capsys.readouterr().out
    assert out.count("pip install xllamacpp==2026.10.11549") == 1
    assert (
        out.count("export OPENAI_API_KEY=") == 1 and out.count("OPENAI_API_KEY") == 2
    )  # the reason names it, the fix sets it
    assert out.count("copilot-tui login copilot") == 1
    assert out.count("ollama serve") == 1


async def _watch(client: CopilotClient) -> list[Readiness]:
    return [r async for r in client.watch_readiness()]


async def test_a_fresh_machine_offers_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_machine(monkeypatch, tmp_path)
    async with CopilotClient(data_dir=tmp_path / "data") as client:
        assert client.default_model is None  # nothing to guess from without the network
        seen = await _watch(client)
    first, last = seen[0], seen[-1]
    assert first.model is None and first.checking and len(first.waiting_for) == 6
    assert last.model is None and not last.checking
    assert [s.name for s in last.unusable] == [
        "copilot",
        "github-models",
        "openai",
        "anthropic",
        "ollama",
        "local",
    ]
    assert all(s.fix for s in last.unusable)


async def test_the_local_model_is_offered_once_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xllamacpp")
    offline(monkeypatch, tmp_path)
    from copilot_tui.service.discovery import bundled_smollm2

    if bundled_smollm2() is None:
        pytest.skip("the bundled SmolLM2 is not installed")
    async with CopilotClient(data_dir=tmp_path / "data") as client:
        seen = await _watch(client)
        assert client.default_model == "local/smollm2"
    assert seen[0] == Readiness("local/smollm2", confirmed=False, waiting_for=seen[0].waiting_for)
    assert seen[-1].model == "local/smollm2" and seen[-1].confirmed and not seen[-1].checking
    assert "local" not in [s.name for s in seen[-1].unusable]


def _status(name: str, usable: bool, *models: str) -> ProviderStatus:
    infos = [ModelInfo(id=f"{name}/{m}", name=m, provider=name) for m in models]
    return ProviderStatus(
        name,
        name,
        usable,
        reason=None if usable else "down",
        fix=None if usable else "fix it",
        models=infos,
    )


def test_readiness_waits_for_better_providers_and_never_offers_a_dead_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_gh(monkeypatch, tmp_path)
    save_github_token(token_path(), "ghu_x")
    config = Config(path=tmp_path / "missing.toml")
    found = implicit_providers(config)
    # a saved Copilot login is offered while it is checked, even when the local model already answered
    early = readiness(config, found, {"local": _status("local", True, "smollm2")})
    assert (
        early.model == "copilot/gpt-4.1" and not early.confirmed and "copilot" in early.waiting_for
    )
    # refused: the next provider that answers takes over, confirmed once every better one answered
    statuses = {n: _status(n, False) for n in ("copilot", "github-models", "openai", "anthropic")}
    statuses["local"] = _status("local", True, "smollm2")
    waiting = readiness(config, found, statuses)
    assert waiting.model == "local/smollm2" and waiting.waiting_for == ("ollama",)
    statuses["ollama"] = _status("ollama", True, "llama3.2:latest")
    assert readiness(config, found, statuses) == Readiness(
        "ollama/llama3.2:latest",
        confirmed=True,
        unusable=tuple(statuses[n] for n in ("copilot", "github-models", "openai", "anthropic")),
    )


def test_a_configured_default_that_cannot_answer_is_not_offered(tmp_path: Path) -> None:
    from copilot_tui.config import parse_config

    config = parse_config(
        'default_model = "lab/gpt-4o-mini"\n[providers.lab]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        '[providers.other]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n',
        tmp_path / "c.toml",
    )
    providers = dict(config.providers)
    assert readiness(config, providers, {}) == Readiness(
        "lab/gpt-4o-mini", waiting_for=("lab",), configured="lab/gpt-4o-mini"
    )
    lab, other = _status("lab", False), _status("other", True, "x")
    assert readiness(config, providers, {"lab": lab, "other": other}) == Readiness(
        unusable=(lab,), configured="lab/gpt-4o-mini"
    )
