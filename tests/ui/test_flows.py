"""Pilot tests of the main flows, against the fake OpenAI server over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.servers.openai_server import Script, split_tokens
from tests.ui.helpers import (
    focused_prompt,
    in_one_read,
    main_screen,
    open_tab,
    send,
    shown,
    sidebar_mark,
    started,
    tap,
    wait_for,
    wait_idle,
)
from textual.widgets import Input, OptionList

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.new_session import NewSessionScreen
from copilot_tui.ui.screens.search import SearchScreen
from copilot_tui.ui.screens.simple import ConfirmScreen, RenameScreen
from copilot_tui.ui.widgets.conversation import WINDOW_MAX, MessageView
from copilot_tui.ui.widgets.prompt import Prompt
from copilot_tui.ui.workspace import SessionTab, encode

SIZE = (140, 40)


async def test_three_sessions_stream_at_once_while_switching_tabs(
    client: CopilotClient, fake
) -> None:
    # each reply echoes its prompt over and over until released, so all three are still
    # streaming while the keys below are handled, however slow the machine
    fake.script("slow", Script(delay=0.02, until_released=True))
    sessions = [await client.create_session("lab/slow") for _ in range(3)]
    prompts = {
        s.session_id: f"{name} " + " ".join(f"{name}{i}" for i in range(10))
        for s, name in zip(sessions, ["alpha", "beta", "gamma"], strict=True)
    }
    order = [s.session_id for s in sessions]
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        panes = [await open_tab(pilot, s.session_id) for s in sessions]
        for pane in panes:
            screen.tabs.active = pane.id or ""
            await pilot.pause()
            await send(pilot, pane, prompts[pane.session_id])
        # all three stream at once: each row of the sidebar shows a spinner
        await wait_for(
            pilot,
            lambda: [sidebar_mark(pilot, sid) for sid in order] == ["streaming"] * 3,
            what="three spinners",
        )
        assert screen.active_session_id == order[2]
        # each key moves exactly once from where the previous one left off
        for key, expected in (
            ("alt+left", 1),
            ("alt+left", 0),
            ("ctrl+pagedown", 1),
            ("alt+right", 2),
            ("alt+1", 0),
            ("ctrl+pageup", 2),
        ):
            await tap(pilot, key)
            await wait_for(
                pilot,
                lambda expected=expected: screen.active_session_id == order[expected],
                what=f"{key} to tab {expected + 1}",
            )
        assert fake.active == 3 and all(p.session.state == "streaming" for p in panes)
        fake.release()
        for pane in panes:
            await wait_idle(pilot, pane)
        for pane in panes:
            expected = fake.sent_for(prompts[pane.session_id])
            assert expected.startswith(f"Echo: {prompts[pane.session_id]}Echo: ")
            assert pane.conversation.last_reply() == expected
            views = list(pane.conversation.query(MessageView))
            assert [v.message.role for v in views] == ["user", "assistant"]
            assert expected in " ".join(shown(views[-1]).split())
            stored = await pane.session.get_messages()
            assert stored[-1].content == expected
        # the two replies that finished in the background show as unread, the visible one does not
        assert screen.active_session_id == order[2]
        marks = ["unread", "unread", None]
        await wait_for(
            pilot,
            lambda: [sidebar_mark(pilot, sid) for sid in order] == marks,
            what=f"marks {marks}",
        )


async def test_escape_cancels_the_current_reply(client: CopilotClient, fake) -> None:
    fake.script("slow", Script(text="word " * 400, delay=0.02))
    session = await client.create_session("lab/slow")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "talk for a long time")
        await wait_for(
            pilot,
            lambda: (
                session.state == "streaming"
                and app.workspace.live.text(session.live.id if session.live else "") != ""
            ),
            what="streaming",
        )
        await tap(pilot, "escape")
        await wait_idle(pilot, pane)
        view = list(pane.conversation.query(MessageView))[-1]
        assert view.message.status == "aborted"
        assert view.has_class("-aborted")
        assert "stopped" in shown(view)
        stored = await session.get_messages()
        assert stored[-1].status == "aborted"
        assert 0 < len(stored[-1].content) < len("word " * 400)


async def test_rename_from_the_sidebar(client: CopilotClient) -> None:
    session = await client.create_session("lab/gpt-4o-mini", title="old name")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        screen.sidebar.session_list.focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RenameScreen), what="rename dialog")
        field = app.screen.query_one(Input)
        field.value = ""
        await pilot.press(*"new name", "enter")
        await wait_for(
            pilot,
            lambda: screen.workspace.sessions[session.session_id].title == "new name",
            what="renamed",
        )
        assert (await client.get_session_info(session.session_id)).title == "new name"


async def test_a_sidebar_refresh_updates_rows_in_place_unless_they_move_or_rewrap(
    client: CopilotClient,
) -> None:
    await client.create_session("lab/gpt-4o-mini", title="alpha")
    second = await client.create_session("lab/gpt-4o-mini", title="beta")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        rows = screen.sidebar.session_list
        before = list(rows.options)
        assert [o.id for o in before] == [second.session_id, before[1].id]

        def top_row() -> str:
            return "".join(segment.text for segment in rows.render_line(0))

        assert "beta" in top_row()
        await client.rename_session(second.session_id, "beth")  # same widths: swapped in place
        await screen.refresh_sessions()
        assert all(a is b for a, b in zip(rows.options, before, strict=True))
        assert "beth" in top_row()  # the row's cached lines went with the old text

        await client.rename_session(
            second.session_id, "a much longer name"
        )  # other widths: rebuilt
        await screen.refresh_sessions()
        assert rows.options[0] is not before[0] and rows.options[0].id == second.session_id
        assert "a much longer name" in top_row()


async def test_delete_asks_first(client: CopilotClient) -> None:
    keep = await client.create_session("lab/gpt-4o-mini", title="keep me")
    await client.create_session("lab/gpt-4o-mini", title="delete me")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        doomed = next(
            sid for sid, info in screen.workspace.sessions.items() if info.title == "delete me"
        )
        await open_tab(pilot, doomed)
        option_list = screen.sidebar.session_list
        option_list.focus()
        option_list.highlighted = option_list.get_option_index(doomed)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="confirmation closed")
        assert doomed in screen.workspace.sessions
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: doomed not in screen.workspace.sessions and screen.chat_pane(doomed) is None,
            what="deleted",
        )
        assert [s.session_id for s in await client.list_sessions()] == [keep.session_id]


async def test_sidebar_filter(client: CopilotClient) -> None:
    for title in ("cooking pasta", "rust lifetimes", "pasta sauce"):
        await client.create_session("lab/gpt-4o-mini", title=title)
    await client.create_session("lab/gpt-4o-mini", session_id="pasta-by-id")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        screen.sidebar.session_list.focus()
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"pasta")
        option_list = screen.sidebar.session_list
        await wait_for(pilot, lambda: option_list.option_count == 3, what="filtered")
        await pilot.press(
            *" sauce"[:0], "backspace", "backspace", "backspace", "backspace", "backspace", *"rust"
        )
        await wait_for(pilot, lambda: option_list.option_count == 1, what="filtered")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: screen.active_session_id is not None, what="opened")
        assert screen.workspace.sessions[screen.active_session_id].title == "rust lifetimes"


async def test_sidebar_lists_the_most_recent_rows_and_counts_the_rest(
    client: CopilotClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ROWS rows the sidebar lists the most recent ones and a row counting the others;
    the filter still finds an old one."""
    from copilot_tui.ui.widgets import sidebar

    monkeypatch.setattr(sidebar, "ROWS", 3)
    await client.create_session("lab/gpt-4o-mini", title="the oldest wombat")
    for i in range(5):
        await client.create_session("lab/gpt-4o-mini", title=f"recent {i}")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        option_list = screen.sidebar.session_list
        await wait_for(pilot, lambda: option_list.option_count == 4, what="3 rows and a count")
        last = option_list.get_option_at_index(3)
        assert last.disabled and "3 more" in str(last.prompt)
        screen.sidebar.focus_filter()
        await pilot.press(*"wombat")
        await wait_for(pilot, lambda: option_list.option_count == 1, what="filtered")
        assert "wombat" in str(option_list.get_option_at_index(0).prompt)


async def test_full_text_search_jumps_to_the_message(client: CopilotClient) -> None:
    target = await client.create_session("lab/gpt-4o-mini")
    await target.send_and_wait("where is the platypus hiding")
    other = await client.create_session("lab/gpt-4o-mini")
    await other.send_and_wait("nothing to see")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen), what="search")
        await pilot.press(*"platypus")
        hits = app.screen.query_one("#hits", OptionList)
        await wait_for(pilot, lambda: hits.option_count >= 1, what="hits")
        await pilot.press("enter")  # one enter opens the first match
        await wait_for(pilot, lambda: screen.active_session_id == target.session_id, what="opened")
        pane = screen.chat_pane(target.session_id)
        assert pane is not None
        await wait_for(
            pilot,
            lambda: any(v.has_class("-found") for v in pane.conversation.query(MessageView)),
            what="found",
        )
        found = next(v for v in pane.conversation.query(MessageView) if v.has_class("-found"))
        assert "platypus" in found.message.content


async def test_ctrl_o_lists_the_best_matches_and_opens_one(client: CopilotClient) -> None:
    """With more sessions than the list shows, ctrl+o lists at most SHOWN of them, the
    closest title first, and enter opens it."""
    from textual.command import CommandInput, CommandList, CommandPalette

    from copilot_tui.ui.screens.open_session import SHOWN

    for i in range(SHOWN + 20):
        await client.create_session("lab/gpt-4o-mini", title=f"notes {i}")
    target = await client.create_session("lab/gpt-4o-mini", title="wombat burrows")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        screen.action_open_session()
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        palette = app.screen
        await wait_for(pilot, lambda: palette.query(CommandList), what="its list")
        listed = palette.query_one(CommandList)
        await wait_for(pilot, lambda: listed.option_count == SHOWN, what="the newest listed")
        palette.query_one(CommandInput).value = "wmbt"
        await wait_for(
            pilot,
            lambda: (
                listed.option_count == 1 and "wombat" in str(listed.get_option_at_index(0).prompt)
            ),
            what="the one match",
        )
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: screen.active_session_id == target.session_id, what="opened")


async def test_restart_restores_tabs(client: CopilotClient) -> None:
    a = await client.create_session("lab/gpt-4o-mini", title="first")
    b = await client.create_session("lab/gpt-4o-mini", title="second")
    await client.create_session("lab/gpt-4o-mini", title="not open")
    tab_a, tab_b = SessionTab(a.session_id), SessionTab(b.session_id)
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        await open_tab(pilot, a.session_id)
        await open_tab(pilot, b.session_id)
        await tap(pilot, "alt+1")
        await wait_for(pilot, lambda: screen.active_session_id == a.session_id, what="tab 1")
        for _ in range(1000):  # the tabs are saved in the background: quit once they are
            if await client.get_state("ui.open_tabs") == [
                encode(tab_a),
                encode(tab_b),
            ] and await client.get_state("ui.active_tab") == encode(tab_a):
                break
            await pilot.pause(0.02)
    assert await client.get_state("ui.open_tabs") == [encode(tab_a), encode(tab_b)]
    again = CopilotApp(client)
    async with again.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        assert screen.workspace.tabs == (tab_a, tab_b)
        assert screen.active_session_id == a.session_id
        # the restored tab's prompt takes the focus once it is mounted: wait for what the user sees
        await wait_for(
            pilot,
            lambda: isinstance(again.focused, Prompt),
            what="the restored tab's prompt focused",
        )


NASTY = "[bold red]red?[/] [/] [link=https://evil.example]click[/link] [@click=app.quit]quit[/] \x1b[31mcsi\x1b[0m \x1b]52;c;aGVsbG8=\x07 \x1b]8;;http://x\x1b\\osc8\x1b]8;;\x1b\\ bell\x07 back\x08space"


async def test_markup_and_escape_sequences_are_shown_literally(client: CopilotClient) -> None:
    session = await client.create_session("lab/gpt-4o-mini")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, NASTY)
        await wait_idle(pilot, pane)
        assert app.is_running
        user, reply = list(pane.conversation.query(MessageView))
        for view in (user, reply):
            text = shown(view)
            assert "[bold red]red?[/]" in text
            assert "[@click=app.quit]quit[/]" in text
            assert "\x1b" not in text and "\x07" not in text and "\x08" not in text
            assert "csi" in text and "osc8" in text
        # the auto title shows literally in the sidebar and the tab too
        title = screen.workspace.sessions[session.session_id].title
        prompt = screen.sidebar.session_list.get_option(session.session_id).prompt
        assert "[bold red]" in str(prompt) and "\x1b" not in str(prompt)
        assert title.startswith("[bold red]")
        label = screen.tabs.get_tab(pane.id or "").label
        assert "[bold red]" in label.plain
        screenshot = app.export_screenshot()
        assert "evil.example" not in screenshot.split("href")[0] or "]8;;" not in screenshot


async def test_provider_error_shows_in_its_session_and_gives_the_prompt_back(
    client: CopilotClient,
) -> None:
    ok = await client.create_session("lab/gpt-4o-mini")
    bad = await client.create_session("lab/fail")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        ok_pane = await open_tab(pilot, ok.session_id)
        bad_pane = await open_tab(pilot, bad.session_id)
        await send(pilot, bad_pane, "please answer")
        await wait_for(
            pilot,
            lambda: screen.workspace.mark(bad.session_id) == "error",
            timeout=30,
            what="error mark",
        )
        await wait_idle(pilot, bad_pane)
        view = list(bad_pane.conversation.query(MessageView))[-1]
        assert view.message.status == "error" and view.has_class("-error")
        sentence = view.message.error or ""
        assert sentence and "\n" not in sentence and "Traceback" not in sentence
        assert sentence.split()[0] in " ".join(shown(view).split())
        assert bad_pane.prompt.text == "please answer"
        assert list(ok_pane.conversation.query(MessageView)) == []
        assert screen.workspace.mark(ok.session_id) is None


async def test_new_session_dialog_flow(client: CopilotClient) -> None:
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen), what="dialog")
        models = app.screen.query_one("#models", OptionList)
        await wait_for(pilot, lambda: models.option_count > 1, what="models")
        await pilot.press(*"slow")
        await wait_for(
            pilot, lambda: [o.id for o in models._options if o.id] == ["lab/slow"], what="filtered"
        )
        await pilot.press("down", "up")  # arrows move the list from the filter
        await pilot.press("tab", "tab")  # past the list to the id field (enter there creates)
        await wait_for(
            pilot, lambda: app.screen.query_one("#session-id", Input).has_focus, what="id field"
        )
        await pilot.press(*"user-123-chat", "enter")
        await wait_for(pilot, lambda: screen.active_session_id == "user-123-chat", what="created")
        info = await client.get_session_info("user-123-chat")
        assert info.model == "lab/slow"
        assert isinstance(app.focused, Prompt)


async def test_launch_with_session_and_model(client: CopilotClient) -> None:
    app = CopilotApp(client, session_id="user-9", model="lab/slow")
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        assert screen.active_session_id == "user-9"
        assert (await client.get_session_info("user-9")).model == "lab/slow"


def _config_with_keys(path: Path, base_url: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_model = "lab/gpt-4o-mini"\n[providers.lab]\ntype = "openai"\n'
        f'base_url = "{base_url}"\n[keys]\n"main.new_session" = "f8"\n"main.toggle_sidebar" = "f5"\n'
    )
    return path


async def test_keys_are_remapped_from_config(tmp_path: Path, fake, data_dir: Path) -> None:
    cfg = _config_with_keys(tmp_path / "keys" / "config.toml", fake.base_url)
    async with CopilotClient(config_path=cfg, data_dir=data_dir) as client:
        app = CopilotApp(client)
        async with app.run_test(size=SIZE) as pilot:
            screen = await started(pilot)
            await tap(
                pilot, "ctrl+n", "f5"
            )  # keys are handled in order: once f5 has acted, ctrl+n has too
            await wait_for(
                pilot, lambda: screen.sidebar.has_class("-hidden"), what="sidebar hidden by f5"
            )
            assert app.screen is screen  # ctrl+n opened nothing
            await tap(pilot, "f8")
            await wait_for(
                pilot, lambda: isinstance(app.screen, NewSessionScreen), what="dialog by f8"
            )
            await wait_for(
                pilot,
                lambda: any(
                    o.option_count > 1 for o in app.screen.query("#models").results(OptionList)
                ),
                what="models listed",
            )
            await tap(pilot, "escape")
            await wait_for(pilot, lambda: app.screen is screen, what="closed")
            await tap(pilot, "f5")
            await wait_for(
                pilot, lambda: not screen.sidebar.has_class("-hidden"), what="sidebar back by f5"
            )


async def test_long_session_mounts_only_the_messages_near_the_view(client: CopilotClient) -> None:
    """A long session mounts a window of messages between two spacers: scrolling up grows it
    without moving what is on screen, home and a search hit jump to their message, and the
    number of mounted messages stays bounded however much was viewed."""
    session = await client.create_session("lab/gpt-4o-mini")
    for i in range(150):
        await session.send_and_wait(f"question {i}")
    messages = await session.get_messages()
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        conversation = pane.conversation
        await wait_for(
            pilot, lambda: conversation.is_showing(messages[-1].id), what="the end on screen"
        )
        assert len(conversation.query(MessageView)) <= WINDOW_MAX < len(messages) / 2
        conversation.focus()
        top = conversation.query(MessageView).first()
        await wait_for(
            pilot,
            lambda: 0 < conversation.max_scroll_y == conversation.scroll_y,
            what="history laid out, scrolled to its end",
        )

        # scroll up to the first mounted message: older ones come in above, and it stays on
        # screen (what is shown does not jump away)
        conversation.scroll_to(y=top.virtual_region.y, animate=False)
        ids = [m.id for m in messages]
        older = ids[ids.index(top.message.id) - 5]
        await wait_for(
            pilot, lambda: conversation.query(f"#m-{older}"), what="older messages mounted"
        )
        await wait_for(
            pilot, lambda: conversation.is_showing(top.message.id), what="still on screen"
        )
        await tap(pilot, "home")
        await wait_for(pilot, lambda: conversation.is_showing(messages[0].id), what="the first")
        assert not conversation.is_showing(messages[-1].id)
        middle = messages[len(messages) // 2]
        pane.reveal(middle.id, middle.seq)
        await wait_for(
            pilot,
            lambda: conversation.is_found(middle.id) and conversation.is_showing(middle.id),
            what="the hit shown and flashed",
        )
        for _ in range(40):
            await tap(pilot, "pagedown")
        await tap(pilot, "end")
        await wait_for(pilot, lambda: conversation.is_showing(messages[-1].id), what="the end")
        await wait_for(  # the window is trimmed back once the scrolling has settled
            pilot, lambda: len(conversation.query(MessageView)) <= WINDOW_MAX, what="bounded"
        )
        assert main_screen(pilot) is not None


async def test_text_and_enter_arriving_together_send_the_text(client: CopilotClient) -> None:
    """A fast typist or a remote terminal delivers "hi" + enter in one read: all of it is sent."""
    session = await client.create_session("lab/gpt-4o-mini")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        pane = await focused_prompt(pilot, session.session_id)
        in_one_read(pilot, "h", "i", "enter")
        await wait_idle(pilot, pane)
        assert pane.conversation.last_reply() == "Echo: hi"
        assert pane.prompt.text == ""


async def test_editing_keys_arriving_with_text_apply_in_order(client: CopilotClient) -> None:
    """Backspace and cursor keys in the same read as typed characters edit where they were
    typed, not after the characters that followed them."""
    session = await client.create_session("lab/gpt-4o-mini")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        pane = await focused_prompt(pilot, session.session_id)
        in_one_read(pilot, "a", "b", "backspace", "c", "left", "x")
        await wait_for(pilot, lambda: len(pane.prompt.text) >= 3, what="typed text")
        await pilot.pause(0.1)
        assert pane.prompt.text == "axc"


async def test_focus_returns_to_the_prompt_after_a_dialog(client: CopilotClient) -> None:
    session = await client.create_session("lab/gpt-4o-mini")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        pane = await focused_prompt(pilot, session.session_id)
        await pilot.press("ctrl+l")
        await wait_for(
            pilot,
            lambda: app.screen.__class__.__name__ == "SwitchModelScreen",
            what="switch model dialog",
        )
        await pilot.press("o", "t", "h", "e", "r", "enter", "enter")
        await wait_for(pilot, lambda: session.model == "lab/other", what="model switched")
        await wait_for(pilot, lambda: app.focused is pane.prompt, what="prompt focused again")


async def test_reply_text_is_on_screen_while_it_streams(client: CopilotClient, fake) -> None:
    from tests.ui.helpers import text_of

    from copilot_tui.ui.widgets.live_reply import LiveReply

    text = " ".join(f"word{i}" for i in range(200))
    fake.script("slow", Script(text=text, delay=0.002, hold_at=20))  # held part-way until released
    session = await client.create_session("lab/slow")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "stream please")

        def visible_mid_stream() -> bool:
            lives = list(pane.conversation.query(LiveReply))
            return bool(lives) and session.state == "streaming" and "word5 " in text_of(lives[0])

        await wait_for(pilot, visible_mid_stream, what="partial reply drawn while streaming")
        assert pane.conversation.query_one(LiveReply).region.height > 0
        fake.release()
        await wait_idle(pilot, pane)
        assert pane.conversation.last_reply() == text


async def test_a_long_streaming_reply_can_be_scrolled_back_while_it_streams(
    client: CopilotClient, fake
) -> None:
    """While following, the live reply shows only its last lines; scrolling up brings the whole
    reply back with the view where the scroll went; the end follows again; nothing is lost."""
    from tests.ui.helpers import text_of

    from copilot_tui.ui.widgets.live_reply import LiveReply

    text = "\n\n".join(f"paragraph {i} of the answer." for i in range(60))
    fake.script("slow", Script(text=text, delay=0.005, stall_after=200))  # then it hangs, streaming
    session = await client.create_session("lab/slow")
    app = CopilotApp(client)
    async with app.run_test(size=(90, 24)) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        conv = pane.conversation
        await send(pilot, pane, "a long one")

        def live() -> LiveReply | None:
            found = list(conv.query(LiveReply))
            return found[0] if found else None

        view = conv.scrollable_content_region.height
        await wait_for(
            pilot,
            lambda: (w := live()) is not None and w.hidden_lines() > 5,
            what="reply taller than the view",
        )
        widget = live()
        assert widget is not None
        before_stall = "".join(split_tokens(text)[:200])  # paragraphs 0 to 39
        assert before_stall.endswith("paragraph 39 of the answer.")
        await wait_for(
            pilot,
            lambda: (
                session.live is not None
                and app.workspace.live.text(session.live.id) == before_stall
            ),
            what="everything before the stall received",
        )
        await wait_for(
            pilot,
            lambda: (
                widget.window == view
                and widget.region.height == view
                and "paragraph 39 of the answer." in text_of(widget)
            ),
            what="its last lines drawn",
        )
        assert conv.following

        def in_view() -> list[str]:
            top = round(conv.scroll_y) - widget.virtual_region.y
            return [
                line
                for y in range(max(0, top), top + view)
                if (line := widget.render_line(y).text.strip())
            ]

        # three lines up: the whole reply is back, and the view shows what it showed three lines lower
        conv.focus()
        before = in_view()
        await pilot.press("up", "up", "up")
        await wait_for(pilot, lambda: widget.window is None, what="whole reply shown")
        await wait_for(
            pilot, lambda: before[0] in in_view()[1:5], what=f"{before[0]!r} three lines lower"
        )
        assert not conv.following and conv.scroll_y == conv.max_scroll_y - 3
        assert session.state == "streaming"

        # back to the end: following again; stopping keeps everything that arrived
        await pilot.press("end")
        await wait_for(pilot, lambda: conv.following, what="following again")
        await session.abort()
        await wait_idle(pilot, pane)
        final = conv.query(MessageView).last()
        assert final.message.status == "aborted" and final.message.content.startswith(
            "paragraph 0 of the answer."
        )
        assert "paragraph 10 of the answer." in final.message.content
        await wait_for(pilot, lambda: conv.scroll_y == conv.max_scroll_y, what="the end in view")


async def test_first_launch_offers_a_prompt_on_the_default_model(client: CopilotClient) -> None:
    from copilot_tui.ui.widgets.welcome import Welcome

    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        welcome = screen.query_one(Welcome)
        await wait_for(pilot, lambda: app.focused is welcome.prompt, what="welcome prompt focused")
        assert screen.has_class("-empty") and "lab/gpt-4o-mini" in shown(
            welcome.query_one("#welcome-text")
        )
        await pilot.press(*"hello", "enter")
        await wait_for(pilot, lambda: screen.active_pane is not None, what="a session opened")
        pane = screen.active_pane
        await wait_idle(pilot, pane)
        assert (
            pane.session.model == "lab/gpt-4o-mini"
            and pane.conversation.last_reply() == "Echo: hello"
        )
        assert not screen.has_class("-empty") and app.focused is pane.prompt
        await pilot.press("alt+w")  # closing the last tab brings the welcome prompt back
        await wait_for(
            pilot,
            lambda: screen.has_class("-empty") and app.focused is welcome.prompt,
            what="welcome again",
        )
