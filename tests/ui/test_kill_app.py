"""SIGKILL the running app while three sessions stream: nothing saved is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import kill_once_partly_saved
from tests.servers.openai_server import FakeOpenAI, Script

from copilot_tui import CopilotClient

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[3])
from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from tests.ui.helpers import open_tab, send, started, wait_idle

async def main():
    async with CopilotClient(config_path=sys.argv[1], data_dir=sys.argv[2]) as client:
        done = await client.create_session("lab/gpt-4o-mini", session_id="finished")
        sessions = [await client.create_session("lab/slow", session_id=f"kill-{i}") for i in range(3)]
        app = CopilotApp(client)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(pilot)
            pane = await open_tab(pilot, done.session_id)
            await send(pilot, pane, "a finished question")
            await wait_idle(pilot, pane)
            for s in sessions:
                pane = await open_tab(pilot, s.session_id)
                await send(pilot, pane, f"stream something long please {s.session_id}")
            print("sent", flush=True)
            await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.parametrize("moment", ["as the prompts go out", "once replies are partly saved"])
async def test_sigkill_of_the_app_while_three_sessions_stream(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, moment: str
) -> None:
    fake.script("slow", Script(text="token " * 3000, delay=0.005))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config_path), str(data_dir), str(ROOT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "sent"
    if moment == "as the prompts go out":
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
            finished = await (await client.resume_session("finished")).get_messages()
            assert [m.status for m in finished] == ["complete", "complete"]
            for i in range(3):  # whatever got saved is whole: no reply is left "streaming"
                messages = await (await client.resume_session(f"kill-{i}")).get_messages()
                assert [m.role for m in messages] in ([], ["user"], ["user", "assistant"])
                if messages:
                    assert messages[0].content == f"stream something long please kill-{i}"
                if len(messages) == 2:
                    assert messages[1].status == "interrupted"
        return
    kill_once_partly_saved(proc, data_dir, [f"kill-{i}" for i in range(3)])
    assert proc.returncode == -signal.SIGKILL
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        finished = await (await client.resume_session("finished")).get_messages()
        assert [(m.role, m.content, m.status) for m in finished] == [
            ("user", "a finished question", "complete"),
            ("assistant", "Echo: a finished question", "complete"),
        ]
        for i in range(3):
            messages = await (await client.resume_session(f"kill-{i}")).get_messages()
            assert [m.role for m in messages] == ["user", "assistant"]
            assert messages[0].content == f"stream something long please kill-{i}"
            assert messages[1].status == "interrupted" and messages[1].content.startswith(
                "token token"
            )
