"""The welcome on a first launch: it offers a model only if one can answer, else says how to set one up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.service.test_discovery import fresh_machine, offline
from tests.ui.helpers import started, wait_for
from textual.pilot import Pilot

from copilot_tui import CopilotClient
from copilot_tui.providers.ollama import OllamaProvider
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.new_session import NewSessionScreen
from copilot_tui.ui.widgets.welcome import Welcome

FIXES = (
    "pip install xllamacpp==2026.10.11549",
    "copilot-tui login copilot",
    "export OPENAI_API_KEY=",
    "export ANTHROPIC_API_KEY=",
    "export GITHUB_TOKEN=",
    "ollama serve",
)


def screen_text(pilot: Pilot) -> str:
    """Every character on the screen now, line by line."""
    return "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())


def app_for(tmp_path: Path) -> CopilotApp:
    """A first launch: no config file, so every provider is discovered."""
    return CopilotApp(CopilotClient(config_path=tmp_path / "none.toml", data_dir=tmp_path / "data"))


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Ollama's status check waits until the test opens this gate, as a slow network would."""
    opened = asyncio.Event()
    real = OllamaProvider.status

    async def status(self: OllamaProvider):  # type: ignore[no-untyped-def]
        await opened.wait()
        return await real(self)

    monkeypatch.setattr(OllamaProvider, "status", status)
    return opened


def _has_local_model() -> bool:
    import importlib.util

    from copilot_tui.service.discovery import bundled_smollm2

    return importlib.util.find_spec("xllamacpp") is not None and bundled_smollm2() is not None


async def test_with_no_provider_the_welcome_says_so_and_how_to_fix_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_machine(monkeypatch, tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await started(pilot)
        welcome = screen.query_one(Welcome)
        await wait_for(
            pilot,
            lambda: "No model can answer yet" in screen_text(pilot),
            what="the no-provider welcome",
        )
        text = screen_text(pilot)
        assert (
            "Start a conversation" not in text and "Message…" not in text
        )  # no prompt to a model that cannot answer
        for fix in FIXES:
            assert text.count(fix) == 1, fix
        assert app.focused is welcome.query_one("#welcome-body")
        await pilot.press("ctrl+n")  # the keys the welcome names work from here
        await wait_for(
            pilot, lambda: isinstance(app.screen, NewSessionScreen), what="new session dialog"
        )


async def test_the_welcome_is_drawn_before_slow_checks_and_updated_when_they_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gate: asyncio.Event
) -> None:
    fresh_machine(monkeypatch, tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await started(pilot)
        welcome = screen.query_one(Welcome)
        await wait_for(
            pilot,
            lambda: "Checking which providers can answer (ollama)" in screen_text(pilot),
            what="checking",
        )
        assert app.focused is welcome.prompt
        await pilot.press(*"hi", "enter")  # too early: said, not sent anywhere
        await wait_for(
            pilot,
            lambda: any("Still checking" in str(n.message) for n in app._notifications),
            what="a note",
        )
        assert screen.active_pane is None
        gate.set()
        await wait_for(
            pilot, lambda: "No model can answer yet" in screen_text(pilot), what="the statuses"
        )
        assert "Checking" not in screen_text(pilot)


@pytest.mark.skipif(not _has_local_model(), reason="needs the local model installed")
async def test_with_the_local_model_installed_the_welcome_offers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gate: asyncio.Event
) -> None:
    offline(monkeypatch, tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await started(pilot)
        welcome = screen.query_one(Welcome)
        offer = "Start a conversation with local/smollm2: type below and press enter."
        await wait_for(
            pilot,
            lambda: "Still checking ollama" in screen_text(pilot),
            what="offered while ollama is checked",
        )
        assert offer in screen_text(pilot) and app.focused is welcome.prompt
        gate.set()
        await wait_for(
            pilot, lambda: "Still checking" not in screen_text(pilot), what="ollama's answer"
        )
        text = screen_text(pilot)
        assert offer in text and "No model can answer" not in text and "pip install" not in text
        assert app.focused is welcome.prompt


async def test_the_setup_text_scrolls_from_the_keyboard_at_80x24(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_machine(monkeypatch, tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot)
        await wait_for(
            pilot,
            lambda: "No model can answer yet" in screen_text(pilot),
            what="the no-provider welcome",
        )
        assert app.focused is screen.query_one(Welcome).query_one("#welcome-body")
        assert "xllamacpp==2026.10.11549" not in screen_text(
            pilot
        )  # the last fix is below the fold at this size
        await pilot.press("end")
        await wait_for(
            pilot, lambda: "xllamacpp==2026.10.11549" in screen_text(pilot), what="the last fix"
        )
        assert "No model can answer yet" not in screen_text(pilot)
        await pilot.press("home")
        await wait_for(
            pilot, lambda: "No model can answer yet" in screen_text(pilot), what="back at the top"
        )
        assert "New session" in screen_text(pilot).splitlines()[-1]  # the footer stays
