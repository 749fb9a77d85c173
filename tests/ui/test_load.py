"""Twenty tabs streaming at once: the app stays usable and every reply lands in its own tab."""

from __future__ import annotations

from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import open_tab, send, started, tap, wait_for

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp


async def test_twenty_tabs_streaming(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(text=" ".join(f"w{i}" for i in range(150)), delay=0.02))
    sessions = [await client.create_session("lab/slow", session_id=f"tab-{i:02d}") for i in range(20)]
    app = CopilotApp(client)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await started(pilot)
        panes = [await open_tab(pilot, s.session_id) for s in sessions]
        for pane in panes:
            await send(pilot, pane, f"question for {pane.session_id}")
        await wait_for(pilot, lambda: sum(p.session.state == "streaming" for p in panes) >= 10, what="many streams")
        # while they stream: switch tabs, type into a prompt, open and close the help screen
        seen = []
        for key in ("alt+1", "alt+right", "alt+right", "ctrl+pageup"):
            await tap(pilot, key)
            await pilot.pause(0.05)
            seen.append(screen.active_session_id)
        # each key moves exactly once from where the previous one left off, even under load
        assert seen == ["tab-00", "tab-01", "tab-02", "tab-01"]
        active = screen.active_pane
        assert active is not None
        active.prompt.focus()
        await tap(pilot, "o", "k")
        await wait_for(pilot, lambda: active.prompt.text == "ok", what="typing")
        await tap(pilot, "f1")
        await wait_for(pilot, lambda: app.screen is not screen, what="help")
        await tap(pilot, "escape")
        await wait_for(pilot, lambda: app.screen is screen, what="help closed")
        await wait_for(pilot, lambda: all(p.session.state == "idle" and not p.session.busy for p in panes), 60, "all replies")
        expected = " ".join(f"w{i}" for i in range(150))
        for pane in panes:
            stored = await pane.session.get_messages()
            assert [m.content for m in stored] == [f"question for {pane.session_id}", expected]
        assert fake.max_active >= 10
