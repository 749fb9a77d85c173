"""The CLI writing into a pipe whose reader has gone (``| head -c1``): no traceback, nothing to
say (the reader chose to stop), exit status 1, and a reply that was streaming is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_tui.store import Store
from tests.servers.openai_server import FakeOpenAI, Script


def _cli(config: Path, data: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "copilot_tui.cli.main",
        "--config",
        str(config),
        "--data-dir",
        str(data),
        *args,
    ]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}


def into_closed_pipe(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with its standard output a pipe nobody reads any more."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            command, stdout=write_end, stderr=subprocess.PIPE, text=True, env=_env(), timeout=60
        )
    finally:
        os.close(write_end)


def through_head(command: list[str]) -> subprocess.CompletedProcess[str]:
    """``command | head -c1`` in a shell that reports the command's own exit status."""
    line = " ".join(f"'{part}'" for part in command) + " | head -c1 > /dev/null"
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {line}"],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        timeout=60,
    )


def _sessions(data: Path, count: int) -> None:
    store = Store(data)
    try:
        for i in range(count):
            store.create_session(f"s{i}", "lab/gpt-4o-mini", title=f"conversation number {i}")
    finally:
        store.close()


def _replies(data: Path) -> list[tuple[str, str]]:
    store = Store(data)
    try:
        return [
            (m.status, m.content)
            for info in store.list_sessions()
            for m in store.get_messages(info.session_id)
            if m.role == "assistant"
        ]
    finally:
        store.close()


@pytest.mark.parametrize(
    "args", [("sessions", "list"), ("sessions", "list", "--json"), ("models",)]
)
def test_listing_into_a_closed_pipe(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, args: tuple[str, ...]
) -> None:
    _sessions(data_dir, 3)
    r = into_closed_pipe(_cli(config_path, data_dir, *args))
    assert r.returncode == 1 and r.stderr == ""


def test_sessions_list_through_head(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    _sessions(data_dir, 1500)  # ~100 KB of lines: more than the pipe holds once head is gone
    r = through_head(_cli(config_path, data_dir, "sessions", "list"))
    assert r.returncode == 1 and r.stderr == ""


def test_send_into_a_closed_pipe_keeps_the_reply(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(chunks=["first ", "second ", "third"]))
    r = into_closed_pipe(_cli(config_path, data_dir, "send", "hello"))
    assert r.returncode == 1 and r.stderr == ""
    [(status, content)] = _replies(data_dir)
    # the first piece could not be written: the turn stopped there, what arrived is kept
    assert status in ("aborted", "complete") and content.startswith("first ")


def test_send_of_a_long_reply_through_head(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    big = "0123456789abcdef" * 16384  # 256 KiB a piece: far more than the pipe holds
    fake.script("gpt-4o-mini", Script(chunks=[big, big, big, big]))
    r = through_head(_cli(config_path, data_dir, "send", "hello"))
    assert r.returncode == 1 and r.stderr == ""
    [(status, content)] = _replies(data_dir)
    assert status in ("aborted", "complete") and content.startswith(big)
