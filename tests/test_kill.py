"""A process killed with SIGKILL mid-stream loses nothing saved: user message and partial reply."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from copilot_tui.store import Store
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


def test_sigkill_while_three_sessions_stream(config_path: Path, data_dir: Path, fake: FakeOpenAI) -> None:
    fake.script("slow", Script(text="token " * 2000, delay=0.005))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(config_path), str(data_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout and proc.stdout.readline().strip() == "sent"
        # wait until at least one flush (once a second) has saved partial text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            store = Store(data_dir)
            partial = [m for s in range(3) for m in store.get_messages(f"kill-{s}") if m.role == "assistant" and m.content]
            store.close()
            if len(partial) == 3:
                break
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    store = Store(data_dir)
    for i in range(3):
        messages = store.get_messages(f"kill-{i}")
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[0].content == "stream something long please"
        reply = messages[1]
        assert reply.status == "interrupted" and reply.content.startswith("token token")
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
