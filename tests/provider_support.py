"""Helpers for the provider tests: a config file pointing at a fake, a started client, a turn."""

from __future__ import annotations

from pathlib import Path

from copilot_tui import CopilotClient
from copilot_tui.errors import ProviderError
from copilot_tui.service import Session
from copilot_tui.types import Message


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def client_for(tmp_path: Path, text: str) -> CopilotClient:
    return CopilotClient(config_path=write_config(tmp_path, text), data_dir=tmp_path / "data")


async def turn(client: CopilotClient, model: str, prompt: str = "hello there") -> Message:
    session = await client.create_session(model=model)
    return await session.send_and_wait(prompt, timeout=30)


async def failed_turn(
    client: CopilotClient, model: str, prompt: str = "hello there"
) -> tuple[ProviderError, Message]:
    """Run a turn that must fail; return the error and the saved reply (with any partial text)."""
    session: Session = await client.create_session(model=model)
    try:
        await session.send_and_wait(prompt, timeout=30)
    except ProviderError as exc:
        messages = await session.get_messages()
        return exc, messages[-1]
    raise AssertionError("the turn did not fail")
