"""Logging in to GitHub Copilot with the device flow: one implementation for the CLI and the TUI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from ..config import Config, ProviderConfig
from ..errors import CopilotTuiError
from ..providers.copilot_auth import (
    CLIENT_ID,
    EDITOR_VERSION,
    GITHUB_URL,
    TOKEN_URL,
    CopilotTokenManager,
    DeviceCode,
    delete_github_token,
    device_login,
    editor_headers,
    save_github_token,
    token_path,
)

NOTICE = (
    "This uses the same GitHub Copilot endpoints as the editor integrations; every prompt counts "
    "against your Copilot plan, and copilot-tui keeps its request rate modest."
)

__all__ = [
    "NOTICE",
    "DeviceCode",
    "LoginResult",
    "copilot_config",
    "login_copilot",
    "logout_copilot",
]


@dataclass(slots=True, frozen=True)
class LoginResult:
    token_path: Path
    plan: str | None = None
    problem: str | None = None  # the login was saved, but Copilot cannot be used (yet)


def copilot_config(config: Config | None, data_dir: Path) -> ProviderConfig:
    """The first ``type = "copilot"`` provider of the config (its URLs, token file), else defaults."""
    for pc in config.providers.values() if config else ():
        if pc.type == "copilot":
            return replace(pc, data_dir=data_dir)
    return ProviderConfig(name="copilot", type="copilot", data_dir=data_dir)


def _token_file(pc: ProviderConfig) -> Path:
    return token_path(pc.extra.get("token_file"), pc.data_dir)


async def login_copilot(
    pc: ProviderConfig, http: httpx.AsyncClient, on_code: Callable[[DeviceCode], Any]
) -> LoginResult:
    """Show the code (``on_code``), wait for approval, save the GitHub token (0600), check access."""
    extra = pc.extra
    path = _token_file(pc)
    github_token = await device_login(
        http,
        on_code,
        github_url=str(extra.get("github_url") or GITHUB_URL),
        client_id=str(extra.get("client_id") or CLIENT_ID),
    )
    save_github_token(path, github_token)
    manager = CopilotTokenManager(
        http,
        lambda: github_token,
        token_url=str(extra.get("token_url") or TOKEN_URL),
        headers=editor_headers(str(extra.get("editor_version") or EDITOR_VERSION)),
    )
    try:
        token = await manager.get()
    except CopilotTuiError as exc:
        return LoginResult(path, problem=str(exc))
    return LoginResult(path, plan=token.sku or None)


def logout_copilot(pc: ProviderConfig) -> Path | None:
    """Forget the saved login; the removed file, or None when there was none."""
    path = _token_file(pc)
    return path if delete_github_token(path) else None
