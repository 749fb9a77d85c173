"""The Copilot login as a dialog: code and URL shown, approval awaited, models appear after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.servers.copilot_server import GITHUB_TOKEN, USER_CODE, FakeCopilot
from tests.ui.helpers import started, wait_for
from textual.widgets import OptionList, Static

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.login import LoginScreen
from copilot_tui.ui.screens.new_session import NewSessionScreen


@pytest.fixture
def copilot() -> Iterator[FakeCopilot]:
    with FakeCopilot() as fake:
        yield fake


async def test_login_dialog_shows_code_and_logs_in(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.approve({"error": "authorization_pending"})
    config = tmp_path / "config.toml"
    config.write_text('default_model = "copilot/gpt-4.1"\n' + copilot.config())
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as client:
        status = next(s for s in await client.provider_statuses() if s.name == "copilot")
        assert not status.usable and "not logged in" in (status.reason or "")
        app = CopilotApp(client)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await started(pilot)
            screen.action_login()
            await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="login dialog")
            dialog = app.screen
            await wait_for(
                pilot,
                lambda: any(USER_CODE in str(w.render()) for w in dialog.query("#code")),
                what="code shown",
            )
            assert f"{copilot.url}/login/device" in str(dialog.query_one("#url", Static).render())
            await wait_for(pilot, lambda: dialog._finished, what="login finished")
            assert dialog._done and "Logged in" in str(dialog.query_one("#step", Static).render())
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
            # the picker shows what a prompt costs, and a model the account may not use
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen), what="dialog")
            models = app.screen.query_one("#models", OptionList)

            def row(model_id: str) -> tuple[str, bool]:
                option = models.get_option(model_id)
                return str(option.prompt), option.disabled

            await wait_for(pilot, lambda: models.option_count > 3, what="copilot's models")
            assert "1x premium" in row("copilot/claude-sonnet-4.5")[0]
            assert "included" in row("copilot/gpt-4.1")[0]
            text, disabled = row("copilot/gemini-2.5-pro")
            assert disabled and "policy: requires_consent" in text
        token_file = tmp_path / "data" / "copilot-github-token.json"
        assert token_file.stat().st_mode & 0o777 == 0o600 and GITHUB_TOKEN in token_file.read_text()
        status = next(
            s for s in await client.provider_statuses(refresh=True) if s.name == "copilot"
        )
        assert status.usable and status.models
        assert await client.logout_copilot() == token_file and not token_file.exists()


async def test_declined_login_is_one_sentence(copilot: FakeCopilot, tmp_path: Path) -> None:
    copilot.poll_answers = [{"error": "access_denied"}]
    config = tmp_path / "config.toml"
    config.write_text(copilot.config())
    async with CopilotClient(config_path=config, data_dir=tmp_path / "data") as client:
        app = CopilotApp(client)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await started(pilot)
            screen.action_login()
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, LoginScreen) and app.screen._finished,
                what="login ended",
            )
            text = str(app.screen.query_one("#step", Static).render())
            assert "declined" in text and not app.screen._done
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
    assert not (tmp_path / "data" / "copilot-github-token.json").exists()
