"""``copilot-tui login copilot`` / ``copilot-tui logout``: the GitHub device flow for Copilot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..config import ProviderConfig, default_data_dir, load_config
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
from ..providers.http import make_http_client
from .common import EXIT_ERROR, EXIT_OK, error, exit_code_for

NOTICE = (
    "Note: this uses the same GitHub Copilot endpoints as the editor integrations; every prompt\n"
    "counts against your Copilot plan, and copilot-tui keeps its request rate modest."
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="log in to a provider (GitHub Copilot) with the device flow")
    p.add_argument("provider", choices=["copilot"], help="the service to log in to")
    p.set_defaults(handler=_login)
    p = sub.add_parser("logout", help="forget the saved GitHub Copilot login")
    p.add_argument("provider", nargs="?", choices=["copilot"], default="copilot", help=argparse.SUPPRESS)
    p.set_defaults(handler=_logout)


def _copilot_config(args: argparse.Namespace) -> ProviderConfig:
    """The first ``type = "copilot"`` provider of the config (its URLs and token file), else defaults."""
    config = load_config(getattr(args, "config", None))
    data_dir = Path(args.data_dir).expanduser() if getattr(args, "data_dir", None) else default_data_dir()
    for pc in config.providers.values():
        if pc.type == "copilot":
            pc.data_dir = data_dir
            return pc
    return ProviderConfig(name="copilot", type="copilot", data_dir=data_dir)


def _show_code(code: DeviceCode) -> None:
    minutes = max(1, code.expires_in // 60)
    print(
        f"\nTo log in to GitHub Copilot, open\n\n    {code.verification_uri}\n\n"
        f"and enter the code\n\n    {code.user_code}\n\n"
        f"Waiting for approval (the code expires in {minutes} minutes; Ctrl-C to cancel)...",
        flush=True,
    )


async def _do_login(pc: ProviderConfig) -> int:
    extra = pc.extra
    path = token_path(extra.get("token_file"), pc.data_dir)
    async with make_http_client() as http:
        github_token = await device_login(
            http, _show_code,
            github_url=str(extra.get("github_url") or GITHUB_URL),
            client_id=str(extra.get("client_id") or CLIENT_ID),
        )
        save_github_token(path, github_token)
        print(f"Logged in. The GitHub token is saved in {path} (readable only by you).")
        manager = CopilotTokenManager(
            http, lambda: github_token,
            token_url=str(extra.get("token_url") or TOKEN_URL),
            headers=editor_headers(str(extra.get("editor_version") or EDITOR_VERSION)),
        )
        try:
            token = await manager.get()
        except CopilotTuiError as exc:
            error(f"the login worked, but Copilot is not usable yet: {exc}")
            return EXIT_ERROR
    plan = f" (plan: {token.sku})" if token.sku else ""
    print(f"GitHub Copilot is ready{plan}. Try: copilot-tui models")
    print(NOTICE)
    return EXIT_OK


def _login(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_do_login(_copilot_config(args)))
    except CopilotTuiError as exc:
        error(str(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("\nLogin cancelled.", file=sys.stderr)
        return 130


def _logout(args: argparse.Namespace) -> int:
    try:
        pc = _copilot_config(args)
        path = token_path(pc.extra.get("token_file"), pc.data_dir)
    except CopilotTuiError as exc:
        error(str(exc))
        return exit_code_for(exc)
    if delete_github_token(path):
        print(f"Logged out of GitHub Copilot: removed {path}.")
        print("To revoke the app's access too, visit https://github.com/settings/applications.")
    else:
        print("Not logged in to GitHub Copilot (no saved login).")
    return EXIT_OK
