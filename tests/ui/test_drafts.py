"""Drafts: what was typed in a session's prompt and not sent stays with the session, across a
tab switch, a closed tab and a restart (a real SQLite file), and a failed prompt comes back."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import open_tab, send, started, tap, wait_for, wait_idle

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp

SIZE = (120, 36)


async def test_a_draft_survives_a_tab_switch_a_closed_tab_and_a_restart(
    config_path: Path, data_dir: Path
) -> None:
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        a = await client.create_session("lab/gpt-4o-mini", title="drafting")
        b = await client.create_session("lab/gpt-4o-mini", title="elsewhere")
        app = CopilotApp(client)
        async with app.run_test(size=SIZE) as pilot:
            screen = await started(pilot)
            pane = await open_tab(pilot, a.session_id)
            pane.prompt.focus()
            await tap(pilot, *"half a thought")
            await wait_for(pilot, lambda: pane.prompt.text == "half a thought", what="typed")

            other = await open_tab(pilot, b.session_id)
            assert other.prompt.text == ""  # drafts are per session
            await tap(pilot, "alt+1")
            await wait_for(pilot, lambda: screen.active_session_id == a.session_id, what="back")
            assert pane.prompt.text == "half a thought"

            await tap(pilot, "alt+w")
            await wait_for(pilot, lambda: screen.chat_pane(a.session_id) is None, what="closed")
            again = await open_tab(pilot, a.session_id)
            assert again is not pane
            assert again.prompt.text == "half a thought"
            await tap(pilot, "!")  # the newest text is what is kept, up to the last key
            await wait_for(pilot, lambda: again.prompt.text == "half a thought!", what="typed")

    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        assert await client.list_drafts() == {a.session_id: "half a thought!"}
        app = CopilotApp(client)
        async with app.run_test(size=SIZE) as pilot:
            screen = await started(pilot)
            restored = screen.chat_pane(a.session_id)
            assert restored is not None  # its tab was open: it is again
            await wait_for(
                pilot, lambda: restored.prompt.text == "half a thought!", what="draft restored"
            )
            assert screen.workspace.draft(b.session_id) == ""


async def test_a_sent_prompt_clears_the_draft_and_a_failed_one_comes_back_to_a_closed_tab(
    client: CopilotClient,
) -> None:
    ok = await client.create_session("lab/gpt-4o-mini")
    bad = await client.create_session("lab/fail")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        ok_pane = await open_tab(pilot, ok.session_id)
        await send(pilot, ok_pane, "hello there")
        await wait_idle(pilot, ok_pane)
        assert ok_pane.prompt.text == "" and screen.workspace.draft(ok.session_id) == ""

        bad_pane = await open_tab(pilot, bad.session_id)
        await send(pilot, bad_pane, "please answer")
        await tap(pilot, "alt+w")  # closed before the failure arrives
        await wait_for(pilot, lambda: screen.chat_pane(bad.session_id) is None, what="closed")
        await wait_for(
            pilot,
            lambda: screen.workspace.mark(bad.session_id) == "error",
            timeout=30,
            what="error mark",
        )
        assert screen.workspace.draft(bad.session_id) == "please answer"
        reopened = await open_tab(pilot, bad.session_id)
        assert reopened.prompt.text == "please answer"
    assert (await client.list_drafts()).get(bad.session_id) == "please answer"
