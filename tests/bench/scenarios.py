"""One benchmark measurement per process: ``python -m tests.bench.scenarios NAME '{"param": 1}'``.

Each measurement runs in a fresh process so peak RSS belongs to it alone; the paced server
runs in another process, so its CPU is not counted. Prints one JSON object on the last line.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from copilot_tui import CopilotClient
from copilot_tui.store import Store
from copilot_tui.types import Message
from tests.bench import scale
from tests.bench.corpus import reply_text
from tests.bench.harness import (
    MODEL,
    ROOT,
    LagProbe,
    Meter,
    isolated_dirs,
    paced_server,
    peak_rss_mb,
)

SIZE = (200, 50)
PROMPT = "How do Python virtual environments work? Show the commands and a script."
Result = dict[str, Any]


async def _until(pilot: Any, condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll with plain sleeps: ``Pilot.pause`` forces a screen update per call, which would add
    frames the app itself would not draw."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _main_screen(pilot: Any) -> Any:
    from copilot_tui.ui.screens.main import MainScreen

    await _until(pilot, lambda: isinstance(pilot.app.screen, MainScreen), 20, "main screen")
    screen = pilot.app.screen
    await _until(pilot, lambda: not screen.restoring, 20, "start-up")
    return screen


# -- 1 and 2: panes side by side -----------------------------------------------------------


async def panes(n: int, tokens: int, rate: float, renderer: str) -> Result:
    """N visible panes streaming one reply each.

    'ours' is the product itself: one pane is a chat tab, two or more are a comparison in the
    main screen's compare view, started the way ctrl+s starts one. 'baseline' is Textual's own
    ``MarkdownStream`` in an app of its own holding nothing but its panes.
    """
    from tests.bench.panes import BaselineApp, OursProbe

    with paced_server(rate, tokens) as url, isolated_dirs(url) as (config, data):
        async with CopilotClient(config_path=config, data_dir=data) as client:
            if renderer == "ours":
                from copilot_tui.ui.app import CopilotApp

                probe_ui = OursProbe(client)
                app: Any = CopilotApp(client)
                hook = probe_ui.message_hook
            else:
                sessions = [await client.create_session(MODEL) for _ in range(n)]
                app = probe_ui = BaselineApp(client, [s.session_id for s in sessions])
                hook = None
            async with app.run_test(size=SIZE, message_hook=hook) as pilot:
                if renderer == "ours":
                    await probe_ui.ready(await _main_screen(pilot), n)
                await pilot.pause(
                    1.0
                )  # the app idles a moment after start-up, as it does for a user
                probe = LagProbe()
                probe.start()
                meter = Meter()
                drawn: list[int] = []  # lines of streaming text on screen, sampled mid-stream

                def sample() -> None:
                    if not probe_ui.finished:
                        drawn.append(probe_ui.streaming_lines())

                sampler = app.set_interval(0.1, sample)
                await probe_ui.send(PROMPT, tokens)
                await _until(pilot, lambda: probe_ui.finished, 600, "replies on screen")
                sampler.stop()
                used = meter.done()
                lag = await probe.stop()
                elapsed = max(probe_ui.done_at.values()) - meter.wall0
                received = max(probe_ui.idle_at.values()) - meter.wall0
                ids = probe_ui.session_ids
                stored = {
                    sid: await (await client.resume_session(sid)).get_messages() for sid in ids
                }
                complete = len(ids) == n and all(
                    probe_ui.shown_chars[sid]
                    == len(stored[sid][-1].content)
                    == probe_ui.sent_chars.get(sid, -1)
                    for sid in ids
                )
    total = n * tokens
    ideal = tokens / rate if rate else None
    return {
        "panes": n,
        "tokens": tokens,
        "rate": rate,
        "renderer": renderer,
        "tokens_per_s": total / elapsed,
        "elapsed_s": elapsed,
        "completion_ratio": elapsed / ideal if ideal else None,
        "received_ratio": received / ideal if ideal else None,
        "render_tail_s": elapsed - received,
        **lag,
        "cpu_s": used["cpu_s"],
        "peak_rss_mb": peak_rss_mb(),
        "complete": complete,
        "streaming_lines_max": max(drawn, default=0),
    }


async def raw(n: int, tokens: int) -> Result:
    """N concurrent streams read with httpx and parsed, no UI and no service: this machine's limit."""
    with paced_server(0, tokens) as url:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as http:

            async def one() -> int:
                count = 0
                body = {
                    "model": "bench",
                    "stream": True,
                    "max_tokens": tokens,
                    "messages": [{"role": "user", "content": PROMPT}],
                }
                async with http.stream("POST", f"{url}/chat/completions", json=body) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data: ") and line != "data: [DONE]":
                            choices = json.loads(line[6:]).get("choices") or []
                            if choices and choices[0]["delta"].get("content"):
                                count += 1
                return count

            meter = Meter()
            counts = await asyncio.gather(*(one() for _ in range(n)))
            used = meter.done()
    return {
        "panes": n,
        "tokens": tokens,
        "renderer": "raw",
        "tokens_per_s": sum(counts) / used["wall_s"],
        "elapsed_s": used["wall_s"],
        "cpu_s": used["cpu_s"],
        "peak_rss_mb": peak_rss_mb(),
        "complete": all(c == tokens for c in counts),
    }


# -- 3: background tabs --------------------------------------------------------------------


async def tabs(n: int, tokens: int, rate: float) -> Result:
    """N sessions streaming in tabs of the main screen, one visible; then each hidden one shown."""
    from copilot_tui.ui.app import CopilotApp

    with paced_server(rate, tokens) as url, isolated_dirs(url) as (config, data):
        async with CopilotClient(config_path=config, data_dir=data) as client:
            sessions = [await client.create_session(MODEL) for _ in range(n)]
            app = CopilotApp(client)
            async with app.run_test(size=SIZE) as pilot:
                screen = await _main_screen(pilot)
                for s in sessions:
                    await screen.open_session(s.session_id, activate=False)
                screen.tabs.active = screen.chat_pane(sessions[0].session_id).id
                await pilot.pause(0.3)
                panes = [screen.chat_pane(s.session_id) for s in sessions]
                probe = LagProbe()
                probe.start()
                meter = Meter()
                for s in sessions:
                    await s.send(PROMPT, max_tokens=tokens)
                await _until(
                    pilot,
                    lambda: (
                        all(not s.busy for s in sessions)
                        and all(len(p.conversation.replies) == 1 for p in panes)
                    ),
                    600,
                    "replies",
                )
                elapsed = time.perf_counter() - meter.wall0
                used = meter.done()
                lag = await probe.stop()
                shows: list[float] = []
                for pane in panes[1:6]:
                    t0 = time.perf_counter()
                    shown: list[float] = []
                    screen.tabs.active = pane.id
                    pane.call_after_refresh(lambda s=shown: s.append(time.perf_counter()))
                    await _until(pilot, lambda s=shown: s, 30, "tab shown")
                    shows.append(shown[0] - t0)
                    await pilot.pause(0.05)
    ideal = tokens / rate if rate else None
    return {
        "sessions": n,
        "tokens": tokens,
        "rate": rate,
        **lag,
        "cpu_s": used["cpu_s"],
        "completion_ratio": elapsed / ideal if ideal else None,
        "show_tab_ms": sorted(shows)[len(shows) // 2] * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


async def _reaction(pilot: Any, key: str, done: Callable[[], object]) -> float:
    """Seconds from a key reaching the app to the first frame drawn once ``done()`` holds."""
    from textual import events

    app = pilot.app
    loop = asyncio.get_running_loop()
    gate = getattr(app, "key_gate", None)  # one key's reaction, not one queued behind the last
    await _until(pilot, lambda: gate is None or not gate.busy, 30, "keys delivered")
    t0 = time.perf_counter()
    app.post_message(events.Key(key, None))
    await _until(pilot, done, 30, f"{key} done")
    drawn: asyncio.Future[float] = loop.create_future()
    app.screen.call_after_refresh(lambda: drawn.done() or drawn.set_result(time.perf_counter()))
    return await drawn - t0


async def reactions(n: int, tokens: int, rate: float, repeats: int) -> Result:
    """With N replies streaming in tabs: how long a tab switch, a dialog (rename) and the
    command palette take from the key to their first frame."""
    from textual.command import CommandPalette

    from copilot_tui.ui.app import CopilotApp
    from copilot_tui.ui.screens.simple import RenameScreen

    with paced_server(rate, tokens) as url, isolated_dirs(url) as (config, data):
        async with CopilotClient(config_path=config, data_dir=data) as client:
            sessions = [await client.create_session(MODEL) for _ in range(n)]
            app = CopilotApp(client)
            async with app.run_test(size=SIZE) as pilot:
                screen = await _main_screen(pilot)
                for s in sessions:
                    await screen.open_session(s.session_id, activate=False)
                screen.tabs.active = screen.chat_pane(sessions[0].session_id).id
                await pilot.pause(0.3)
                for s in sessions:
                    await s.send(PROMPT, max_tokens=tokens)
                await _until(pilot, lambda: all(s.busy for s in sessions), 30, "streaming")
                times: dict[str, list[float]] = {"tab": [], "dialog": [], "palette": []}
                for _ in range(repeats):
                    if not any(s.busy for s in sessions):
                        break
                    before = screen.active_session_id
                    times["tab"].append(
                        await _reaction(
                            pilot, "alt+right", lambda b=before: screen.active_session_id != b
                        )
                    )
                    times["dialog"].append(
                        await _reaction(pilot, "f2", lambda: isinstance(app.screen, RenameScreen))
                    )
                    await _reaction(pilot, "escape", lambda: app.screen is screen)
                    times["palette"].append(
                        await _reaction(
                            pilot, "ctrl+p", lambda: isinstance(app.screen, CommandPalette)
                        )
                    )
                    await _reaction(pilot, "escape", lambda: app.screen is screen)
                streaming = sum(s.busy for s in sessions)
                for s in sessions:
                    await s.abort()

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000

    return {
        "sessions": n,
        "samples": len(times["tab"]),
        "still_streaming": streaming,
        **{f"{name}_p95_ms": p95(values) for name, values in times.items() if values},
        **{f"{name}_max_ms": max(values) * 1000 for name, values in times.items() if values},
        "peak_rss_mb": peak_rss_mb(),
    }


# -- 4: service only -----------------------------------------------------------------------


async def service(n: int, tokens: int, rate: float) -> Result:
    """N sessions through the Python API, no UI: completion against the server's own pace."""
    with paced_server(rate, tokens) as url, isolated_dirs(url) as (config, data):
        async with CopilotClient(config_path=config, data_dir=data) as client:
            sessions = [await client.create_session(MODEL) for _ in range(n)]
            meter = Meter()
            replies = await asyncio.gather(
                *(s.send_and_wait(PROMPT, max_tokens=tokens, timeout=600) for s in sessions)
            )
            used = meter.done()
    total = sum(r.stats.output_tokens or 0 for r in replies)
    return {
        "sessions": n,
        "tokens": tokens,
        "rate": rate,
        "completion_ratio": used["wall_s"] / (tokens / rate),
        "cpu_ms_per_1k_tokens": used["cpu_s"] * 1000 / (total / 1000),
        "cpu_s": used["cpu_s"],
        "peak_rss_mb": peak_rss_mb(),
        "complete": total == n * tokens,
    }


# -- 5: start-up ---------------------------------------------------------------------------


def _store_sessions(data: Path, count: int, messages_each: int) -> list[str]:
    """Sessions written straight into the store, with realistic replies."""
    store = Store(data)
    ids = []
    try:
        now = time.time() - count * 60
        for i in range(count):
            sid = f"bench-{i:04d}"
            store.create_session(
                sid, MODEL, title=f"Question {i} about virtual environments", now=now + i
            )
            for j in range(messages_each):
                role = "user" if j % 2 == 0 else "assistant"
                content = (
                    f"Question {j // 2}: how do I pin versions?"
                    if role == "user"
                    else reply_text(40 + (j * 37) % 300, seed=j)
                )
                t = now + i + j / 1000
                store.add_message(
                    Message(
                        f"{sid}-m{j}",
                        sid,
                        role,
                        content,
                        MODEL if role == "assistant" else None,
                        "complete",
                        created_at=t,
                        updated_at=t,
                    )
                )
            ids.append(sid)
    finally:
        store.close()
    return ids


def startup(sessions: int) -> Result:
    """Process start to first frame, in a child process running the real app headless."""
    with isolated_dirs(None) as (config, data):
        if sessions:
            _store_sessions(data, sessions, 2)
        env = dict(os.environ)
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.startup_probe", str(config), str(data)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if out.returncode != 0:
            raise RuntimeError(f"start-up probe failed: {out.stderr[-2000:]}")
        probe = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "sessions": sessions,
        "first_frame_s": probe["first_frame"] - t0,
        "imports_s": probe["imported"] - t0,
        "peak_rss_mb": probe["peak_rss_mb"],
    }


# -- 7: the embedded model ----------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def local(tokens: int, replies: int) -> Result:
    """The bundled SmolLM2 through the service: engine start, first token, tokens per CPU-second.

    Tokens per CPU-second of the engine process is the figure a busy machine distorts least.
    """
    from copilot_tui import events as ev
    from copilot_tui.providers.local import LocalProvider

    with isolated_dirs(None) as (config, data):
        config.write_text(
            'default_model = "local/smollm2"\n[providers.local]\ntype = "local"\nthreads = 1\n'
        )
        async with CopilotClient(config_path=config, data_dir=data) as client:
            provider = client.provider("local")
            assert isinstance(provider, LocalProvider)
            session = await client.create_session()
            t0 = time.perf_counter()
            first: list[float] = []
            session.on(
                lambda e: (
                    first.append(time.perf_counter())
                    if e.type == ev.MESSAGE_DELTA and not first
                    else None
                )
            )
            reply = await session.send_and_wait("Say hello.", max_tokens=8, timeout=300)
            engine = next(iter(provider._engines.values()))
            start = {"cold_first_token_s": first[0] - t0, "load_s": engine.load_seconds or 0.0}
            assert engine.pid is not None and reply.status == "complete"
            firsts, rates, outs = [], [], []
            for i in range(replies):
                first.clear()
                cpu0, t1 = _cpu_seconds(engine.pid), time.perf_counter()
                reply = await session.send_and_wait(
                    f"Write a short story about a dragon, number {i}.",
                    max_tokens=tokens,
                    timeout=300,
                )
                cpu = _cpu_seconds(engine.pid) - cpu0
                firsts.append(first[0] - t1)
                outs.append(reply.stats.output_tokens or 0)
                rates.append(outs[-1] / cpu if cpu else 0.0)
            status = Path(f"/proc/{engine.pid}/status").read_text()
            hwm = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return {
        "tokens": tokens,
        "replies": replies,
        **start,
        "first_token_s": sorted(firsts)[len(firsts) // 2],
        "tokens_per_cpu_s": sorted(rates)[len(rates) // 2],
        "output_tokens": sum(outs),
        "engine_peak_rss_mb": int(hwm) / 1024,
        "peak_rss_mb": peak_rss_mb(),
    }


SCENARIOS: dict[str, Callable[..., Awaitable[Result] | Result]] = {
    "panes": panes,
    "raw": raw,
    "tabs": tabs,
    "reactions": reactions,
    "service": service,
    "startup": startup,
    "local": local,
    "transcript": scale.transcript,
    "open_tabs": scale.open_tabs,
    "many_sessions": scale.many_sessions,
}


def main() -> None:
    name, params = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    result = SCENARIOS[name](**params)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
