"""A process killed with SIGKILL mid-stream loses nothing saved: user message and partial reply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from copilot_tui.store import Store
from tests.conftest import kill_once_partly_saved
from tests.servers.openai_server import FakeOpenAI, Script

CHILD = r"""
import asyncio, sys
from copilot_tui import CopilotClient

async def main():
    async with CopilotClient(config_path=sys.argv[1], data_dir=sys.argv[2]) as client:
        sessions = [await client.create_session(model="lab/slow", session_id=f"kill-{i}") for i in range(3)]
        for s in sessions:
            await s.send("stream something long please")
        print("sent", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


def test_sigkill_while_three_sessions_stream(
    config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("slow", Script(text="token " * 2000, delay=0.005))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config_path), str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "sent"
    kill_once_partly_saved(proc, data_dir, [f"kill-{i}" for i in range(3)])
    store = Store(data_dir)
    for i in range(3):
        messages = store.get_messages(f"kill-{i}")
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[0].content == "stream something long please"
        reply = messages[1]
        assert reply.status == "interrupted" and reply.content.startswith("token token")
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
