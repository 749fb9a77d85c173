"""Every fault of the service tests, through the TUI: the failing tab shows one sentence and its
partial reply, a tab streaming at the same time finishes untouched, the app keeps answering keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write_config
from tests.servers.openai_server import FakeOpenAI, Script
from tests.service.test_faults import FAULTS
from tests.ui.helpers import open_tab, send, shown, sidebar_mark, started, tap, wait_for, wait_idle

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.widgets.conversation import MessageView

PARTIAL = {"malformed", "dropped", "stall"}

pytestmark = pytest.mark.usefixtures("quick_retries")  # failures retried before they show


@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault_in_one_tab(tmp_path: Path, fake: FakeOpenAI, name: str) -> None:
    script, _error_type, phrase = FAULTS[name]
    fake.script("gpt-4o-mini", script)
    steady = " ".join(f"steady{i}" for i in range(10))
    fake.script(
        "slow", Script(text=steady, delay=0.01, until_released=True)
    )  # streams until released
    cfg = write_config(tmp_path / "c.toml", fake.base_url, timeout="1")
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        bystander = await client.create_session("lab/slow")
        victim = await client.create_session("lab/gpt-4o-mini")
        app = CopilotApp(client)
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await started(pilot)
            other = await open_tab(pilot, bystander.session_id)
            await send(pilot, other, "keep streaming")
            await wait_for(
                pilot,
                lambda: sidebar_mark(pilot, bystander.session_id) == "streaming",
                what="bystander streaming",
            )
            pane = await open_tab(pilot, victim.session_id)
            await send(pilot, pane, "trigger the fault please")
            await wait_for(
                pilot,
                lambda: screen.workspace.mark(victim.session_id) == "error",
                timeout=30,
                what="error mark",
            )
            await wait_idle(pilot, pane)
            view = list(pane.conversation.query(MessageView))[-1]
            assert view.message.status == "error" and view.has_class("-error")
            sentence = view.message.error or ""
            assert phrase in sentence and "\n" not in sentence and "Traceback" not in sentence
            visible = " ".join(shown(view).split())
            assert sentence.split()[0] in visible
            if name in PARTIAL:
                assert view.message.content.startswith("one") and "one" in visible
            await tap(pilot, "f1")  # still answering keys
            await wait_for(pilot, lambda: app.screen is not screen, what="help opens")
            await tap(pilot, "escape")
            await wait_for(pilot, lambda: app.screen is screen, what="help closes")
            assert bystander.state == "streaming"  # all along
            fake.release()
            await wait_idle(pilot, other)
            assert other.conversation.last_reply() == fake.sent_for("keep streaming")
            assert other.conversation.last_reply().startswith(f"{steady}{steady}")


async def test_a_sidebar_rebuild_landing_while_the_app_closes(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    """While replies stream a sidebar rebuild waits a moment; on quitting it can wake after the
    screen's widgets are gone (seen in the benchmark as a crash on exit). It must end quietly."""
    from textual.worker import WorkerState

    from copilot_tui.ui.widgets.topbar import TopBar

    cfg = write_config(tmp_path / "c.toml", fake.base_url)
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        await client.create_session("lab/gpt-4o-mini")
        app = CopilotApp(client)
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await started(pilot)
            await screen.query_one(TopBar).remove()  # as when the app tears the screen down
            worker = screen.refresh_sessions_soon()
            await wait_for(pilot, lambda: worker.is_finished, what="rebuild")
            assert worker.state == WorkerState.SUCCESS
