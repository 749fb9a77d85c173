"""The core never imports Textual: the API and CLI work without the UI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_modules_do_not_load_textual() -> None:
    code = (
        "import sys, copilot_tui, copilot_tui.cli.main, copilot_tui.service.client, copilot_tui.store, copilot_tui.config\n"
        "import copilot_tui.providers.openai\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('copilot_tui.ui')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_import_linter_contracts() -> None:
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    r = subprocess.run(
        [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout and "kept" in r.stdout.lower()


def test_ruff_clean() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "tui", "tests"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_formatted() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "tui", "tests", "scripts"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, "run `ruff format`:\n" + r.stdout + r.stderr


def test_type_checker_clean(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_service_modules_use_each_other_only_through_public_names() -> None:
    """Sessions and comparisons get a runtime, not the client's private members."""
    import re

    reach = re.compile(
        r"\b(?:client|runtime|rt|session|registry|providers|store|_rt|_client)\._[a-z]\w*"
    )
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted((ROOT / "tui" / "copilot_tui" / "service").glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reach.search(line) and "import" not in line
    ]
    assert not found, found
