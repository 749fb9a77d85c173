"""Shared pieces of the benchmark: the server process, an isolated config, lag and resource probes."""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "bench/bench"


@contextmanager
def paced_server(rate: float, tokens: int) -> Iterator[str]:
    """Run the paced server in its own process; yields its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bench.paced_server",
            "--rate",
            str(rate),
            "--tokens",
            str(tokens),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "listening":
            raise RuntimeError(f"the paced server did not start: {line}")
        yield f"http://127.0.0.1:{line[1]}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def isolated_dirs(base_url: str | None, *, show_meta: bool = True) -> Iterator[tuple[Path, Path]]:
    """A throwaway config (one provider pointing at the bench server) and data dir.

    The environment is pointed there too, so nothing reads or writes the user's own files.
    """
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        root = Path(tmp)
        config = root / "config.toml"
        lines = ['default_model = "bench/bench"']
        if base_url:
            lines += [
                "[providers.bench]",
                'type = "openai"',
                f'base_url = "{base_url}"',
                "timeout = 120",
            ]
        lines += ["[ui]", f"show_meta = {'true' if show_meta else 'false'}"]
        config.write_text("\n".join(lines) + "\n")
        data = root / "data"
        saved = {
            k: os.environ.get(k)
            for k in (
                "COPILOT_TUI_CONFIG",
                "COPILOT_TUI_DATA_DIR",
                "XDG_CONFIG_HOME",
                "XDG_DATA_HOME",
            )
        }
        os.environ.update(
            COPILOT_TUI_CONFIG=str(config),
            COPILOT_TUI_DATA_DIR=str(data),
            XDG_CONFIG_HOME=str(root / "xdg-config"),
            XDG_DATA_HOME=str(root / "xdg-data"),
        )
        try:
            yield config, data
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class LagProbe:
    """How late the event loop runs a tick scheduled on an absolute clock.

    Ticks are due at t0 + k * interval; a tick that fires late records its lateness, and the
    schedule skips ticks that are already past, so one long block counts once, at full length.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.lags.clear()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        t0 = time.perf_counter()
        k = 1
        while True:
            due = t0 + k * self.interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            now = time.perf_counter()
            self.lags.append(now - due)
            k = max(k + 1, int((now - t0) / self.interval) + 1)

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        ms = [v * 1000 for v in self.lags]
        return {
            "lag_p50_ms": pct(ms, 0.5),
            "lag_p99_ms": pct(ms, 0.99),
            "lag_max_ms": max(ms, default=0.0),
        }


@dataclass
class Meter:
    """Wall and CPU seconds of a measured section (CPU of this process: all its threads)."""

    wall0: float = field(default_factory=time.perf_counter)
    cpu0: float = field(default_factory=time.process_time)

    def done(self) -> dict[str, float]:
        return {
            "wall_s": time.perf_counter() - self.wall0,
            "cpu_s": time.process_time() - self.cpu0,
        }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = [k for k in runs[0] if all(isinstance(r.get(k), (int, float)) for r in runs)]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def load_average() -> float:
    return os.getloadavg()[0]
