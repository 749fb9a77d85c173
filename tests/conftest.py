"""Shared fixtures: a real fake OpenAI server, an isolated config and data dir, a started client."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from copilot_tui import CopilotClient
from tests.servers.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _collect_once_at_the_end() -> Iterator[None]:
    """The apps of a run leave a lot of cyclic garbage that no automatic collection reaches.
    pytest collects five times when it ends, each walking every object still alive: seconds
    of exit, past the 5 s after which pytest-xdist interrupts a worker. Collect once here
    (unraisable exceptions are still reported) and freeze what is left for the rest of the exit."""
    yield
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the user's real config, data or keys."""
    for var in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "OLLAMA_HOST",
        "LAB_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COPILOT_TUI_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("COPILOT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    # subprocesses (CLI, kill tests) run this checkout's code too, not whatever pip installed
    paths = [str(ROOT / "tui"), str(ROOT)] + [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry waits a hundredth as long, for tests of what a retried request ends as; the waits
    themselves are checked in test_service."""
    from copilot_tui.service.turn import Turn

    real = Turn.retry_wait

    def quick(exc: Exception, attempt: int, has_text: bool) -> float | None:
        wait = real(exc, attempt, has_text)
        return None if wait is None else wait / 100

    monkeypatch.setattr(Turn, "retry_wait", staticmethod(quick))


@pytest.fixture(scope="session")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.reset()
    yield server
    server.reset()


def write_config(path: Path, base_url: str, **extra: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        'default_model = "lab/gpt-4o-mini"',
        "[providers.lab]",
        'type = "openai"',
        f'base_url = "{base_url}"',
        'api_key_env = "LAB_API_KEY"',
    ]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def config_path(tmp_path: Path, fake: FakeOpenAI) -> Path:
    return write_config(tmp_path / "cfg" / "config.toml", fake.base_url)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def client(config_path: Path, data_dir: Path) -> AsyncIterator[CopilotClient]:
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as c:
        yield c


def kill_once_partly_saved(
    proc: subprocess.Popen[str], data_dir: Path, session_ids: list[str], timeout: float = 30
) -> None:
    """SIGKILL ``proc`` once every session's reply has been saved part-way (a flush a second)."""
    from copilot_tui.store import Store

    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            store = Store(data_dir)
            partial = [
                m
                for sid in session_ids
                for m in store.get_messages(sid)
                if m.role == "assistant" and m.content
            ]
            store.close()
            if len(partial) == len(session_ids):
                break
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
