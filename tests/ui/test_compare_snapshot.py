"""SVG snapshot of the compare view: three models, one failed, the fastest marked.

Timings differ per run, so the panes' stats are set to fixed figures once every pane is done.
Regenerate after an intended change with ``pytest tests/ui/test_compare_snapshot.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.servers.openai_server import Script
from tests.ui.helpers import main_screen, wait_for
from textual.pilot import Pilot

from copilot_tui import CopilotClient
from copilot_tui.types import ReplyStats
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.main import MainScreen

SIZE = (140, 36)
FIXED = {
    0: ReplyStats(ttft=0.21, duration=1.4, output_tokens=61),
    1: ReplyStats(ttft=0.95, duration=7.5, output_tokens=121, tokens_estimated=True),
    2: ReplyStats(duration=0.03),  # the failed pane: its header shows its time too
}


@pytest.fixture
def snap_config(tmp_path: Path, fake) -> Path:
    path = tmp_path / "snap" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        'default_model = "lab/gpt-4o-mini"\n'
        f'[providers.lab]\ntype = "openai"\nbase_url = "{fake.base_url}"\n'
        "[ui]\nshow_meta = false\n"
    )
    return path


def test_compare_view(snap_compare, snap_config: Path, data_dir: Path, fake) -> None:
    fake.script("gpt-4o-mini", Script(text="Use **trofie**: the twists hold pesto best."))
    fake.script(
        "slow",
        Script(
            text="Fusilli or gemelli.\n\nBoth trap the sauce in their folds, so every bite is coated."
        ),
    )
    fake.script("fail", Script(status=500))

    async def run_before(pilot: Pilot) -> None:
        await wait_for(
            pilot,
            lambda: any(isinstance(s, MainScreen) for s in pilot.app.screen_stack),
            what="main",
        )
        screen = main_screen(pilot)
        await wait_for(pilot, lambda: not screen.restoring, what="start-up")
        client: CopilotClient = pilot.app.client  # type: ignore[attr-defined]
        comparison = await client.compare(
            ["lab/gpt-4o-mini", "lab/slow", "lab/fail"], "Best pasta shape for pesto?"
        )
        await comparison.wait(timeout=20)
        for index, stats in FIXED.items():
            comparison.panes[index].stats = stats
        failed = comparison.panes[2].session
        reply = [m for m in await failed.get_messages() if m.role == "assistant"][-1]
        await client.runtime.store.update_message(
            reply.id, stats=ReplyStats(duration=0.03)
        )  # shown under the error
        await screen.refresh_sessions()
        await screen.open_comparison(comparison.group_id)
        tab = screen.active_compare
        assert tab is not None
        await wait_for(
            pilot, lambda: all(len(v.conversation.replies) == 1 for v in tab.views), what="history"
        )
        tab.refresh_headers()
        pilot.app.clear_notifications()
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()

    app = CopilotApp(CopilotClient(config_path=snap_config, data_dir=data_dir))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
