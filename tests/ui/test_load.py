"""Twenty tabs streaming at once: the app keeps handling keys and every reply lands in its own tab.

How fast that goes is the benchmark's question (``python -m tests.bench``, the "tabs" rows):
here the replies stream until the test has done its keys, however long a loaded machine takes.
"""

from __future__ import annotations

from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import open_tab, send, started, tap, wait_for, wait_idle

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp

TABS = 20


async def test_twenty_tabs_streaming(client: CopilotClient, fake: FakeOpenAI) -> None:
    # each reply echoes its own prompt over and over until released: a reply in the wrong tab,
    # or a piece of one lost, shows
    fake.script("slow", Script(delay=0.05, until_released=True))
    sessions = [
        await client.create_session("lab/slow", session_id=f"tab-{i:02d}") for i in range(TABS)
    ]
    prompts = {s.session_id: f"question for {s.session_id}" for s in sessions}
    app = CopilotApp(client)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await started(pilot)
        panes = [await open_tab(pilot, s.session_id) for s in sessions]
        for pane in panes:
            await send(pilot, pane, prompts[pane.session_id])
        await wait_for(pilot, lambda: fake.active == TABS, 60, what="every reply streaming")
        await wait_for(
            pilot,
            lambda: all(p.conversation.streaming for p in panes),
            60,
            what="every tab showing its reply",
        )

        # while they all stream: each key moves exactly once from where the previous one left off
        for key, expected in (
            ("alt+1", "tab-00"),
            ("alt+right", "tab-01"),
            ("alt+right", "tab-02"),
            ("ctrl+pageup", "tab-01"),
        ):
            await tap(pilot, key)
            await wait_for(
                pilot,
                lambda expected=expected: screen.active_session_id == expected,
                what=f"{key} to {expected}",
            )
        active = screen.active_pane
        assert active is not None and active.session_id == "tab-01"
        active.prompt.focus()
        await tap(pilot, "o", "k")
        await wait_for(pilot, lambda: active.prompt.text == "ok", what="typing")
        await tap(pilot, "f1")
        await wait_for(pilot, lambda: app.screen is not screen, what="help")
        await tap(pilot, "escape")
        await wait_for(pilot, lambda: app.screen is screen, what="help closed")
        assert screen.active_session_id == "tab-01" and active.prompt.text == "ok"
        assert fake.active == TABS  # all of that happened with every reply still streaming

        fake.release()
        for pane in panes:
            await wait_idle(pilot, pane, timeout=60)
        for pane in panes:
            sent = fake.sent_for(prompts[pane.session_id])
            assert sent.startswith(f"Echo: {prompts[pane.session_id]}")
            assert pane.conversation.last_reply() == sent
            stored = await pane.session.get_messages()
            assert [(m.content, m.status) for m in stored] == [
                (prompts[pane.session_id], "complete"),
                (sent, "complete"),
            ]
        assert fake.max_active == TABS
