"""Benchmark scenarios about the size of the data: very long sessions, many open tabs, many
sessions. Run through ``tests.bench.scenarios`` like every other scenario.

Stored data is written straight into the SQLite file in one transaction (the store's own
triggers keep full-text search up to date), so a 10,000-message session takes seconds to make.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from copilot_tui import CopilotClient
from copilot_tui.store import Store
from tests.bench.corpus import reply_text
from tests.bench.harness import MODEL, ROOT, isolated_dirs, pct, peak_rss_mb, rss_mb

SIZE = (200, 50)
NEEDLE = "quokkaneedle"  # a word only the searched message holds
Result = dict[str, Any]

_USER = [
    "And what about lock files?",
    "How do I pin versions for a team of ten, with CI and a private index, without "
    "breaking the build of anyone who still uses an older Python?",
    "Show me a table of the commands.",
    "Why?",
]


def message_text(j: int) -> tuple[str, str]:
    """The role and text of message ``j`` of a mixed conversation: short and long questions,
    replies of 40 to 700 tokens with prose, lists, fenced code and tables."""
    if j % 2 == 0:
        return "user", f"({j // 2}) " + _USER[(j // 2) % len(_USER)]
    return "assistant", reply_text(40 + (j * 53) % 660, seed=j)


def fill(data: Path, sessions: list[tuple[str, str, int]], *, needle_at: int | None = None) -> None:
    """Write sessions ``(id, title, messages)`` into a new store in ``data``."""
    store = Store(data)  # the schema
    path = store.path
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    now = time.time() - len(sessions) * 60
    try:
        conn.execute("BEGIN")
        for i, (sid, title, count) in enumerate(sessions):
            t = now + i * 60
            conn.execute(
                "INSERT INTO sessions (id, title, model, created_at, updated_at, mode)"
                " VALUES (?,?,?,?,?,?)",
                (sid, title, MODEL, t, t + count / 1000, "chat"),
            )
            rows = []
            for j in range(count):
                role, content = message_text(j)
                if j == needle_at:
                    content += f"\n\nThe word you are looking for is {NEEDLE}."
                rows.append(
                    (
                        f"{sid}-m{j}",
                        sid,
                        role,
                        content,
                        MODEL if role == "assistant" else None,
                        "complete",
                        None,
                        "{}",
                        None,
                        t + j / 1000,
                        t + j / 1000,
                    )
                )
            conn.executemany(
                "INSERT INTO messages (id, session_id, role, content, model, status, error, stats,"
                " owner_pid, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        conn.execute("COMMIT")
    finally:
        conn.close()


async def _until(condition: Callable[[], object], timeout: float, what: str) -> bool:
    """Wait for a condition with plain sleeps; False when it did not come within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def _must(condition: Callable[[], object], timeout: float, what: str) -> None:
    if not await _until(condition, timeout, what):
        raise TimeoutError(f"timed out waiting for {what}")


async def _painted(widget: Any, timeout: float = 60) -> float:
    """The time of the next frame drawn after now (the widget is refreshed, so one comes even
    when nothing changed)."""
    done: list[float] = []
    widget.refresh()
    widget.call_after_refresh(lambda: done.append(time.perf_counter()))
    await _must(lambda: done, timeout, "a frame")
    return done[0]


async def _main_screen(app: Any) -> Any:
    from copilot_tui.ui.screens.main import MainScreen

    await _must(lambda: isinstance(app.screen, MainScreen), 20, "main screen")
    await _must(lambda: not app.screen.restoring, 20, "start-up")
    return app.screen


def _key(app: Any, key: str) -> None:
    """A key press as the terminal sends it, without the test pilot's waits (which include
    scroll animations and idle passes the user does not wait for)."""
    from textual import events

    character = " " if key == "space" else key if len(key) == 1 else None
    app.post_message(events.Key(key, character))


def _showing(conv: Any, message_id: str) -> bool:
    """The message is (at least partly) in the conversation's view."""
    return bool(conv.is_showing(message_id))


# -- a very long session ------------------------------------------------------------------------


async def transcript(messages: int, jumps: int, time_cap: float) -> Result:
    """One session of ``messages`` mixed messages: open it, ``home``, ``page up`` from several
    places, scroll the whole session top to bottom in ``jumps`` even jumps (each draws what it
    lands on), and open a search hit near its start. Steps that do not finish within
    ``time_cap`` seconds are reported as that cap, flagged as not reached."""
    from copilot_tui.ui.app import CopilotApp
    from copilot_tui.ui.messages import OpenSession

    sid = "long"
    needle_at = 11  # a reply near the start: the deepest place to search for
    out: Result = {"messages": messages}
    with isolated_dirs(None) as (config, data):
        data.mkdir(parents=True)
        fill(data, [(sid, "A very long conversation", messages)], needle_at=needle_at)
        async with CopilotClient(config_path=config, data_dir=data) as client:
            app = CopilotApp(client)
            async with app.run_test(size=SIZE) as pilot:
                screen = await _main_screen(app)
                await pilot.pause(0.5)
                rss_empty = rss_mb()

                # A search hit deep in the session, opened from the search dialog's message.
                hits = await client.search(NEEDLE)
                hit = hits[0]
                t0 = time.perf_counter()
                screen.post_message(OpenSession(sid, hit.message_id, hit.seq))
                reached = await _until(
                    lambda: (
                        (pane := screen.chat_pane(sid)) is not None
                        and pane.is_mounted
                        and pane.conversation.is_found(hit.message_id)
                        and _showing(pane.conversation, hit.message_id)
                    ),
                    time_cap,
                    "search hit",
                )
                out["search_s"] = (await _painted(screen) - t0) if reached else time_cap
                out["search_reached"] = int(reached)
                screen.close_tab(screen.workspace.active)
                await _must(lambda: screen.chat_pane(sid) is None, 20, "the tab closed")
                await pilot.pause(0.3)

                # First paint of the session's end.
                t0 = time.perf_counter()
                await screen.open_session(sid)
                pane = screen.chat_pane(sid)
                last = f"{sid}-m{messages - 1}"
                await _must(
                    lambda: pane.is_mounted and _showing(pane.conversation, last), 60, "history"
                )
                out["first_paint_s"] = await _painted(screen) - t0
                conv = pane.conversation
                conv.focus()
                await pilot.pause(0.2)

                # page up at the end
                frames: list[float] = []

                async def page_ups(count: int) -> None:
                    for _ in range(count):
                        t = time.perf_counter()
                        _key(app, "pageup")
                        frames.append(await _painted(conv) - t)

                await page_ups(5)

                # home: the first message on screen
                first = f"{sid}-m0"
                t0 = time.perf_counter()
                reached = False
                while not reached and time.perf_counter() - t0 < time_cap:
                    # pressed again while it has not arrived (each press loads one more page
                    # where history comes in pages)
                    _key(app, "home")
                    reached = await _until(lambda: _showing(conv, first), 1.0, "home")
                out["home_s"] = (await _painted(screen) - t0) if reached else time_cap
                out["home_reached"] = int(reached)
                if reached:
                    # page up from a few places: a third and two thirds of the way down
                    for fraction in (0.33, 0.66):
                        conv.scroll_to(y=conv.max_scroll_y * fraction, animate=False)
                        await pilot.pause(0.1)
                        await page_ups(5)
                    # the whole session, top to bottom
                    t0 = time.perf_counter()
                    for k in range(jumps + 1):
                        conv.scroll_to(y=conv.max_scroll_y * k / jumps, animate=False)
                        await _painted(screen)
                    out["scroll_all_s"] = time.perf_counter() - t0
                await pilot.pause(0.3)
                out["rss_added_mb"] = rss_mb() - rss_empty
                out["page_up_p50_ms"] = pct(frames, 0.5) * 1000
                out["page_up_max_ms"] = max(frames) * 1000
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# -- many open tabs ------------------------------------------------------------------------------


async def open_tabs(tabs: int, messages: int) -> Result:
    """``tabs`` sessions of ``messages`` messages, each opened in its tab and drawn; then every
    tab shown once more (the time until its frame is drawn)."""
    from copilot_tui.ui.app import CopilotApp

    ids = [f"tab-{i:02d}" for i in range(tabs)]
    with isolated_dirs(None) as (config, data):
        data.mkdir(parents=True)
        fill(data, [(sid, f"Project {sid}", messages) for sid in ids])
        async with CopilotClient(config_path=config, data_dir=data) as client:
            app = CopilotApp(client)
            async with app.run_test(size=SIZE) as pilot:
                screen = await _main_screen(app)
                await pilot.pause(0.3)
                rss_empty = rss_mb()
                for sid in ids:
                    await screen.open_session(sid)
                    pane = screen.chat_pane(sid)
                    last = f"{sid}-m{messages - 1}"
                    await _must(
                        lambda p=pane, m=last: p.is_mounted and _showing(p.conversation, m),
                        60,
                        "a tab's history",
                    )
                    await _painted(screen)
                await pilot.pause(0.5)
                switches: list[float] = []
                for sid in ids:
                    pane = screen.chat_pane(sid)
                    t0 = time.perf_counter()
                    screen.tabs.active = pane.id
                    switches.append(await _painted(pane) - t0)
                await pilot.pause(0.3)
                rss_all = rss_mb()
    return {
        "tabs": tabs,
        "messages": messages,
        "tabs_rss_mb": rss_all,
        "rss_added_mb": rss_all - rss_empty,
        "switch_p50_ms": pct(switches, 0.5) * 1000,
        "switch_max_ms": max(switches) * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


# -- many sessions -------------------------------------------------------------------------------


def _sessions(count: int) -> list[tuple[str, str, int]]:
    topics = ["virtual environments", "lock files", "type hints", "asyncio", "SQLite", "Textual"]
    return [(f"s{i:05d}", f"Question {i} about {topics[i % len(topics)]}", 2) for i in range(count)]


async def many_sessions(sessions: int) -> Result:
    """``sessions`` stored sessions: the first frame (a fresh process), ``sessions list`` (a
    fresh process), a keystroke in the sidebar's filter and in ctrl+o's list."""
    from textual.command import CommandInput, CommandPalette

    from copilot_tui.ui.app import CopilotApp

    out: Result = {"sessions": sessions}
    with isolated_dirs(None) as (config, data):
        data.mkdir(parents=True)
        fill(data, _sessions(sessions))
        env = dict(os.environ)
        t0 = time.time()
        probe = subprocess.run(
            [sys.executable, "-m", "tests.bench.startup_probe", str(config), str(data)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if probe.returncode != 0:
            raise RuntimeError(f"start-up probe failed: {probe.stderr[-2000:]}")
        out["first_frame_s"] = json.loads(probe.stdout.strip().splitlines()[-1])["first_frame"] - t0
        t0 = time.perf_counter()
        listed = subprocess.run(
            [
                sys.executable,
                "-c",
                "from copilot_tui.cli.main import main; main()",
                "sessions",
                "list",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out["list_s"] = time.perf_counter() - t0
        if listed.returncode != 0 or listed.stdout.count("\n") < sessions:
            raise RuntimeError(f"sessions list failed: {listed.stderr[-2000:]}")
        async with CopilotClient(config_path=config, data_dir=data) as client:
            app = CopilotApp(client)
            async with app.run_test(size=SIZE) as pilot:
                screen = await _main_screen(app)
                await pilot.pause(0.5)
                filter_keys: list[float] = []
                screen.sidebar.focus_filter()
                await pilot.pause(0.1)
                for key in "question 4":
                    t0 = time.perf_counter()
                    _key(app, "space" if key == " " else key)
                    filter_keys.append(await _painted(screen.sidebar.session_list) - t0)
                for _ in range(3):
                    t0 = time.perf_counter()
                    _key(app, "backspace")
                    filter_keys.append(await _painted(screen.sidebar.session_list) - t0)
                screen.set_focus(None)
                await pilot.pause(0.1)
                await pilot.press("ctrl+o")
                await _must(lambda: isinstance(app.screen, CommandPalette), 20, "ctrl+o")
                palette = app.screen
                await pilot.pause(0.3)
                group = palette._GATHER_COMMANDS_GROUP

                refreshed: list[float] = []
                list_refresh = palette._refresh_command_list

                def counted(*args: Any, **kwargs: Any) -> None:
                    list_refresh(*args, **kwargs)
                    refreshed.append(time.perf_counter())

                palette._refresh_command_list = counted
                input_ = palette.query_one(CommandInput)

                def gathered() -> bool:
                    """The list shows the search for what is typed, and no search runs."""
                    return (
                        input_.value == typed
                        and len(refreshed) > before
                        and not any(w.group == group for w in palette.workers)
                    )

                open_keys: list[float] = []
                typed = ""
                for key in "quest 42":
                    before = len(refreshed)
                    typed += key
                    t0 = time.perf_counter()
                    _key(app, "space" if key == " " else key)
                    await _must(gathered, 60, "ctrl+o results")
                    open_keys.append(await _painted(palette) - t0)
    out["filter_key_p50_ms"] = pct(filter_keys, 0.5) * 1000
    out["filter_key_max_ms"] = max(filter_keys) * 1000
    out["open_key_p50_ms"] = pct(open_keys, 0.5) * 1000
    out["open_key_max_ms"] = max(open_keys) * 1000
    out["peak_rss_mb"] = peak_rss_mb()
    return out
