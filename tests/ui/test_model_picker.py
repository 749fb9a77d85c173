"""The model picker from the keyboard: every provider's entry can be reached and read, none can be picked unless usable."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write_config
from tests.service.test_discovery import fresh_machine
from tests.ui.helpers import started, wait_for
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.compare_dialog import CompareScreen
from copilot_tui.ui.screens.new_session import NewSessionScreen

# what each provider's entry shows once the cursor is on it (short enough never to wrap)
SHOWN = {
    "copilot": "copilot-tui login copilot",
    "github-models": "<a token with models: read>",
    "openai": "OPENAI_API_KEY is not set",
    "anthropic": "ANTHROPIC_API_KEY is not set",
    "ollama": "ollama serve",
    "local": "xllamacpp==2026.10.11549",
}


def screen_text(pilot: Pilot) -> str:
    return "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())


def highlighted(pilot: Pilot) -> str | None:
    option = pilot.app.screen.query_one("#models", OptionList).highlighted_option
    return option.id if option else None


async def open_picker(pilot: Pilot, key: str, screen_type: type, count: int) -> OptionList:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type), what="dialog")
    models = pilot.app.screen.query_one("#models", OptionList)
    await wait_for(
        pilot, lambda: not models.loading and models.option_count >= count, what="statuses"
    )
    return models


async def test_every_provider_entry_is_reached_read_and_never_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_machine(monkeypatch, tmp_path)
    client = CopilotClient(config_path=tmp_path / "none.toml", data_dir=tmp_path / "data")
    app = CopilotApp(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_picker(pilot, "ctrl+n", NewSessionScreen, 6)
        assert app.focused is app.screen.query_one("#model-filter", Input)
        reached = [highlighted(pilot)]
        for _ in range(5):
            await pilot.press("down")  # from the filter, as in a combo box
            reached.append(highlighted(pilot))
            name = (reached[-1] or "").removeprefix("unusable:")
            await wait_for(
                pilot,
                lambda name=name: SHOWN[name] in screen_text(pilot),
                what=f"{name}'s entry in view",
            )
        assert reached == [f"unusable:{n}" for n in SHOWN]
        text = screen_text(pilot)
        assert "Cancel" in text and "Create" in text  # the buttons still show at 80x24
        await pilot.press("enter")
        note = "local is not set up yet: see its fix above."
        await wait_for(pilot, lambda: note in screen_text(pilot), what="why enter did nothing")
        await wait_for(  # the note does not push the entry out of view (once laid out again)
            pilot, lambda: SHOWN["local"] in screen_text(pilot), what="local's entry still shown"
        )
        await pilot.press("ctrl+s")
        await pilot.press("tab")  # to the session id field: its enter also creates
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: screen_text(pilot).count(note) == 2, what="the same note as the error"
        )
        assert isinstance(app.screen, NewSessionScreen) and await client.list_sessions() == []


async def test_usable_models_come_first_and_a_dead_provider_cannot_be_picked(
    tmp_path: Path, fake, data_dir: Path
) -> None:
    config = write_config(tmp_path / "cfg" / "config.toml", fake.base_url)
    with config.open("a") as f:
        f.write(
            '[providers.offline]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\ntimeout = 2\n'
        )
    client = CopilotClient(config_path=config, data_dir=data_dir)
    app = CopilotApp(client)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await started(pilot)
        models = await open_picker(pilot, "ctrl+n", NewSessionScreen, 3)
        ids = [o.id for o in models._options if o.id]
        assert ids[-1] == "unusable:offline" and all(i.startswith("lab/") for i in ids[:-1])
        assert highlighted(pilot) == "lab/gpt-4o-mini"
        await pilot.press("end")  # in the filter: no effect on the list
        while highlighted(pilot) != "unusable:offline":
            await pilot.press("down")
        assert "127.0.0.1:9" in screen_text(pilot)  # its reason, readable in the list
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "offline is not set up yet" in screen_text(pilot), what="the note"
        )
        assert app.screen.query_one("#model-filter", Input).has_focus  # nothing was picked
        await pilot.press("up", "enter")  # one enter on a model creates the session
        await wait_for(pilot, lambda: screen.active_pane is not None, what="created")
        assert screen.active_pane is not None and screen.active_pane.session.model == ids[-2]

        await open_picker(pilot, "ctrl+s", CompareScreen, 3)
        while highlighted(pilot) != "unusable:offline":
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "offline is not set up yet" in screen_text(pilot), what="the note"
        )
        assert "(none yet)" in screen_text(pilot)  # no pane was added for it
