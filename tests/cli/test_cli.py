"""The CLI through a real subprocess against the fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.openai_server import FakeOpenAI, Script


def run(
    config: Path, data: Path, *args: str, stdin: str | None = None
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
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_send_creates_and_follows_up(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    r = run(config_path, data_dir, "send", "--session", "user-123-chat", "How do I init?")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: How do I init?\n"
    r = run(config_path, data_dir, "send", "--session", "user-123-chat", "-", stdin="from stdin\n")
    assert r.stdout == "Echo: from stdin\n"
    assert fake.requests_for("gpt-4o-mini")[-1]["body"]["messages"][:2] == [
        {"role": "user", "content": "How do I init?"},
        {"role": "assistant", "content": "Echo: How do I init?"},
    ]
    r = run(config_path, data_dir, "send", "no session given")
    assert r.returncode == 0 and "session: " in r.stderr


def test_send_to_a_new_custom_id_says_it_created_one(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    r = run(config_path, data_dir, "send", "--session", "user-124-chat", "hi")
    assert (
        r.returncode == 0 and r.stdout == "Echo: hi\n"
    )  # scripts rely on it: the recipe's custom id
    assert (
        r.stderr
        == "copilot-tui: note: no session 'user-124-chat' yet, so it was created (on lab/gpt-4o-mini)\n"
    )
    r = run(config_path, data_dir, "send", "--session", "user-124-chat", "again")
    assert r.returncode == 0 and r.stderr == ""  # an existing one continues quietly


def test_a_failed_send_writes_nothing_to_stdout(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    r = run(config_path, data_dir, "send", "--model", "lab/fail", "hi")
    assert r.returncode == 1 and r.stdout == "" and "server error (500" in r.stderr


def test_sessions_commands(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    run(config_path, data_dir, "send", "--session", "a1", "--model", "lab/other", "first question")
    r = run(config_path, data_dir, "sessions", "list", "--json")
    [info] = json.loads(r.stdout)
    assert (
        info["session_id"] == "a1" and info["model"] == "lab/other" and info["message_count"] == 2
    )
    assert "first question" in run(config_path, data_dir, "sessions", "list").stdout
    shown = run(config_path, data_dir, "sessions", "show", "a1").stdout
    assert "[user]\nfirst question" in shown and "[assistant]\nEcho: first question" in shown
    r = run(config_path, data_dir, "sessions", "rename", "a1", "Renamed")
    assert r.returncode == 0 and r.stdout == "Renamed session a1 to 'Renamed'.\n"
    assert (
        run(config_path, data_dir, "sessions").stdout
        == run(config_path, data_dir, "sessions", "list").stdout
    )
    md = run(config_path, data_dir, "sessions", "export", "a1", "--format", "md").stdout
    assert md.startswith("# Renamed") and "Echo: first question" in md
    doc = json.loads(
        run(config_path, data_dir, "sessions", "export", "a1", "--format", "json").stdout
    )
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant"]
    assert run(config_path, data_dir, "sessions", "delete", "a1").returncode == 0
    r = run(config_path, data_dir, "sessions", "show", "a1")
    assert r.returncode == 1 and r.stderr.strip() == "copilot-tui: No session with id 'a1'."


def test_models_and_config(config_path: Path, data_dir: Path, tmp_path: Path) -> None:
    r = run(config_path, data_dir, "models")
    assert "lab/gpt-4o-mini (default)" in r.stdout
    doc = json.loads(run(config_path, data_dir, "models", "--json").stdout)
    assert doc["providers"][0]["usable"] is True
    assert run(config_path, data_dir, "config", "path").stdout.strip() == str(config_path)
    assert (
        run(config_path, data_dir, "config", "set", "providers.lab.max_concurrency", "2").returncode
        == 0
    )
    assert "max_concurrency = 2" in run(config_path, data_dir, "config", "show").stdout


def test_config_show_without_a_file_shows_the_defaults_in_effect(
    tmp_path: Path, data_dir: Path
) -> None:
    missing = tmp_path / "none" / "config.toml"
    r = run(missing, data_dir, "config", "show")
    assert r.returncode == 0 and r.stdout.startswith(
        f"# {missing} does not exist: these defaults are in use\n"
    )
    assert '[providers.openai]\ntype = "openai"' in r.stdout and not missing.exists()


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["send", "--model", "lab/fail", "hi"], 1, "server error (500"),
        (["send", "--model", "nope/x", "hi"], 1, "Unknown provider 'nope'"),
        (["send", "--session", "bad id", "hi"], 2, "Invalid session id"),
        (["sessions", "delete", "ghost"], 1, "No session with id 'ghost'"),
        (["send", "   "], 2, "The prompt is empty"),
        (["frobnicate"], 2, "invalid choice"),
        (["config", "set", "providers.lab.bogus", "1"], 2, "unknown key 'bogus'"),
    ],
)
def test_errors_are_one_line(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, args: list[str], code: int, phrase: str
) -> None:
    r = run(config_path, data_dir, *args)
    assert r.returncode == code
    assert phrase in r.stderr and "Traceback" not in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("copilot-tui:")]) == 1


def test_bad_config_exits_2_with_file_and_line(tmp_path: Path, data_dir: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[providers.lab]\ntype = "openai"\nbase_url = 42\n')
    r = run(cfg, data_dir, "sessions", "list")
    assert r.returncode == 2 and f"{cfg}:3:" in r.stderr and "Traceback" not in r.stderr


def test_corrupt_database_is_named_and_kept(config_path: Path, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    db = data_dir / "copilot-tui.sqlite3"
    db.write_bytes(b"garbage" * 500)
    r = run(config_path, data_dir, "sessions", "list")
    assert r.returncode == 1 and str(db) in r.stderr and "corrupt" in r.stderr
    assert db.read_bytes() == b"garbage" * 500
    assert run(config_path, data_dir, "db", "move-aside").returncode == 0
    assert run(config_path, data_dir, "sessions", "list").returncode == 0


def test_version() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "copilot_tui.cli.main", "--version"], capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.startswith("copilot-tui ")


def test_reply_control_sequences_are_kept_off_pipes_verbatim(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(chunks=["a\x1b]52;c;ZXZpbA==\x07b"]))
    r = run(config_path, data_dir, "send", "x")
    assert r.stdout == "a\x1b]52;c;ZXZpbA==\x07b\n"  # not a terminal: verbatim, like an export


def test_reply_control_sequences_are_stripped_on_a_terminal(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    import pty

    hostile = (
        "a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\x1b]8;;http://x\x07link\x1b]8;;\x07\x08\x07c [bold]d[/]"
    )
    fake.script("gpt-4o-mini", Script(chunks=[hostile]))
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copilot_tui.cli.main",
            "--config",
            str(config_path),
            "--data-dir",
            str(data_dir),
            "send",
            "x",
        ],
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(secondary)
    out = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(30) == 0
    os.close(primary)
    text = out.decode()
    assert "\x1b" not in text and "\x07" not in text and "\x08" not in text
    assert "ablinkc [bold]d[/]" in text  # the visible text stays, markup is not interpreted
