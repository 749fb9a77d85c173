"""Files and streams the CLI writes or reads that are not what they should be: a full device,
a directory, a missing folder, a FIFO. Each is one sentence and an exit code, never a
traceback or a hang. The CLI runs as a real subprocess; its timeout only bounds a hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_tui.providers.copilot_auth import TOKEN_FILE_NAME
from copilot_tui.store import DB_NAME
from tests.servers.openai_server import FakeOpenAI, Script

FULL = "/dev/full"


def cli(
    config: Path, data: Path, *args: str, stdout: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot_tui.cli.main",
            "--config",
            str(config),
            "--data-dir",
            str(data),
            *args,
        ],
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def one_sentence(r: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert "Traceback" not in r.stderr and "Exception" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("copilot-tui: "), r.stderr
    for phrase in phrases:
        assert phrase in lines[0], r.stderr


@pytest.fixture
def with_session(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> str:
    fake.script("gpt-4o-mini", Script(text="a reply " * 2000))  # ~16 KB: more than one buffer
    assert cli(config_path, data_dir, "send", "--session", "s1", "hi").returncode == 0
    return "s1"


# -- writing ---------------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["md", "json"])
def test_export_to_unwritable_places(
    config_path: Path, data_dir: Path, tmp_path: Path, with_session: str, fmt: str
) -> None:
    for target, reason in (
        (FULL, "No space left"),
        (str(tmp_path), "directory"),
        ("/nonexistent/x.md", "No such file"),
    ):
        r = cli(
            config_path, data_dir, "sessions", "export", with_session, "--format", fmt, "-o", target
        )
        assert r.returncode == 1, (target, r.stderr)
        one_sentence(r, target, reason)


@pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["sessions", "export", "s1"],
        ["sessions", "list"],
        ["sessions", "show", "s1"],
        ["send", "--session", "s1", "more"],
        ["config", "show"],
        ["db", "path"],
    ],
)
def test_standard_output_on_a_full_device(
    config_path: Path, data_dir: Path, with_session: str, args: list[str]
) -> None:
    with open(FULL, "w") as full:
        r = cli(config_path, data_dir, *args, stdout=full.fileno())
    assert r.returncode == 1, r.stderr
    one_sentence(r, "standard output", "No space left")


def test_config_set_where_it_cannot_be_written(tmp_path: Path, data_dir: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    target = blocker / "config.toml"
    r = cli(target, data_dir, "config", "set", "default_model", "lab/x")
    assert r.returncode == 1
    one_sentence(r, str(target), "not a directory")


def test_db_move_aside_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from copilot_tui.cli.main import main

    (tmp_path / DB_NAME).write_text("corrupt")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied", str(src))

    monkeypatch.setattr(os, "replace", refuse)
    assert main(["db", "move-aside", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err and str(tmp_path / DB_NAME) in err


def test_db_move_aside_twice_in_one_second_keeps_both(tmp_path: Path) -> None:
    from copilot_tui.store import move_aside

    db = tmp_path / DB_NAME
    db.write_text("first")
    one = move_aside(db)
    db.write_text("second")
    two = move_aside(db)
    assert one != two and one.read_text() == "first" and two.read_text() == "second"


# -- reading: special files where regular ones belong ---------------------------------------


def special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"FIFO": fifo, "directory": folder, "character device": Path("/dev/zero")}


def test_config_that_is_a_special_file(tmp_path: Path, data_dir: Path) -> None:
    for kind, path in special_files(tmp_path).items():
        for args in (
            ["sessions", "list"],
            ["config", "show"],
            ["config", "set", "default_model", "lab/x"],
        ):
            r = cli(path, data_dir, *args)
            assert r.returncode == 2, (kind, args, r.stderr)
            one_sentence(r, str(path), kind)


def test_database_that_is_a_fifo(tmp_path: Path, config_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / DB_NAME)
    r = cli(config_path, data, "sessions", "list")
    assert r.returncode == 1
    one_sentence(r, str(data / DB_NAME), "FIFO")


def test_token_file_that_is_a_fifo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / TOKEN_FILE_NAME)
    config = tmp_path / "c.toml"
    config.write_text('[providers.gh]\ntype = "copilot"\n')
    r = cli(config, data, "models")
    assert "Traceback" not in r.stderr
    assert "FIFO" in r.stdout + r.stderr and str(data / TOKEN_FILE_NAME) in r.stdout + r.stderr
