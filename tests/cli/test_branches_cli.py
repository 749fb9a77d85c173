"""``sessions regenerate``, ``sessions fork`` and branches in ``show`` and ``export``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.servers.openai_server import FakeOpenAI, Script


def test_regenerate_show_fork_and_export(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(text="one answer"), Script(text="another answer"))
    assert run(config_path, data_dir, "send", "--session", "b1", "Pick one").returncode == 0
    r = run(config_path, data_dir, "sessions", "regenerate", "b1")
    assert (r.returncode, r.stdout) == (0, "another answer\n"), r.stderr
    shown = run(config_path, data_dir, "sessions", "show", "b1").stdout
    assert "another answer" in shown and "one answer" not in shown
    assert "(1 other branch not shown)" in shown
    doc = json.loads(
        run(config_path, data_dir, "sessions", "export", "b1", "--format", "json").stdout
    )
    assert [m["content"] for m in doc["messages"]] == ["Pick one", "another answer"]
    tree = {m["content"]: m for m in doc["tree"]}
    assert tree["one answer"]["parent_id"] == tree["another answer"]["parent_id"]
    assert (tree["one answer"]["active"], tree["another answer"]["active"]) == (False, True)
    md = run(config_path, data_dir, "sessions", "export", "b1", "--format", "md").stdout
    assert "another answer" in md and "one answer" not in md

    r = run(
        config_path,
        data_dir,
        "sessions",
        "fork",
        "b1",
        "--at",
        "1",
        "--model",
        "lab/other",
        "--id",
        "b2",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Forked b1 into b2 (1 message, lab/other).\n"
    shown = run(config_path, data_dir, "sessions", "show", "b2").stdout
    assert "Pick one" in shown and "answer" not in shown and "branch" not in shown
    r = run(config_path, data_dir, "sessions", "fork", "b1", "--id", "b2")
    assert r.returncode == 1 and r.stderr == "copilot-tui: A session with id 'b2' already exists.\n"
    r = run(config_path, data_dir, "sessions", "fork", "b1", "--at", "-1")
    assert r.returncode == 2 and "--at" in r.stderr and "Traceback" not in r.stderr
    r = run(config_path, data_dir, "sessions", "regenerate", "nope")
    assert r.returncode == 1 and r.stderr == "copilot-tui: No session with id 'nope'.\n"


def test_send_sets_the_session_parameters(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    args = ["--temperature", "0.1", "--top-p", "0.2", "--seed", "3", "--max-tokens", "9"]
    r = run(config_path, data_dir, "send", "--session", "p1", *args, "hi")
    assert r.returncode == 0, r.stderr
    body = fake.requests_for("gpt-4o-mini")[-1]["body"]
    assert (body["temperature"], body["top_p"], body["seed"], body["max_tokens"]) == (
        0.1,
        0.2,
        3,
        9,
    )
    # kept with the session: the next send carries them without the flags
    assert run(config_path, data_dir, "send", "--session", "p1", "again").returncode == 0
    assert fake.requests_for("gpt-4o-mini")[-1]["body"]["seed"] == 3
    shown = run(config_path, data_dir, "sessions", "show", "p1").stdout
    assert "p1 · lab/gpt-4o-mini · temp 0.1 · top_p 0.2 · max 9 · seed 3" in shown
    r = run(config_path, data_dir, "send", "--session", "p1", "--temperature", "5", "hi")
    assert r.returncode == 2
    assert r.stderr == "copilot-tui: Temperature must be a number from 0.0 to 2.0 (got 5.0).\n"


def test_send_attach(config_path: Path, data_dir: Path, fake: FakeOpenAI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n")
    r = run(config_path, data_dir, "send", "--session", "t1", "--attach", str(notes), "Summarise")
    assert r.returncode == 0, r.stderr
    sent = fake.requests_for("gpt-4o-mini")[-1]["body"]["messages"][-1]["content"]
    assert sent == "Summarise\n\nFile notes.md:\n```\n# Notes\n```"
    r = run(config_path, data_dir, "send", "--attach", str(tmp_path / "nope.txt"), "hi")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"copilot-tui: Cannot attach {tmp_path / 'nope.txt'}: no such file.\n"
    listed = run(config_path, data_dir, "sessions", "list").stdout
    assert len(listed.splitlines()) == 3  # the header, its rule and t1: the failed send made none
