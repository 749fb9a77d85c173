"""The smaller key and layout behaviours: recall both ways, page keys in the prompt, the
sidebar filter, rename, the help's list, the sidebar at 80x24, marks and titles after a restart."""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.console import Console
from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import (
    in_one_read,
    main_screen,
    open_tab,
    send,
    sidebar_mark,
    started,
    tap,
    wait_for,
    wait_idle,
)
from tests.ui.test_model_picker import screen_text
from textual.widgets import Input, Static

from copilot_tui import CopilotClient
from copilot_tui.errors import CopilotTuiError
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.help import HelpScreen
from copilot_tui.ui.screens.new_session import NewSessionScreen
from copilot_tui.ui.screens.simple import RenameScreen


async def test_recall_goes_back_and_forward_and_page_keys_scroll(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("long", Script(text="line of a long answer\n\n" * 120))
    session = await client.create_session("lab/long", session_id="r1")
    app = CopilotApp(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        for n, text in enumerate(("one", "two"), 1):
            await send(pilot, pane, text)
            await wait_idle(pilot, pane, replies=n)
        prompt = pane.prompt
        await pilot.press("up", "up")
        await wait_for(pilot, lambda: prompt.text == "one", what="the first prompt")
        await pilot.press("down")
        await wait_for(pilot, lambda: prompt.text == "two", what="forward again")
        await pilot.press("down")
        await wait_for(pilot, lambda: prompt.text == "", what="past the newest: empty")

        conv = pane.conversation
        await wait_for(pilot, lambda: conv.max_scroll_y > 0 and conv.scroll_y == conv.max_scroll_y)
        bottom = conv.scroll_y
        await pilot.press("pageup")
        await wait_for(pilot, lambda: conv.scroll_y < bottom, what="paged up from the prompt")
        assert app.focused is prompt and prompt.text == ""
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: conv.scroll_y == bottom, what="paged down again")


async def test_filter_escape_no_matches_rename_and_help(client: CopilotClient) -> None:
    await client.create_session("lab/gpt-4o-mini", session_id="named")
    await client.rename_session("named", "A title")
    app = CopilotApp(client)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot)
        assert screen.sidebar.outer_size.width <= 28  # at 80 columns the conversation keeps most
        pane = await open_tab(pilot, "named")

        screen.sidebar.session_list.focus()
        await pilot.press("slash")  # outside the prompt / filters the sidebar
        field = screen.sidebar.query_one("#filter", Input)
        await wait_for(pilot, lambda: field.has_focus, what="the filter")
        await pilot.press(*"zzz")
        await wait_for(pilot, lambda: "no matches" in screen_text(pilot), what="no matches")
        await pilot.press("escape")
        await wait_for(pilot, lambda: field.value == "", what="the filter cleared")
        assert field.has_focus and "no matches" not in screen_text(pilot)

        pane.prompt.focus()
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, RenameScreen), what="rename")
        await pilot.press("ctrl+u", "enter")  # an empty title is refused, with a reason
        await wait_for(pilot, lambda: "cannot be empty" in screen_text(pilot), what="refused")
        assert isinstance(app.screen, RenameScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="rename closed")
        assert (await client.get_session_info("named")).title == "A title"

        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        console = Console(width=200, file=io.StringIO(), record=True)
        console.print(app.screen.query_one("#keys Static", Static).content)
        text = console.export_text()
        for wanted in ("ctrl+p", "Command palette", "alt+backspace", "Recall a later prompt"):
            assert wanted in text


async def test_error_marks_and_untitled_tabs_after_a_restart(
    config_path, data_dir, fake: FakeOpenAI
) -> None:
    fake.script("broken", Script(status=500, error_body='{"error": {"message": "boom"}}'))
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        failed = await client.create_session("lab/broken", session_id="failed")
        with pytest.raises(CopilotTuiError):
            await failed.send_and_wait("hello")
        await client.create_session("lab/gpt-4o-mini", session_id="untitled-1")
        await client.set_state("ui.open_tabs", ["untitled-1"])
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        app = CopilotApp(client)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await started(pilot)
            assert sidebar_mark(pilot, "failed") == "error"
            pane = screen.chat_pane("untitled-1")
            assert pane is not None and pane.id
            tab = screen.tabs.get_tab(pane.id)
            assert "(untitled)" in tab.label.plain and "untitled-1" not in tab.label.plain
            assert main_screen(pilot) is screen


async def test_escape_while_the_models_load(client: CopilotClient, monkeypatch) -> None:
    """A slow provider holds typed keys a moment only; escape then closes the dialog, and the
    list arriving after it has closed is dropped quietly."""
    gate = asyncio.Event()
    real = client.provider_statuses

    async def slow():  # type: ignore[no-untyped-def]
        await gate.wait()
        return await real()

    monkeypatch.setattr(client, "provider_statuses", slow)
    app = CopilotApp(client)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot)
        in_one_read(pilot, "ctrl+n", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen), what="dialog")
        await wait_for(pilot, lambda: app.screen is screen, what="closed while loading")
        gate.set()
        await wait_for(pilot, lambda: not app.key_gate.busy, what="keys free")
        await tap(pilot, "ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen), what="again")
        assert not [n for n in app._notifications if n.severity == "error"]
