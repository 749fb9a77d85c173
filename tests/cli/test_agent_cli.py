"""``copilot-tui send --agent`` in a subprocess: permissions from flags, the terminal, or denied."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from copilot_tui.cli.permissions import terminal_handler
from copilot_tui.types import PermissionRequest
from tests.cli.test_cli import run
from tests.servers.openai_server import FakeOpenAI, Script


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("the secret word is pumpkin\n")
    return folder


def read_notes(fake: FakeOpenAI, project: Path) -> None:
    fake.script(
        "gpt-4o-mini",
        Script(tool_calls=[("view", {"path": str(project / "notes.txt")})]),
        Script(echo_tool=True),
    )


@pytest.mark.usefixtures("copilot_runtime")
def test_send_agent_with_allowed_tool_then_sessions_list_shows_the_mode(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, project: Path
) -> None:
    read_notes(fake, project)
    r = run(
        config_path,
        data_dir,
        "send",
        "--session",
        "agent-1",
        "--agent",
        "--cwd",
        str(project),
        "--allow-tool",
        "view",
        "what is in notes.txt?",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Read: the secret word is pumpkin\n"
    listed = run(config_path, data_dir, "sessions", "list")
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("agent-1")]
    assert " agent " in f" {' '.join(row.split())} "
    assert "MODE" in listed.stdout


@pytest.mark.usefixtures("copilot_runtime")
def test_without_a_terminal_an_unanswered_request_is_denied_and_said(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, project: Path
) -> None:
    read_notes(fake, project)
    r = run(config_path, data_dir, "send", "--agent", "--cwd", str(project), "read notes.txt")
    assert r.returncode == 0, r.stderr
    assert "pumpkin" not in r.stdout
    assert "denied view: Read file: " in r.stderr
    assert "--allow-tool view or --allow-all-tools" in r.stderr
    assert "Traceback" not in r.stderr


def args(**kw: object) -> argparse.Namespace:
    base = {"allow_tool": [], "allow_all_tools": False, "deny_all_tools": False}
    return argparse.Namespace(**{**base, **kw})


REQUEST = PermissionRequest("r1", "shell", "Run: rm -rf build", tool_name="bash")


@pytest.mark.parametrize(
    ("flags", "typed", "decision"),
    [
        ({"allow_all_tools": True}, None, "approve-once"),
        ({"deny_all_tools": True}, None, "reject"),
        ({"allow_tool": ["bash"]}, None, "approve-once"),
        ({"allow_tool": ["shell"]}, None, "approve-once"),
        ({"allow_tool": ["view"]}, "y", "approve-once"),
        ({}, "a", "approve-for-session"),
        ({}, "", "reject"),
        ({}, "maybe\nn", "reject"),
    ],
)
async def test_flags_then_the_terminal_decide(
    flags: dict[str, object], typed: str | None, decision: str
) -> None:
    answers = iter((typed or "").split("\n"))
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    notes: list[str] = []
    handler = terminal_handler(args(**flags), notes.append, ask=ask, interactive=True)
    assert await handler(REQUEST) == decision
    assert bool(prompts) == (typed is not None)
    if prompts:
        assert (
            prompts[0]
            == "Allow bash: Run: rm -rf build? [y]es once, [a]lways in this session, [N]o: "
        )


@pytest.mark.usefixtures("copilot_runtime")  # the SDK, which the test command installs with it
def test_a_runtime_that_will_not_start_is_one_line(
    config_path: Path, data_dir: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", "/bin/false")  # exits at once, as a broken runtime
    r = run(config_path, data_dir, "send", "--agent", "--cwd", str(project), "hello")
    assert r.returncode == 1 and r.stdout == ""
    errors = [line for line in r.stderr.splitlines() if not line.startswith("session: ")]
    # how it ends depends on when it exits (a closed pipe, an exit code): one line either way
    assert len(errors) == 1
    assert errors[0].startswith("copilot-tui: The Copilot runtime did not start: ")


@pytest.mark.usefixtures("copilot_runtime")
def test_compare_agents_on_one_task_each_in_a_copy(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, project: Path
) -> None:
    for model in ("gpt-4o-mini", "demo"):
        fake.script(
            model, Script(tool_calls=[("view", {"path": "notes.txt"})]), Script(echo_tool=True)
        )
    r = run(
        config_path,
        data_dir,
        "compare",
        "--agent",
        "--cwd",
        str(project),
        "--allow-all-tools",
        "-m",
        "lab/gpt-4o-mini",
        "-m",
        "lab/demo",
        "what is in notes.txt?",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Read: the secret word is pumpkin") == 2
    header = next(line for line in r.stdout.splitlines() if line.startswith("MODEL"))
    assert header.split()[-2:] == ["TOOL", "CALLS"]
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("lab/")]
    assert [row[-1] for row in rows] == ["1", "1"]
    assert r.stderr.count("worked in ") == 2 and str(data_dir) in r.stderr
