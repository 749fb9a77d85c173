"""Credentials never leak: not to files the app writes, not to output, not to error messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from copilot_tui import CopilotClient, ProviderError
from copilot_tui.redact import MASK, redact, remember_secret
from tests.servers.openai_server import FakeOpenAI, Script

CANARY = "sk-canary-5f3a9c2e7d1b40aa"


def cli(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_TUI_")} | {
        "LAB_API_KEY": CANARY
    }
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
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_canary_key_is_nowhere(
    tmp_path: Path, config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    # the server quotes the rejected credential back, as some do
    fake.script(
        "fail",
        Script(status=401, error_body='{"error":{"message":"Incorrect API key provided: {auth}"}}'),
    )
    outputs: list[str] = []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        r = cli(config_path, data_dir, *args)
        outputs.extend([r.stdout, r.stderr])
        return r

    failed = run("send", "--session", "s1", "--model", "lab/fail", "hello")
    assert failed.returncode == 1 and MASK in failed.stderr and "401" in failed.stderr
    assert run("send", "--session", "s2", "all good?").returncode == 0
    assert (
        fake.requests_for("gpt-4o-mini")[-1]["headers"]["Authorization"] == f"Bearer {CANARY}"
    )  # it was really sent
    export = tmp_path / "exports" / "s1.md"
    export.parent.mkdir()
    run("sessions", "export", "s1", "--format", "md", "-o", str(export))
    run("sessions", "export", "s1", "--format", "json")
    run("sessions", "show", "s1")
    run("sessions", "list", "--json")
    run("models", "--json")
    run("config", "set", "providers.lab.max_concurrency", "3")
    run("config", "show")
    assert "Incorrect API key provided" in export.read_text()
    for output in outputs:
        assert CANARY not in output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in written) and export in written
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path


async def test_service_masks_quoted_credentials(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("LAB_API_KEY", CANARY)
    fake.script(
        "fail", Script(status=403, error_body="forbidden for key {auth}", content_type="text/plain")
    )
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        s = await client.create_session("lab/fail")
        try:
            await s.send_and_wait("hi")
        except ProviderError as exc:
            assert CANARY not in str(exc) and MASK in str(exc)
        else:  # pragma: no cover
            raise AssertionError("expected a 403")
        [_, reply] = await s.get_messages()
        assert reply.error and CANARY not in reply.error


def test_redact_masks_longest_first() -> None:
    remember_secret("Bearer abcdefgh12345")
    remember_secret("abcdefgh12345")
    remember_secret("short")  # too short to mask safely
    assert (
        redact("got Bearer abcdefgh12345 and abcdefgh12345, short")
        == f"got {MASK} and {MASK}, short"
    )
