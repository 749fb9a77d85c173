"""A hostile server through the TUI: a reply that is a decompression bomb. Escape stops it (the
tab shows it stopped, the text so far stays), a bomb left to run ends in one sentence with its
text kept, and the app's memory stays bounded either way."""

from __future__ import annotations

import asyncio

from tests.providers.test_limits import served
from tests.servers.hostile import MiB, gzip_bomb
from tests.servers.openai_server import FakeOpenAI
from tests.ui.helpers import open_tab, send, shown, started, tap, wait_for, wait_idle

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.widgets.conversation import MessageView

SIZE = (120, 36)
MAX_GROWTH_MB = 300  # generous: the bomb expands to 2 GiB, what is read stays a few MiB


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_escape_stops_a_bomb_and_keeps_its_text(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    # valid text events at ~1000:1; the server holds the rest of its 2 GiB after 2 KiB
    # compressed (~2 MiB of events, under every limit) until the connection closes
    fake.script("gpt-4o-mini", gzip_bomb(2048 * MiB, text=True, hold_at=2048))
    session = await client.create_session("lab/gpt-4o-mini")
    before = rss_mb()
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "tell me everything")
        await wait_for(
            pilot,
            lambda: (
                bool(fake.requests_for("gpt-4o-mini"))
                and fake.requests_for("gpt-4o-mini")[0].get("held")
                and session.live is not None
                and app.workspace.live.text(session.live.id).startswith("haha")
            ),
            timeout=30,
            what="the bomb streaming into the tab",
        )
        await tap(pilot, "escape")
        await wait_idle(pilot, pane, timeout=30)
        view = list(pane.conversation.query(MessageView))[-1]
        assert view.message.status == "aborted" and view.has_class("-aborted")
        assert "stopped" in shown(view)
        assert view.message.content.startswith("haha") and view.message.error is None
        grew = rss_mb() - before
    stored = (await session.get_messages())[-1]
    assert stored.status == "aborted" and stored.content.startswith("haha")
    record = await asyncio.to_thread(served, fake.requests_for("gpt-4o-mini")[0])
    assert record["closed"] and record["sent"] < 64 * 1024  # of the bomb's ~2 MiB compressed
    assert grew < MAX_GROWTH_MB, f"RSS grew {grew:.0f} MB"


async def test_a_bomb_left_to_run_ends_in_one_sentence(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", gzip_bomb(2048 * MiB, text=True))
    session = await client.create_session("lab/gpt-4o-mini")
    before = rss_mb()
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "tell me everything")
        await wait_idle(pilot, pane, timeout=60)
        view = list(pane.conversation.query(MessageView))[-1]
        error = view.message.error or ""
        assert view.message.status == "error" and view.has_class("-error")
        assert "expands more than 256 times" in error and "\n" not in error
        assert "Traceback" not in shown(view)
        assert view.message.content.startswith("haha")  # the text before the limit stays
        assert app.is_running
        grew = rss_mb() - before
    assert grew < MAX_GROWTH_MB, f"RSS grew {grew:.0f} MB"
