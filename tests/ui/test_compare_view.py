"""Pilot tests of the compare view, against the fake OpenAI server over real HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_config
from tests.servers.openai_server import DEMO_MARKDOWN, FakeOpenAI, Script
from tests.ui.helpers import main_screen, started, tap, text_of, wait_for
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from copilot_tui import CopilotClient
from copilot_tui.service.compare import PaneSpec
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.compare_dialog import CompareScreen
from copilot_tui.ui.screens.main import MainScreen
from copilot_tui.ui.widgets.chat_pane import ChatPane
from copilot_tui.ui.widgets.compare_view import CompareTab
from copilot_tui.ui.widgets.conversation import MessageView
from copilot_tui.ui.widgets.prompt import Prompt

SIZE = (160, 44)
FAST, SLOW, FAIL = "lab/gpt-4o-mini", "lab/slow", "lab/fail"
FAST_TEXT = "fast answer here"
SLOW_TEXT = "slow answer comes in many pieces " * 8


def _paced(fake: FakeOpenAI) -> None:
    """A fast model, a slow one and one that fails; first tokens held so the streams overlap."""
    fake.script("gpt-4o-mini", Script(text=FAST_TEXT, first_delay=0.3))
    fake.script("slow", Script(text=SLOW_TEXT, first_delay=0.5, delay=0.02))
    fake.script("fail", Script(status=500))


async def _submit(pilot: Pilot, screen: MainScreen) -> CompareTab:
    await tap(pilot, "enter")
    try:
        await wait_for(pilot, lambda: screen.active_compare is not None, what="compare view")
    except AssertionError:
        errors = [str(n.message) for n in pilot.app._notifications]
        shown = (
            text_of(pilot.app.screen.query_one(".error"))
            if isinstance(pilot.app.screen, CompareScreen)
            else ""
        )
        raise AssertionError(f"no compare view; notices: {errors}; dialog says {shown!r}") from None
    tab = screen.active_compare
    assert tab is not None
    await wait_for(pilot, lambda: all(v.loaded for v in tab.views), what="panes ready")
    await wait_for(
        pilot, lambda: tab.prompt.has_focus, what="the comparison's prompt focused"
    )  # keys go there now
    return tab


async def _type_prompt(pilot: Pilot, models: list[str], text: str) -> CompareTab:
    """Start a comparison from the keyboard: ctrl+s, enter on each model, the prompt, enter."""
    screen = main_screen(pilot)
    await tap(pilot, "ctrl+s")
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen.query("#models"),
        what="dialog",
    )
    dialog = pilot.app.screen
    models_list = dialog.query_one("#models", OptionList)
    await wait_for(pilot, lambda: models_list.option_count > 3, what="models")
    models_list.focus()
    await wait_for(pilot, lambda: models_list.has_focus, what="list focus")
    for n, model in enumerate(models, 1):
        models_list.highlighted = models_list.get_option_index(model)
        await tap(pilot, "enter")
        await wait_for(pilot, lambda n=n: len(dialog._panes) == n, what=f"pane {n} added")
    prompt = dialog.query_one("#compare-first-prompt", Prompt)
    prompt.focus()
    prompt.load_text(text)
    await wait_for(pilot, lambda: prompt.has_focus, what="prompt focus")
    return await _submit(pilot, screen)


async def _done(pilot: Pilot, tab: CompareTab, timeout: float = 20.0) -> None:
    await wait_for(pilot, lambda: not tab.comparison.busy, timeout, what="comparison done")
    await wait_for(
        pilot,
        lambda: all(v.loaded and not v.conversation.streaming for v in tab.views),
        what="replies shown",
    )
    await pilot.pause(0.05)


def _header(tab: CompareTab, index: int) -> str:
    return tab.views[index].header._text.plain


async def test_all_panes_stream_at_once_and_a_failure_stays_in_its_pane(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    _paced(fake)
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await _type_prompt(pilot, [FAST, SLOW, FAIL], "Which is faster?")
        assert [p.model for p in tab.comparison.panes] == [FAST, SLOW, FAIL]
        await _done(pilot, tab)
        # both answering models were on the wire together; the failure held up nobody
        assert fake.max_active >= 2
        assert [p.status for p in tab.comparison.panes] == ["done", "done", "error"]
        fast, slow, fail = tab.views
        assert fast.conversation.last_reply() == FAST_TEXT
        assert slow.conversation.last_reply() == SLOW_TEXT
        assert "failed" in _header(tab, 2) and "500" not in _header(tab, 2)
        assert "500" in (fail.conversation._replies[-1].error or "")  # said once, under the reply
        assert "\n" not in text_of(fail.header).split("failed")[0]
        # each pane shows its own stats, and the fastest figures are marked once all are done
        for i in (0, 1):
            assert "ttft" in _header(tab, i) and "tok/s" in _header(tab, i)
        assert "★" in _header(tab, 0) + _header(tab, 1)
        assert "★" not in _header(tab, 2)
        # the sidebar shows the comparison as one group with its panes under it
        screen = main_screen(pilot)
        await wait_for(
            pilot, lambda: screen.sidebar.session_list.option_count == 4, what="group rows"
        )
        first = screen.sidebar.session_list.get_option_at_index(0)
        assert first.id == f"group:{tab.group_id}"


async def test_escape_cancels_the_focused_pane_only(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(text=FAST_TEXT, first_delay=0.2))
    fake.script("slow", Script(text="word " * 400, delay=0.03))
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await _type_prompt(pilot, [FAST, SLOW], "Talk")
        slow = tab.comparison.panes[1]
        await wait_for(
            pilot,
            lambda: slow.status == "streaming" and (slow.output_tokens or 0) > 2,
            what="slow streams",
        )
        await tap(pilot, "alt+down")
        await wait_for(pilot, lambda: tab.selected == 1, what="second pane selected")
        await tap(pilot, "escape")
        await _done(pilot, tab)
        assert [p.status for p in tab.comparison.panes] == ["done", "aborted"]
        assert "stopped" in _header(tab, 1)
        assert 0 < len(slow.text) < len("word " * 400)
        views = list(tab.views[1].conversation.query(MessageView))
        assert views[-1].message.status == "aborted"


async def test_cancel_all_stops_every_pane(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(text="word " * 400, delay=0.03))
    fake.script("other", Script(text="more " * 400, delay=0.03))
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await _type_prompt(pilot, [SLOW, "lab/other"], "Talk")
        await wait_for(
            pilot,
            lambda: all(p.status == "streaming" for p in tab.comparison.panes),
            what="both stream",
        )
        await wait_for(pilot, lambda: tab.prompt.has_focus, what="prompt focus")
        await tap(pilot, "alt+x")
        await _done(pilot, tab)
        assert [p.status for p in tab.comparison.panes] == ["aborted", "aborted"]


async def test_follow_up_goes_to_every_pane_and_continue_opens_the_winner(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        tab = await _type_prompt(pilot, [FAST, "lab/other"], "first question")
        await _done(pilot, tab)
        assert tab.prompt.has_focus
        tab.prompt.load_text("second question")
        await tap(pilot, "enter")
        await wait_for(
            pilot,
            lambda: (
                all(len(v.conversation.replies) == 2 for v in tab.views) and not tab.comparison.busy
            ),
            what="follow-ups answered",
        )
        for view in tab.views:
            stored = await view.pane.session.get_messages()
            assert [(m.role, m.content) for m in stored] == [
                ("user", "first question"),
                ("assistant", "Echo: first question"),
                ("user", "second question"),
                ("assistant", "Echo: second question"),
            ]
        # continue with the second pane: a normal tab with the full history
        await tap(pilot, "alt+down")
        await wait_for(pilot, lambda: tab.selected == 1, what="second pane selected")
        await tap(pilot, "alt+e")
        winner = tab.comparison.panes[1].session_id
        await wait_for(pilot, lambda: screen.active_session_id == winner, what="winner's tab")
        pane = screen.chat_pane(winner)
        assert isinstance(pane, ChatPane)
        await wait_for(
            pilot, lambda: len(pane.conversation.query(MessageView)) == 4, what="history"
        )
        assert [v.message.content for v in pane.conversation.query(MessageView)][
            -1
        ] == "Echo: second question"
        # and the compare view is still a tab beside it
        await wait_for(pilot, lambda: app.focused is pane.prompt, what="winner's prompt")
        await pilot.pause()
        await tap(pilot, "alt+left")
        await wait_for(pilot, lambda: screen.active_compare is tab, what="back to the comparison")


async def test_a_comparison_reopens_after_a_restart(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        comparison = await client.compare([FAST, "lab/other"], "remember me")
        await comparison.wait(timeout=20)
        group_id = comparison.group_id
        app = CopilotApp(client)
        async with app.run_test(size=SIZE) as pilot:
            screen = await started(pilot)
            sessions = screen.sidebar.session_list
            await wait_for(pilot, lambda: sessions.option_count == 3, what="group in the sidebar")
            sessions.focus()
            await wait_for(pilot, lambda: sessions.has_focus, what="list focus")
            sessions.highlighted = sessions.get_option_index(f"group:{group_id}")
            await tap(pilot, "enter")
            await wait_for(pilot, lambda: screen.active_compare is not None, what="compare view")
            tab = screen.active_compare
            assert tab is not None and tab.group_id == group_id
            await wait_for(
                pilot,
                lambda: all(len(v.conversation.replies) == 1 for v in tab.views),
                what="history",
            )
            assert [v.conversation.last_reply() for v in tab.views] == ["Echo: remember me"] * 2
            assert all("done" in _header(tab, i) for i in range(2))
    # a new process: the tab comes back by itself, with its history and stats
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        app = CopilotApp(client)
        async with app.run_test(size=SIZE) as pilot:
            screen = await started(pilot)
            tab = screen.active_compare
            assert tab is not None and tab.group_id == group_id
            await wait_for(
                pilot,
                lambda: all(len(v.conversation.replies) == 1 for v in tab.views),
                what="history",
            )
            assert all("done" in _header(tab, i) and "ttft" in _header(tab, i) for i in range(2))
            # a follow-up after the restart still reaches every pane
            tab.prompt.focus()
            tab.prompt.load_text("still there?")
            await wait_for(pilot, lambda: tab.prompt.has_focus, what="prompt focus")
            await tap(pilot, "enter")
            await wait_for(
                pilot,
                lambda: all(len(v.conversation.replies) == 2 for v in tab.views),
                what="follow-ups",
            )
            assert [v.conversation.last_reply() for v in tab.views] == ["Echo: still there?"] * 2


async def test_max_concurrency_shows_extra_panes_as_waiting(
    tmp_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script(
        "slow", Script(text="slow " * 30, hold_at=5)
    )  # the first pane holds its slot until released
    config = write_config(tmp_path / "limited" / "config.toml", fake.base_url, max_concurrency="1")
    async with CopilotClient(config_path=config, data_dir=data_dir) as client:
        app = CopilotApp(client)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            tab = await _type_prompt(pilot, [SLOW, FAST], "one at a time")
            await wait_for(
                pilot,
                lambda: "waiting" in _header(tab, 1) and "streaming" in _header(tab, 0),
                what="second pane waits",
            )
            fake.release()
            await _done(pilot, tab)
            assert fake.max_active == 1
            assert [p.status for p in tab.comparison.panes] == ["done", "done"]


async def test_maximise_shows_one_pane_and_restores(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        fake.script("demo", Script(text=DEMO_MARKDOWN))  # all at once: the layout is what is tested
        tab = await _type_prompt(pilot, [FAST, "lab/other", "lab/demo", SLOW], "grid")
        await _done(pilot, tab)
        grid = tab.query_one("#compare-grid")
        assert (grid.styles.grid_size_columns, grid.styles.grid_size_rows) == (2, 2)
        await tap(pilot, "alt+down", "alt+down", "f11")
        await wait_for(pilot, lambda: tab.maximised, what="maximised")
        assert tab.selected == 2
        assert [v.display for v in tab.views] == [False, False, True, False]
        assert [v.conversation.paused for v in tab.views] == [True, True, False, True]
        await tap(pilot, "f11")
        await wait_for(pilot, lambda: not tab.maximised, what="restored")
        assert all(v.display for v in tab.views) and not any(
            v.conversation.paused for v in tab.views
        )


async def test_eight_panes_fill_a_four_by_two_grid(client: CopilotClient, fake: FakeOpenAI) -> None:
    """The most a comparison holds: every pane gets its own reply, laid out in two rows."""
    from copilot_tui.ui.screens.compare_dialog import CompareRequest

    app = CopilotApp(client)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await started(pilot)
        specs = [PaneSpec(FAST, f"You are pane {i + 1}.") for i in range(8)]
        screen.start_comparison(CompareRequest(specs, None, "eight at once"))
        await wait_for(pilot, lambda: screen.active_compare is not None, what="compare tab")
        tab = screen.active_compare
        await _done(pilot, tab)
        grid = tab.query_one("#compare-grid")
        assert (grid.styles.grid_size_columns, grid.styles.grid_size_rows) == (4, 2)
        rows = sorted({v.region.y for v in tab.views})
        assert len(rows) == 2 and all(
            v.region.width >= 30 and v.region.height >= 10 for v in tab.views
        )
        assert [p.status for p in tab.comparison.panes] == ["done"] * 8
        for view in tab.views:
            assert "Echo: eight at once" in text_of(view.conversation.query(MessageView).last())


async def test_dialog_needs_two_models_and_tells_repeats_apart(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        await tap(pilot, "ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, CompareScreen) and app.screen.query("#models"),
            what="dialog",
        )
        dialog = app.screen
        models_list = dialog.query_one("#models", OptionList)
        await wait_for(pilot, lambda: models_list.option_count > 3, what="models")
        models_list.focus()
        await wait_for(pilot, lambda: models_list.has_focus, what="list focus")
        models_list.highlighted = models_list.get_option_index(FAST)
        await tap(pilot, "enter")
        await tap(pilot, "ctrl+s")
        await wait_for(
            pilot, lambda: "at least 2" in text_of(dialog.query_one(".error")), what="at least 2"
        )
        # the same model again: said at once; the focus stays where the next name is typed
        models_list.focus()
        await wait_for(pilot, lambda: models_list.has_focus, what="list focus")
        await tap(pilot, "enter")
        await wait_for(
            pilot, lambda: "repeats" in text_of(dialog.query_one(".error")), what="repeat said"
        )
        assert models_list.has_focus and len(dialog._panes) == 2
        field = dialog.query_one("#pane-system", Input)
        dialog.query_one("#compare-first-prompt", Prompt).load_text("hello")
        await tap(pilot, "ctrl+s")
        await wait_for(
            pilot, lambda: "repeats" in text_of(dialog.query_one(".error")), what="repeats"
        )
        field.value = "Answer like a pirate"
        await wait_for(
            pilot,
            lambda: dialog._panes == [PaneSpec(FAST), PaneSpec(FAST, "Answer like a pirate")],
            what="system message kept",
        )
        await tap(pilot, "ctrl+s")
        await wait_for(pilot, lambda: screen.active_compare is not None, what="compare view")
        tab = screen.active_compare
        assert tab is not None
        assert [p.system_message for p in tab.comparison.panes] == [None, "Answer like a pirate"]
        assert "pirate" in tab.comparison.panes[1].label
        await _done(pilot, tab)
