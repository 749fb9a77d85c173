"""The benchmark: ``python -m tests.bench [--quick | --smoke] [--repeat N] [--only NAME...] [--json PATH]``.

Runs every scenario in its own process against the paced server (another process) and prints
a table of medians with the targets, plus the ratios against Textual's ``MarkdownStream`` and a
raw httpx reader. Writes all runs and medians as JSON (default ``bench-results/latest.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.harness import ROOT, load_average, median_of

Plan = list[tuple[str, str, dict[str, Any]]]  # (row label, scenario, params)


def plan(size: str) -> Plan:
    firehose, paced, tabs_tokens, service_tokens, stored = {
        "full": (2000, 1000, 1000, 500, 500),
        "quick": (500, 300, 300, 200, 500),
        "smoke": (60, 30, 30, 20, 5),
    }[size]
    counts = (1, 2) if size == "smoke" else (1, 4, 8)
    many = {"smoke": (2, 3, 4), "quick": (8, 16, 100), "full": (8, 16, 100)}[size]
    rate = 200 if size == "smoke" else 100
    rows: Plan = []
    for n in counts:
        for renderer in ("ours", "baseline"):
            rows.append(
                (
                    f"firehose {n} {renderer}",
                    "panes",
                    {"n": n, "tokens": firehose, "rate": 0, "renderer": renderer},
                )
            )
        rows.append((f"firehose {n} raw", "raw", {"n": n, "tokens": firehose}))
    rows.append(
        (
            f"paced {many[0]}",
            "panes",
            {"n": many[0], "tokens": paced, "rate": rate, "renderer": "ours"},
        )
    )
    rows.append((f"tabs {many[1]}", "tabs", {"n": many[1], "tokens": tabs_tokens, "rate": rate}))
    react_n, react_repeats = (2, 2) if size == "smoke" else (8, 12)
    rows.append(
        (
            f"reactions {react_n}",
            "reactions",
            {"n": react_n, "tokens": tabs_tokens * 4, "rate": rate, "repeats": react_repeats},
        )
    )
    rows.append(
        (f"service {many[2]}", "service", {"n": many[2], "tokens": service_tokens, "rate": rate})
    )
    rows.append(("startup empty", "startup", {"sessions": 0}))
    rows.append((f"startup {stored}", "startup", {"sessions": stored}))
    transcript = {
        "full": {"messages": 10000, "jumps": 500, "time_cap": 60.0},
        "quick": {"messages": 10000, "jumps": 200, "time_cap": 30.0},
        "smoke": {"messages": 60, "jumps": 4, "time_cap": 30.0},
    }[size]
    rows.append((f"transcript {transcript['messages']}", "transcript", transcript))
    tabs_open, tab_messages = (3, 20) if size == "smoke" else (30, 500)
    rows.append(
        (
            f"open tabs {tabs_open}x{tab_messages}",
            "open_tabs",
            {"tabs": tabs_open, "messages": tab_messages},
        )
    )
    count = 20 if size == "smoke" else 10000
    rows.append((f"sessions {count}", "many_sessions", {"sessions": count}))
    local_tokens, local_replies = {"full": (128, 5), "quick": (64, 3), "smoke": (8, 1)}[size]
    rows.append(
        (f"local {local_tokens}", "local", {"tokens": local_tokens, "replies": local_replies})
    )
    return rows


def run_one(scenario: str, params: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.scenarios", scenario, json.dumps(params)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{scenario} {params} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _f(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return f"{value:,.{digits}f}"


def checks(med: dict[str, dict[str, float]]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for every target the plan can judge."""
    out: list[tuple[str, str, bool | None]] = []

    def row(label: str) -> dict[str, float] | None:
        return med.get(label)

    firehose = sorted({int(k.split()[1]) for k in med if k.startswith("firehose")})
    if firehose:
        n = firehose[-1]
        ours, base = row(f"firehose {n} ours"), row(f"firehose {n} baseline")
        if ours and base:
            ratio = ours["tokens_per_s"] / base["tokens_per_s"]
            out.append((f"{n} panes firehose >= 3x MarkdownStream", f"{ratio:.1f}x", ratio >= 3))
            out.append(
                (
                    f"{n} panes firehose lag p99 <= 50 ms",
                    f"{ours['lag_p99_ms']:.0f} ms",
                    ours["lag_p99_ms"] <= 50,
                )
            )
    for label, data in med.items():
        if label.startswith("paced"):
            out.append(
                (
                    f"{label} x rate: completion <= 1.10x ideal",
                    f"{data['completion_ratio']:.3f}x",
                    data["completion_ratio"] <= 1.10,
                )
            )
            out.append(
                (
                    f"{label}: lag p99 <= 50 ms",
                    f"{data['lag_p99_ms']:.0f} ms",
                    data["lag_p99_ms"] <= 50,
                )
            )
        elif label.startswith("tabs"):
            out.append(
                (
                    f"{label} x rate: every tab's reply in <= 1.10x ideal",
                    f"{data['completion_ratio']:.3f}x",
                    data["completion_ratio"] <= 1.10,
                )
            )
            out.append(
                (
                    f"{label} background: lag p99 <= 30 ms",
                    f"{data['lag_p99_ms']:.0f} ms",
                    data["lag_p99_ms"] <= 30,
                )
            )
        elif label.startswith("reactions"):
            for name, what in (("tab", "tab switch"), ("dialog", "dialog"), ("palette", "palette")):
                value = data.get(f"{name}_p95_ms")
                if value is not None:
                    out.append(
                        (
                            f"{label} streaming: {what} first frame p95 <= 100 ms",
                            f"{value:.0f} ms",
                            value <= 100,
                        )
                    )
        elif label.startswith("service"):
            out.append(
                (
                    f"{label} sessions: completion <= 1.05x ideal",
                    f"{data['completion_ratio']:.3f}x",
                    data["completion_ratio"] <= 1.05,
                )
            )
        elif label.startswith("startup"):
            out.append(
                (
                    f"{label}: first frame <= 1.0 s",
                    f"{data['first_frame_s']:.2f} s",
                    data["first_frame_s"] <= 1.0,
                )
            )
        elif label.startswith("local"):
            out.append(
                (
                    f"{label}: warm first token <= 1.0 s",
                    f"{data['first_token_s']:.2f} s",
                    data["first_token_s"] <= 1.0,
                )
            )
        elif label.startswith("transcript"):
            out += [
                (
                    f"{label}: first paint <= 0.5 s",
                    f"{data['first_paint_s']:.2f} s",
                    data["first_paint_s"] <= 0.5,
                ),
                (
                    f"{label}: home <= 0.3 s",
                    f"{data['home_s']:.2f} s" + ("" if data["home_reached"] else " (not reached)"),
                    bool(data["home_reached"]) and data["home_s"] <= 0.3,
                ),
                (
                    f"{label}: page up <= 50 ms per frame (max)",
                    f"{data['page_up_max_ms']:.0f} ms",
                    data["page_up_max_ms"] <= 50,
                ),
                (
                    f"{label}: RSS growth after scrolling it all <= 50 MB",
                    f"{data['rss_added_mb']:.0f} MB"
                    + ("" if data["home_reached"] else " (top never reached)"),
                    bool(data["home_reached"]) and data["rss_added_mb"] <= 50,
                ),
                (
                    f"{label}: search hit opens at the match <= 0.3 s",
                    f"{data['search_s']:.2f} s"
                    + ("" if data["search_reached"] else " (not reached)"),
                    bool(data["search_reached"]) and data["search_s"] <= 0.3,
                ),
            ]
        elif label.startswith("open tabs"):
            out += [
                (
                    f"{label}: total RSS <= 300 MB",
                    f"{data['tabs_rss_mb']:.0f} MB",
                    data["tabs_rss_mb"] <= 300,
                ),
                (
                    f"{label}: switching <= 100 ms (max)",
                    f"{data['switch_max_ms']:.0f} ms",
                    data["switch_max_ms"] <= 100,
                ),
            ]
        elif label.startswith("sessions"):
            out += [
                (
                    f"{label}: first frame <= 1.0 s",
                    f"{data['first_frame_s']:.2f} s",
                    data["first_frame_s"] <= 1.0,
                ),
                (
                    f"{label}: sidebar filter keystroke <= 50 ms (max)",
                    f"{data['filter_key_max_ms']:.0f} ms",
                    data["filter_key_max_ms"] <= 50,
                ),
                (
                    f"{label}: sessions list <= 0.5 s",
                    f"{data['list_s']:.2f} s",
                    data["list_s"] <= 0.5,
                ),
                (
                    f"{label}: ctrl+o keystroke <= 100 ms (max)",
                    f"{data['open_key_max_ms']:.0f} ms",
                    data["open_key_max_ms"] <= 100,
                ),
            ]
    return out


def table(med: dict[str, dict[str, float]]) -> str:
    lines = [
        "| scenario | tokens/s | vs MarkdownStream | vs raw | completion / ideal | lag p50 / p99 / max (ms) | CPU s | peak RSS MB | other |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, d in med.items():
        ratio_base = ratio_raw = None
        if label.startswith("firehose") and label.endswith("ours"):
            n = label.split()[1]
            base, raw = med.get(f"firehose {n} baseline"), med.get(f"firehose {n} raw")
            ratio_base = d["tokens_per_s"] / base["tokens_per_s"] if base else None
            ratio_raw = d["tokens_per_s"] / raw["tokens_per_s"] if raw else None
        lag = (
            "-"
            if "lag_p99_ms" not in d
            else f"{d['lag_p50_ms']:.1f} / {d['lag_p99_ms']:.0f} / {d['lag_max_ms']:.0f}"
        )
        other = []
        if "cpu_ms_per_1k_tokens" in d:
            other.append(f"CPU {d['cpu_ms_per_1k_tokens']:.0f} ms / 1k tokens")
        if "tab_p95_ms" in d:
            other.append(
                "first frame p95 / max: "
                + ", ".join(
                    f"{name} {d[f'{name}_p95_ms']:.0f} / {d[f'{name}_max_ms']:.0f} ms"
                    for name in ("tab", "dialog", "palette")
                    if f"{name}_p95_ms" in d
                )
            )
        if "show_tab_ms" in d:
            other.append(f"show a finished tab {d['show_tab_ms']:.0f} ms")
        if "imports_s" in d:
            other.append(f"first frame {d['first_frame_s']:.2f} s (imports {d['imports_s']:.2f} s)")
        if "tokens_per_cpu_s" in d:
            other.append(
                f"engine load {d['load_s']:.2f} s, cold first token {d['cold_first_token_s']:.2f} s, "
                f"warm first token {d['first_token_s']:.2f} s, {d['tokens_per_cpu_s']:.0f} tokens per CPU-s, "
                f"engine peak RSS {d['engine_peak_rss_mb']:.0f} MB"
            )
        if "home_s" in d:
            other.append(
                f"first paint {d['first_paint_s']:.2f} s, home {d['home_s']:.2f} s"
                + ("" if d["home_reached"] else " (not reached)")
                + f", page up p50/max {d['page_up_p50_ms']:.0f}/{d['page_up_max_ms']:.0f} ms"
                + f", search hit {d['search_s']:.2f} s"
                + ("" if d["search_reached"] else " (not reached)")
                + f", +{d['rss_added_mb']:.0f} MB"
                + (" after scrolling it all" if d["home_reached"] else "")
            )
        if "switch_max_ms" in d:
            other.append(
                f"{d['tabs_rss_mb']:.0f} MB with all open (+{d['rss_added_mb']:.0f}), switch "
                f"p50/max {d['switch_p50_ms']:.0f}/{d['switch_max_ms']:.0f} ms"
            )
        if "list_s" in d:
            other.append(
                f"first frame {d['first_frame_s']:.2f} s, filter key p50/max "
                f"{d['filter_key_p50_ms']:.0f}/{d['filter_key_max_ms']:.0f} ms, sessions list "
                f"{d['list_s']:.2f} s, ctrl+o key p50/max {d['open_key_p50_ms']:.0f}/"
                f"{d['open_key_max_ms']:.0f} ms"
            )
        lines.append(
            f"| {label} | {_f(d.get('tokens_per_s'))} | {_f(ratio_base, 1) + 'x' if ratio_base else '-'} | "
            f"{_f(ratio_raw, 2) + 'x' if ratio_raw else '-'} | {_f(d.get('completion_ratio'), 3)} | {lag} | "
            f"{_f(d.get('cpu_s'), 2)} | {_f(d.get('peak_rss_mb'))} | {'; '.join(other)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="smaller replies, one run each (a few minutes)"
    )
    size.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one run: only checks that numbers come out",
    )
    p.add_argument(
        "--repeat",
        type=int,
        help="runs per row; the table shows medians (default 3, 1 with --quick/--smoke)",
    )
    p.add_argument("--only", nargs="*", help="rows whose label starts with any of these words")
    p.add_argument("--json", type=Path, default=ROOT / "bench-results" / "latest.json")
    a = p.parse_args(argv)
    kind = "smoke" if a.smoke else "quick" if a.quick else "full"
    repeat = a.repeat or (3 if kind == "full" else 1)
    rows = [r for r in plan(kind) if not a.only or any(r[0].startswith(w) for w in a.only)]
    load_before = load_average()
    runs: dict[str, list[dict[str, Any]]] = {}
    started = time.time()
    for i in range(repeat):
        for label, scenario, params in rows:
            result = run_one(scenario, params)
            runs.setdefault(label, []).append(result)
            print(
                f"  [{i + 1}/{repeat}] {label}: "
                + ", ".join(
                    f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in result.items()
                ),
                file=sys.stderr,
                flush=True,
            )
    med = {label: median_of(r) for label, r in runs.items()}
    print(table(med))
    print()
    for target, measured, met in checks(med):
        print(f"{'PASS' if met else 'MISS'}  {target}: {measured}")
    report = {
        "kind": kind,
        "repeat": repeat,
        "seconds": time.time() - started,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_before": load_before,
            "load_after": load_average(),
        },
        "medians": med,
        "runs": runs,
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in checks(med)],
    }
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(report, indent=1))
    print(f"\nload average {load_before:.2f} before, {load_average():.2f} after; JSON: {a.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
