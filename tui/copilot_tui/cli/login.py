"""``copilot-tui login copilot`` / ``copilot-tui logout``: the GitHub device flow for Copilot."""

from __future__ import annotations

import argparse
import sys

from ..service import CopilotClient
from ..service.login import NOTICE, DeviceCode
from .common import EXIT_ERROR, EXIT_OK, error, run_with_client


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="log in to a provider (GitHub Copilot) with the device flow")
    p.add_argument("provider", choices=["copilot"], help="the service to log in to")
    p.set_defaults(handler=_login)
    p = sub.add_parser("logout", help="forget the saved GitHub Copilot login")
    p.add_argument(
        "provider", nargs="?", choices=["copilot"], default="copilot", help=argparse.SUPPRESS
    )
    p.set_defaults(handler=_logout)


def _show_code(code: DeviceCode) -> None:
    minutes = max(1, code.expires_in // 60)
    print(
        f"\nTo log in to GitHub Copilot, open\n\n    {code.verification_uri}\n\n"
        f"and enter the code\n\n    {code.user_code}\n\n"
        f"Waiting for approval (the code expires in {minutes} minutes; Ctrl-C to cancel)...",
        flush=True,
    )


async def _do_login(client: CopilotClient, args: argparse.Namespace) -> int:
    result = await client.login_copilot(_show_code)
    print(f"Logged in. The GitHub token is saved in {result.token_path} (readable only by you).")
    if result.problem:
        error(f"the login worked, but Copilot is not usable yet: {result.problem}")
        return EXIT_ERROR
    plan = f" (plan: {result.plan})" if result.plan else ""
    print(f"GitHub Copilot is ready{plan}. Try: copilot-tui models")
    print("Note: " + NOTICE)
    return EXIT_OK


def _login(args: argparse.Namespace) -> int:
    code = run_with_client(_do_login, args)
    if code == 130:
        print("\nLogin cancelled.", file=sys.stderr)
    return code


async def _do_logout(client: CopilotClient, args: argparse.Namespace) -> int:
    removed = await client.logout_copilot()
    if removed:
        print(f"Logged out of GitHub Copilot: removed {removed}.")
        print("To revoke the app's access too, visit https://github.com/settings/applications.")
    else:
        print("Not logged in to GitHub Copilot (no saved login).")
    return EXIT_OK


def _logout(args: argparse.Namespace) -> int:
    return run_with_client(_do_logout, args)
