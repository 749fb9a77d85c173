"""A data directory the user cannot write: every command and the terminal UI say so in one
sentence naming the directory, exit 1, and leave the database as it was.

Root ignores file permissions; as root the commands run without the capabilities that let it
(``setpriv``), so the permissions below apply to them as to anyone."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_tui.store import Store

DROP = "-dac_override,-dac_read_search"


def _as_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--bounding-set", DROP, "--inh-caps", DROP, *command]


@pytest.fixture(scope="module")
def permissions_apply() -> None:
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot apply")
        probe = subprocess.run(_as_user(["true"]), capture_output=True)
        if probe.returncode != 0:
            pytest.skip("running as root and capabilities cannot be dropped here")


def _lock(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _unlock(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(params=["with-database", "empty"])
def locked(
    request: pytest.FixtureRequest, tmp_path: Path, permissions_apply: None
) -> Iterator[Path]:
    """A data directory nobody may write: holding a database with one session, or empty."""
    data = tmp_path / "locked"
    if request.param == "with-database":
        store = Store(data)
        store.create_session("kept", "lab/gpt-4o-mini", title="kept as it was")
        store.close()
    else:
        data.mkdir()
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    _lock(data)
    try:
        yield data
    finally:
        _unlock(data)
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


@pytest.mark.parametrize(
    "args",
    [("sessions", "list"), ("send", "hello"), ("compare", "-m", "lab/a", "-m", "lab/b", "hi"), ()],
    ids=["sessions-list", "send", "compare", "tui"],
)
def test_one_sentence_naming_the_directory(
    locked: Path, config_path: Path, args: tuple[str, ...]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    command = [sys.executable, "-m", "copilot_tui.cli.main"]
    command += ["--config", str(config_path), "--data-dir", str(locked), *args]
    r = subprocess.run(
        _as_user(command),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 1 and r.stdout == ""
    [line] = r.stderr.splitlines()
    assert line.startswith("copilot-tui: ") and "Traceback" not in r.stderr
    assert str(locked) in line and ("read-only" in line or "writable" in line), line
