"""``copilot-tui login copilot`` / ``logout`` in a subprocess, against the fake device flow."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_tui.providers.copilot_auth import token_path
from tests.servers.copilot_server import GITHUB_TOKEN, USER_CODE, FakeCopilot


@pytest.fixture(scope="module")
def server() -> Iterator[FakeCopilot]:
    with FakeCopilot() as fake:
        yield fake


@pytest.fixture
def copilot(server: FakeCopilot) -> FakeCopilot:
    server.reset()
    return server


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copilot_tui.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )


def config_file(fake: FakeCopilot) -> Path:
    path = Path(os.environ["COPILOT_TUI_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('default_model = "copilot/gpt-4.1"\n' + fake.config())
    return path


def test_login_send_logout(copilot: FakeCopilot) -> None:
    copilot.approve({"error": "authorization_pending"}, {"error": "slow_down", "interval": 0})
    config = config_file(copilot)
    result = cli("login", "copilot")
    assert result.returncode == 0, result.stderr
    assert USER_CODE in result.stdout and f"{copilot.url}/login/device" in result.stdout
    assert "counts against your Copilot plan" in result.stdout
    path = token_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert GITHUB_TOKEN in path.read_text()
    assert len(copilot.requests_to("/login/oauth/access_token")) == 3

    sent = cli("send", "hello copilot")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "Echo: hello copilot"

    # the token lives only in its file: not in the config, the database, or any other data file
    assert GITHUB_TOKEN not in config.read_text()
    data_dir = Path(os.environ["COPILOT_TUI_DATA_DIR"])
    for f in data_dir.rglob("*"):
        if f.is_file() and f != path:
            assert GITHUB_TOKEN.encode() not in f.read_bytes(), f
    exported = cli("sessions", "list")
    assert GITHUB_TOKEN not in exported.stdout + exported.stderr

    out = cli("logout")
    assert out.returncode == 0 and "Logged out" in out.stdout
    assert not path.exists()
    models = cli("models")
    assert "copilot (copilot): not usable: not logged in" in models.stdout
    assert "fix: run: copilot-tui login copilot" in models.stdout
    again = cli("logout")
    assert again.returncode == 0 and "Not logged in" in again.stdout


def test_login_declined(copilot: FakeCopilot) -> None:
    copilot.poll_answers = [{"error": "access_denied"}]
    config_file(copilot)
    result = cli("login", "copilot")
    assert result.returncode == 1
    assert "declined" in result.stderr
    assert not token_path().exists()


def test_login_without_copilot_access(copilot: FakeCopilot) -> None:
    copilot.no_access = True
    config_file(copilot)
    result = cli("login", "copilot")
    assert result.returncode == 1
    assert "No Copilot access for this account or token" in result.stderr
    assert token_path().exists()  # the GitHub login itself worked and is kept


def test_login_follows_data_dir_option(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.approve()
    config_file(copilot)
    other = tmp_path / "elsewhere"
    result = cli("--data-dir", str(other), "login", "copilot")
    assert result.returncode == 0, result.stderr
    assert (other / "copilot-github-token.json").exists() and not token_path().exists()
    sent = cli("send", "--data-dir", str(other), "hi there")
    assert sent.returncode == 0, sent.stderr
    assert cli("--data-dir", str(other), "logout").returncode == 0
    assert not (other / "copilot-github-token.json").exists()
