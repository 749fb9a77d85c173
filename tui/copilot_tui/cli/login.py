"""``copilot-tui login copilot`` / ``copilot-tui logout``: the GitHub device flow for Copilot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..config import default_data_dir, load_config
from ..errors import CopilotTuiError
from ..providers.http import make_http_client
from ..service.login import NOTICE, DeviceCode, copilot_config, login_copilot, logout_copilot
from .common import EXIT_ERROR, EXIT_OK, error, exit_code_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="log in to a provider (GitHub Copilot) with the device flow")
    p.add_argument("provider", choices=["copilot"], help="the service to log in to")
    p.set_defaults(handler=_login)
    p = sub.add_parser("logout", help="forget the saved GitHub Copilot login")
    p.add_argument("provider", nargs="?", choices=["copilot"], default="copilot", help=argparse.SUPPRESS)
    p.set_defaults(handler=_logout)


def _copilot_config(args: argparse.Namespace):  # noqa: ANN202
    data_dir = Path(args.data_dir).expanduser() if getattr(args, "data_dir", None) else default_data_dir()
    return copilot_config(load_config(getattr(args, "config", None)), data_dir)


def _show_code(code: DeviceCode) -> None:
    minutes = max(1, code.expires_in // 60)
    print(
        f"\nTo log in to GitHub Copilot, open\n\n    {code.verification_uri}\n\n"
        f"and enter the code\n\n    {code.user_code}\n\n"
        f"Waiting for approval (the code expires in {minutes} minutes; Ctrl-C to cancel)...",
        flush=True,
    )


async def _do_login(args: argparse.Namespace) -> int:
    async with make_http_client() as http:
        result = await login_copilot(_copilot_config(args), http, _show_code)
    print(f"Logged in. The GitHub token is saved in {result.token_path} (readable only by you).")
    if result.problem:
        error(f"the login worked, but Copilot is not usable yet: {result.problem}")
        return EXIT_ERROR
    plan = f" (plan: {result.plan})" if result.plan else ""
    print(f"GitHub Copilot is ready{plan}. Try: copilot-tui models")
    print("Note: " + NOTICE)
    return EXIT_OK


def _login(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_do_login(args))
    except CopilotTuiError as exc:
        error(str(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("\nLogin cancelled.", file=sys.stderr)
        return 130


def _logout(args: argparse.Namespace) -> int:
    try:
        removed = logout_copilot(_copilot_config(args))
    except CopilotTuiError as exc:
        error(str(exc))
        return exit_code_for(exc)
    if removed:
        print(f"Logged out of GitHub Copilot: removed {removed}.")
        print("To revoke the app's access too, visit https://github.com/settings/applications.")
    else:
        print("Not logged in to GitHub Copilot (no saved login).")
    return EXIT_OK
