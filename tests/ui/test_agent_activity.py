"""An agent's pane: its tool calls as compact blocks in the conversation, a permission request
answered by a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import (
    open_tab,
    send,
    shown,
    sidebar_mark,
    started,
    tap,
    wait_for,
    wait_idle,
)

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.widgets.agent_activity import AgentActivity, ToolBlock

pytestmark = pytest.mark.usefixtures("copilot_runtime")


@pytest.mark.parametrize(
    ("key", "mark", "words"), [("y", "\u2713", "pumpkin"), ("n", "\u2717", None)]
)
async def test_a_permission_request_is_answered_from_the_keyboard(
    client: CopilotClient,
    fake: FakeOpenAI,
    tmp_path: Path,
    key: str,
    mark: str,
    words: str | None,
) -> None:
    (tmp_path / "notes.txt").write_text("the secret word is pumpkin\n")
    fake.script(
        "gpt-4o-mini",
        Script(tool_calls=[("view", {"path": str(tmp_path / "notes.txt")})]),
        Script(echo_tool=True),
    )
    session = await client.create_session(mode="agent", cwd=tmp_path)
    app = CopilotApp(client)
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "what is in notes.txt?")
        activity = pane.query_one(AgentActivity)
        await wait_for(pilot, lambda: activity.asking is not None, 60, what="permission asked")
        assert "Read file:" in shown(activity.query_one("#agent-ask"))
        assert sidebar_mark(pilot, session.session_id) == "waiting"  # the session waits
        await wait_for(pilot, lambda: activity.has_focus, what="the request has the keys")
        await tap(pilot, key)
        await wait_idle(pilot, pane, timeout=60)
        assert activity.asking is None and not activity.display
        (block,) = pane.conversation.query(ToolBlock)
        assert f"{mark} view" in shown(block)
        # in the conversation: after the prompt, before the reply it serves
        kids = list(pane.conversation.children)
        assert kids.index(block) == len(kids) - 2
        reply = [m for m in await session.get_messages() if m.role == "assistant"][-1]
        assert (words in reply.content) if words else "pumpkin" not in reply.content


async def test_the_new_session_dialog_makes_an_agent_in_a_folder(
    client: CopilotClient, tmp_path: Path
) -> None:
    from textual.widgets import Input

    from copilot_tui.ui.screens.new_session import NewSessionScreen

    app = CopilotApp(client)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await started(pilot)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen), what="dialog")
        dialog = app.screen
        dialog.query_one("#session-id", Input).value = "agent-ui"
        folder = dialog.query_one("#agent-cwd", Input)
        folder.value = str(tmp_path / "missing")
        folder.focus()
        await tap(pilot, "enter")
        await wait_for(
            pilot,
            lambda: "does not exist" in " ".join(shown(dialog.query_one(".error")).split()),
            what="the folder refused",
        )
        assert app.screen is dialog
        folder.value = str(tmp_path)
        await tap(pilot, "enter")
        await wait_for(pilot, lambda: screen.active_session_id == "agent-ui", what="created")
        info = await client.get_session_info("agent-ui")
        assert info.mode == "agent" and info.cwd == str(tmp_path)
        pane = await open_tab(pilot, "agent-ui")
        assert pane.query(AgentActivity)  # an agent's tab has the permission strip


async def test_a_killed_runtime_is_a_sentence_in_its_tab_and_the_app_goes_on(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    import os
    import signal

    from tests.conftest import write_config

    from copilot_tui.ui.widgets.conversation import MessageView

    fake.script("gpt-4o-mini", Script(hold_at=1), Script())
    cfg = write_config(tmp_path / "c.toml", fake.base_url, runtime='"copilot"')
    async with CopilotClient(config_path=cfg, data_dir=tmp_path / "d") as client:
        session = await client.create_session()
        app = CopilotApp(client)
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await started(pilot)
            pane = await open_tab(pilot, session.session_id)
            await send(pilot, pane, "hold on")
            await wait_for(pilot, lambda: bool(pane.conversation.streaming), 60, what="streaming")
            runtime = await client.runtime.providers.sdk.client()
            os.kill(runtime._cli_process.pid, signal.SIGKILL)
            await wait_for(
                pilot,
                lambda: screen.workspace.mark(session.session_id) == "error",
                timeout=60,
                what="error mark",
            )
            await wait_idle(pilot, pane)
            view = list(pane.conversation.query(MessageView))[-1]
            assert "The Copilot runtime stopped" in " ".join(shown(view).split())
            fake.release()
            await send(pilot, pane, "again")  # the next message starts a new runtime
            await wait_idle(pilot, pane, replies=2, timeout=60)
            assert pane.conversation.last_reply().endswith("again")


async def test_agents_compared_ask_in_their_panes_one_after_the_other(
    client: CopilotClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    from tests.ui.helpers import main_screen

    from copilot_tui.ui.widgets.compare_view import CompareTab

    (tmp_path / "notes.txt").write_text("the secret word is pumpkin\n")
    for model in ("gpt-4o-mini", "demo"):
        fake.script(
            model, Script(tool_calls=[("view", {"path": "notes.txt"})]), Script(echo_tool=True)
        )
    app = CopilotApp(client)
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await started(pilot)
        comparison = await client.compare(
            ["lab/gpt-4o-mini", "lab/demo"], "what is in notes.txt?", mode="agent", cwd=tmp_path
        )
        await screen.open_comparison(comparison.group_id)
        await wait_for(
            pilot, lambda: isinstance(screen.active_compare, CompareTab), what="compare tab"
        )
        tab = screen.active_compare
        assert tab is not None

        def focused_question() -> AgentActivity | None:
            return next(
                (a for a in tab.query(AgentActivity) if a.has_focus and a.asking is not None),
                None,
            )

        for _ in range(2):  # each pane's question takes the keys in turn; y answers it
            await wait_for(pilot, lambda: focused_question() is not None, 60, what="a question")
            asking = focused_question()
            assert asking is not None and asking.asking is not None
            request = asking.asking.request_id
            await tap(pilot, "y")
            await wait_for(
                pilot,
                lambda a=asking, r=request: a.asking is None or a.asking.request_id != r,
                what="that question answered",
            )
        await wait_for(pilot, lambda: not comparison.busy, 60, what="both agents done")
        assert all("pumpkin" in p.text and p.tool_calls == 1 for p in comparison.panes)
        for view in tab.views:
            (block,) = view.conversation.query(ToolBlock)
            assert "\u2713 view" in shown(block)
        await wait_for(pilot, lambda: tab.prompt.has_focus, what="the prompt has the keys back")
        assert main_screen(pilot) is screen
