"""Steering from the keyboard: regenerate, versions, edit, fork, parameters, attachments."""

from __future__ import annotations

from pathlib import Path

from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import main_screen, open_tab, send, shown, started, tap, wait_for, wait_idle
from textual.widgets import Input, OptionList

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.steer import AttachScreen, ForkScreen, ParamsScreen, PickPromptScreen
from copilot_tui.ui.widgets.conversation import MessageView

SIZE = (120, 36)
MODEL = "gpt-4o-mini"


def palette_text(pilot) -> str:  # noqa: ANN001
    options = pilot.app.screen.query_one(OptionList)
    return " ".join(
        shown(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )


def views(pane) -> list[str]:  # noqa: ANN001
    return [" ".join(shown(v).split()) for v in pane.conversation.query(MessageView)]


async def test_regenerate_and_flip_between_versions(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script(MODEL, Script(text="red"), Script(text="blue"), Script(text="green"))
    session = await client.create_session(f"lab/{MODEL}")
    async with CopilotApp(client).run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "A colour?")
        await wait_idle(pilot, pane)
        await tap(pilot, "ctrl+r")
        await wait_for(pilot, lambda: any("blue" in v for v in views(pane)), what="new reply")
        await wait_idle(pilot, pane)
        shown_now = views(pane)
        assert len(shown_now) == 2 and "red" not in " ".join(shown_now)
        assert "‹ 2/2 ›" in shown_now[1]
        await tap(pilot, "alt+comma")
        await wait_for(pilot, lambda: any("red" in v for v in views(pane)), what="version 1")
        assert "‹ 1/2 ›" in views(pane)[1] and len(views(pane)) == 2
        await tap(pilot, "alt+full_stop")
        await wait_for(pilot, lambda: any("blue" in v for v in views(pane)), what="version 2")
        assert [m.content for m in await session.get_messages()] == ["A colour?", "blue"]


async def test_edit_an_earlier_prompt_as_a_new_branch(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    session = await client.create_session(f"lab/{MODEL}")
    await session.send_and_wait("first")
    await session.send_and_wait("second")
    async with CopilotApp(client).run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await wait_for(pilot, lambda: len(views(pane)) == 4, what="history")
        await tap(pilot, "alt+e")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PickPromptScreen))
        options = pilot.app.screen.query_one("#prompts", OptionList)
        assert options.highlighted == 0  # the newest first
        await tap(pilot, "down", "enter")  # the first prompt
        await wait_for(pilot, lambda: pane.prompt.text == "first", what="its text to edit")
        assert "editing prompt 1 of 2" in str(pane.prompt.border_title)
        pane.prompt.load_text("FIRST again")
        await tap(pilot, "enter")
        await wait_for(
            pilot, lambda: any("Echo: FIRST again" in v for v in views(pane)), what="new branch"
        )
        await wait_idle(pilot, pane)
        assert len(views(pane)) == 2 and "‹ 2/2 ›" in views(pane)[0]
        assert pane.prompt.border_title is None
        assert screen.workspace.compose(session.session_id).editing is None
        # the old branch is still there: back to it with the version keys
        await tap(pilot, "alt+comma")
        await wait_for(pilot, lambda: len(views(pane)) == 4, what="the old branch")
        assert "Echo: second" in views(pane)[3]
        # escape leaves an edit without sending
        await tap(pilot, "alt+e")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PickPromptScreen))
        await tap(pilot, "enter")
        await wait_for(pilot, lambda: pane.prompt.text == "second")
        await tap(pilot, "escape")
        await wait_for(pilot, lambda: pane.prompt.text == "" and pane.prompt.border_title is None)


async def test_fork_opens_the_copy_in_a_tab(client: CopilotClient, fake: FakeOpenAI) -> None:
    session = await client.create_session(f"lab/{MODEL}")
    await session.send_and_wait("one")
    await session.send_and_wait("two")
    async with CopilotApp(client).run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        await open_tab(pilot, session.session_id)
        await tap(pilot, "alt+f")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ForkScreen))
        await tap(pilot, "2", "enter")
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#model-filter", Input).has_focus)
        pilot.app.screen.query_one("#model-filter", Input).value = "other"
        await wait_for(
            pilot, lambda: pilot.app.screen.query_one("#model-filter", Input).value == "other"
        )
        await tap(pilot, "enter")
        await wait_for(
            pilot,
            lambda: screen.active_session_id not in (None, session.session_id),
            what="the fork's tab",
        )
        fork = screen.active_pane
        assert fork is not None and fork.session.model == "lab/other"
        await wait_for(pilot, lambda: len(views(fork)) == 2, what="the kept messages")
        assert "one" in views(fork)[0]


async def test_parameters_dialog_and_meta_line(client: CopilotClient, fake: FakeOpenAI) -> None:
    session = await client.create_session(f"lab/{MODEL}")
    async with CopilotApp(client).run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await tap(pilot, "alt+p")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ParamsScreen))
        dialog = pilot.app.screen
        dialog.query_one("#p-temperature", Input).value = "5"
        await tap(pilot, "enter")
        await wait_for(
            pilot,
            lambda: "from 0.0 to 2.0" in " ".join(shown(dialog.query_one("#params-error")).split()),
        )
        dialog.query_one("#p-temperature", Input).value = "0.2"
        dialog.query_one("#p-seed", Input).value = "7"
        await tap(pilot, "enter")
        await wait_for(pilot, lambda: session.params.seed == 7, what="saved")
        await send(pilot, pane, "hi")
        await wait_idle(pilot, pane)
        body = fake.requests_for(MODEL)[-1]["body"]
        assert (body["temperature"], body["seed"]) == (0.2, 7)
        assert "temp 0.2 · seed 7" in views(pane)[-1]


async def test_attach_a_file_and_an_at_path(
    client: CopilotClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("remember the milk\n")
    other = tmp_path / "todo.txt"
    other.write_text("buy bread\n")
    session = await client.create_session(f"lab/{MODEL}")
    async with CopilotApp(client).run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await tap(pilot, "alt+a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, AttachScreen))
        field = pilot.app.screen.query_one("#path", Input)
        field.value = str(tmp_path / "nope.md")
        await tap(pilot, "enter")
        await wait_for(
            pilot,
            lambda: (
                "no such file"
                in " ".join(shown(pilot.app.screen.query_one("#attach-error")).split())
            ),
        )
        field.value = str(notes)
        await tap(pilot, "enter")
        await wait_for(pilot, lambda: "notes.md" in str(pane.prompt.border_subtitle), what="chip")
        await send(pilot, pane, f"Read these @{other}")
        await wait_idle(pilot, pane)
        sent = fake.requests_for(MODEL)[-1]["body"]["messages"][-1]["content"]
        assert "File notes.md:\n```\nremember the milk\n```" in sent
        assert "File todo.txt:\n```\nbuy bread\n```" in sent
        assert pane.prompt.border_subtitle is None
        assert "▤ notes.md 18 B" in views(pane)[0] and "▤ todo.txt" in views(pane)[0]


async def test_tab_completes_an_at_path_and_the_palette_lists_steering(
    client: CopilotClient, fake: FakeOpenAI, tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "report-2026.md").write_text("numbers\n")
    monkeypatch.chdir(tmp_path)
    session = await client.create_session(f"lab/{MODEL}")
    async with CopilotApp(client).run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        pane.prompt.focus()
        pane.prompt.load_text("see @rep")
        pane.prompt.move_cursor(pane.prompt.document.end)
        await tap(pilot, "tab")
        await wait_for(pilot, lambda: pane.prompt.text == "see @report-2026.md", what="completed")
        assert pane.prompt.has_focus
        await tap(pilot, "ctrl+p")
        await wait_for(pilot, lambda: pilot.app.screen is not main_screen(pilot), what="palette")
        pilot.app.screen.query_one(Input).value = "regenerate"
        await wait_for(
            pilot,
            lambda: "Regenerate reply" in palette_text(pilot),
            what="the palette entry",
        )


async def test_fork_a_comparison_pane(client: CopilotClient, fake: FakeOpenAI) -> None:
    comparison = await client.compare([f"lab/{MODEL}", "lab/other"], "which is best?")
    await comparison.wait()
    async with CopilotApp(client).run_test(size=(150, 40)) as pilot:
        screen = await started(pilot)
        await screen.open_comparison(comparison.group_id)
        await wait_for(pilot, lambda: screen.active_compare is not None, what="compare view")
        tab = screen.active_compare
        await wait_for(pilot, lambda: all(v.loaded for v in tab.views), what="panes")
        await tap(pilot, "alt+down")
        await wait_for(pilot, lambda: tab.selected == 1, what="second pane")
        await tap(pilot, "alt+f")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ForkScreen))
        await tap(pilot, "enter")  # keep every message
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#model-filter", Input).has_focus)
        await tap(pilot, "enter")  # on the pane's own model
        await wait_for(pilot, lambda: screen.active_pane is not None, what="the fork's tab")
        fork = screen.active_pane
        assert fork.session.model == "lab/other" and fork.session.info.group_id is None
        await wait_for(pilot, lambda: len(views(fork)) == 2, what="its messages")
        assert "Echo: which is best?" in views(fork)[1]
