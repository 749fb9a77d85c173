"""Files sent with a prompt: text as context, images in each API's own format, stored once."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from copilot_tui import CopilotClient
from copilot_tui.errors import CopilotTuiError
from copilot_tui.service.attachments import MAX_TEXT, read_attachment
from copilot_tui.store import Store
from tests.servers.openai_server import FakeOpenAI

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24  # enough of a PNG for its type to be known


async def test_text_and_image_reach_the_model_and_are_stored_once(
    client: CopilotClient, fake: FakeOpenAI, tmp_path: Path, data_dir: Path
) -> None:
    code = tmp_path / "main.py"
    code.write_text("print('hi')\n")
    image = tmp_path / "shot.png"
    image.write_bytes(PNG)
    s = await client.create_session(model="lab/gpt-4o-mini")
    await s.send_and_wait("Review this", attachments=[code, image])
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    text = "Review this\n\nFile main.py:\n```\nprint('hi')\n```"
    sent = fake.requests_for("gpt-4o-mini")[-1]["body"]["messages"]
    assert sent == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]
    # a follow-up sends them again, read back from the store
    await s.send_and_wait("And again", attachments=[image])
    sent = fake.requests_for("gpt-4o-mini")[-1]["body"]["messages"]
    assert (
        sent[0]["content"][1]["image_url"]["url"] == url
        and sent[2]["content"][1]["image_url"]["url"] == url
    )
    shown = await s.get_messages()
    assert [a.chip() for a in shown[0].attachments] == [
        "\u25a4 main.py 12 B",
        "\u25a4 shot.png 32 B",
    ]
    assert shown[0].content == "Review this"  # the file is not part of the prompt's text
    store = Store(data_dir)
    try:
        assert store.conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 2
        assert store.conn.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 3
    finally:
        store.close()
    fork = await client.fork_session(s.session_id, at=1)
    assert [a.name for a in (await fork.get_messages())[0].attachments] == ["main.py", "shot.png"]


async def test_files_that_cannot_go_say_why(tmp_path: Path, client: CopilotClient) -> None:
    big = tmp_path / "big.log"
    big.write_text("x" * (MAX_TEXT + 1))
    with pytest.raises(
        CopilotTuiError,
        match=r"big.log: it is 256 KB of text; a text attachment can be at most 256 KB",
    ):
        read_attachment(big)
    binary = tmp_path / "a.bin"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(CopilotTuiError, match="neither text nor an image"):
        read_attachment(binary)
    with pytest.raises(CopilotTuiError, match="no such file"):
        read_attachment(tmp_path / "missing.txt")
    with pytest.raises(CopilotTuiError, match="it is a directory"):
        read_attachment(tmp_path)
    s = await client.create_session(model="lab/gpt-4o-mini")
    with pytest.raises(CopilotTuiError, match="no such file"):
        await s.send("hi", attachments=[tmp_path / "missing.txt"])
    assert await s.get_messages() == []
