"""The benchmark command runs every scenario at a tiny size and reports numbers (timings unchecked)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    medians = report["medians"]
    expected = {
        "firehose 1 ours",
        "firehose 1 baseline",
        "firehose 1 raw",
        "firehose 2 ours",
        "paced 2",
        "tabs 3",
        "reactions 2",
        "service 4",
        "startup empty",
        "startup 5",
        "local 8",
        "transcript 60",
        "open tabs 3x20",
        "sessions 20",
    }
    assert expected <= set(medians)
    for label, values in medians.items():
        assert values, label
        assert all(math.isfinite(v) and v >= 0 for v in values.values()), (label, values)
    for run in report["runs"].values():
        assert all(r.get("complete", True) for r in run), run
    assert medians["transcript 60"]["home_reached"] == 1
    assert medians["transcript 60"]["search_reached"] == 1
    assert report["targets"] and "| scenario |" in proc.stdout
