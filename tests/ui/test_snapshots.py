"""SVG snapshots of the main screen, a code block and the dialogs.

Regenerate after an intended change with ``pytest tests/ui/test_snapshots.py --snapshot-update``.
Timings would differ per run, so these run with ``show_meta = false``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.ui.helpers import main_screen, wait_for
from textual.pilot import Pilot

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.main import MainScreen
from copilot_tui.ui.widgets.conversation import MessageView

SIZE = (120, 34)


@pytest.fixture
def snap_config(tmp_path: Path, fake) -> Path:
    path = tmp_path / "snap" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        'default_model = "lab/gpt-4o-mini"\n'
        f'[providers.lab]\ntype = "openai"\nbase_url = "{fake.base_url}"\n'
        '[providers.offline]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\ntimeout = 2\n'
        "[ui]\nshow_meta = false\n"
    )
    return path


@pytest.fixture
def make_app(snap_config: Path, data_dir: Path):
    def make() -> CopilotApp:
        return CopilotApp(CopilotClient(config_path=snap_config, data_dir=data_dir))

    return make


async def _ready(pilot: Pilot) -> MainScreen:
    await wait_for(
        pilot, lambda: any(isinstance(s, MainScreen) for s in pilot.app.screen_stack), what="main"
    )
    screen = main_screen(pilot)
    await wait_for(pilot, lambda: not screen.restoring, what="start-up")
    return screen


async def _session(
    pilot: Pilot, sid: str, model: str, prompt: str | None, title: str | None = None
) -> None:
    client: CopilotClient = pilot.app.client  # type: ignore[attr-defined]
    session = await client.create_session(model, session_id=sid, title=title or "")
    if prompt:
        await session.send_and_wait(prompt)
    screen = main_screen(pilot)
    await screen.open_session(sid)
    pane = screen.chat_pane(sid)
    assert pane is not None
    expected = 2 if prompt else 0
    await wait_for(
        pilot, lambda: len(pane.conversation.query(MessageView)) >= expected, what="history"
    )


async def _settle(pilot: Pilot) -> None:
    screen = main_screen(pilot)
    await screen.refresh_sessions()
    await pilot.pause(0.2)
    await pilot.wait_for_scheduled_animations()


def test_main_screen(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await _session(pilot, "rust-chat", "lab/gpt-4o-mini", "What is a lifetime in Rust?")
        await _session(pilot, "pasta", "lab/other", "Best pasta shape for pesto?")
        await _session(pilot, "user-123-chat", "lab/gpt-4o-mini", "Hello [bold red]not markup[/]")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_code_block(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await _session(pilot, "venv-howto", "lab/demo", "How do I make a virtualenv?")
        await pilot.press("ctrl+b")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_new_session_dialog(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+n")
        await wait_for(
            pilot,
            lambda: (
                pilot.app.screen.query("#models")
                and pilot.app.screen.query_one("#models").option_count > 3
            ),
            what="models",
        )
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("f1")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 50), run_before=run_before)


def test_delete_confirmation(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await _session(pilot, "doomed", "lab/gpt-4o-mini", None, title="Old experiment")
        await _settle(pilot)
        screen = main_screen(pilot)
        screen.sidebar.session_list.focus()
        await pilot.press("d")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_switch_model_dialog(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await _session(pilot, "swap", "lab/gpt-4o-mini", None, title="Swap my model")
        await pilot.press("ctrl+l")
        await wait_for(
            pilot,
            lambda: (
                pilot.app.screen.query("#models")
                and pilot.app.screen.query_one("#models").option_count > 3
            ),
            what="models",
        )
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_welcome_without_a_provider(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.service.test_discovery import fresh_machine

    from copilot_tui.ui.widgets.welcome import Welcome

    fresh_machine(monkeypatch, tmp_path)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # the reason shows the address: keep it fixed
    app = CopilotApp(CopilotClient(config_path=tmp_path / "none.toml", data_dir=tmp_path / "data"))

    async def run_before(pilot: Pilot) -> None:
        screen = await _ready(pilot)
        await wait_for(pilot, lambda: screen.query_one(Welcome).setup, what="every status")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_new_session_dialog_without_a_provider_at_80x24(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.service.test_discovery import fresh_machine

    fresh_machine(monkeypatch, tmp_path)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # the reason shows the address: keep it fixed
    app = CopilotApp(CopilotClient(config_path=tmp_path / "none.toml", data_dir=tmp_path / "data"))

    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+n")
        await wait_for(
            pilot,
            lambda: (
                pilot.app.screen.query("#models")
                and pilot.app.screen.query_one("#models").option_count == 6
            ),
            what="statuses",
        )
        await pilot.press("down", "down")  # onto openai's entry: highlighted, whole and readable
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_versions_chips_and_an_edit(snap_compare, make_app, tmp_path: Path) -> None:
    """A regenerated reply shows ‹ 2/2 ›, a prompt's files their chips, and the prompt says
    which earlier prompt it edits."""
    (tmp_path / "notes.md").write_text("# notes\n")

    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        client: CopilotClient = pilot.app.client  # type: ignore[attr-defined]
        session = await client.create_session("lab/gpt-4o-mini", session_id="steer", title="Steer")
        await session.send_and_wait("Summarise my notes", attachments=[tmp_path / "notes.md"])
        await session.regenerate_and_wait()
        screen = main_screen(pilot)
        await screen.open_session("steer")
        pane = screen.chat_pane("steer")
        assert pane is not None
        await wait_for(pilot, lambda: len(pane.conversation.query(MessageView)) == 2)
        await pilot.press("alt+e")
        await wait_for(pilot, lambda: pilot.app.screen is not screen, what="prompt list")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.prompt.text == "Summarise my notes", what="edit")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_parameters_dialog(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ready(pilot)
        await _session(pilot, "tuned", "lab/gpt-4o-mini", None, title="Tuned")
        client: CopilotClient = pilot.app.client  # type: ignore[attr-defined]
        await (await client.resume_session("tuned")).set_params(temperature=0.2, seed=7)
        await pilot.press("alt+p")
        await wait_for(pilot, lambda: pilot.app.screen.query("#p-temperature"), what="dialog")
        await _settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
