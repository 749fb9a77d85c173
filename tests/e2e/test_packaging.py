"""The distribution people install: the wheel carries every style sheet, the engine script and the command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tui" / "copilot_tui"


def test_the_wheel_carries_what_the_app_loads_at_run_time(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves no files in the checkout
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", "*.egg-info", "build", "__pycache__", ".venv*"),
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("copilot_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        f"copilot_tui/{p.relative_to(PACKAGE)}"
        for p in PACKAGE.rglob("*")
        if p.suffix in {".tcss", ".py"}
    }
    assert {n for n in wanted if n.endswith(".tcss")}, "the package has style sheets"
    assert not wanted - names, sorted(wanted - names)
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert (
        "copilot-tui = copilot_tui.cli.main:main"
        in zipfile.ZipFile(wheel).read(entry_points).decode()
    )
