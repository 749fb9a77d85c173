"""How ``copilot-tui send --agent`` answers an agent's permission requests.

The flags decide first (``--allow-all-tools``, ``--deny-all-tools``, ``--allow-tool NAME``);
anything else is asked on the terminal. With no terminal to ask, the request is denied and
stderr says which flag would have allowed it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from ..text import strip_controls
from ..types import PermissionDecision, PermissionRequest, SessionMode

ANSWERS: dict[str, PermissionDecision] = {
    "y": "approve-once",
    "yes": "approve-once",
    "a": "approve-for-session",
    "always": "approve-for-session",
    "n": "reject",
    "no": "reject",
    "": "reject",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--agent",
        action="store_true",
        help="a new session is an agent with Copilot's tools (reads, edits, runs commands)",
    )
    p.add_argument("--cwd", metavar="DIR", help="the agent's working directory (default: here)")
    p.add_argument(
        "--allow-tool",
        action="append",
        default=[],
        metavar="NAME",
        help="let this tool (e.g. view, bash) or kind (read, write, shell, url) run unasked; repeatable",
    )
    either = p.add_mutually_exclusive_group()
    either.add_argument(
        "--allow-all-tools", action="store_true", help="never ask, allow every tool"
    )
    either.add_argument("--deny-all-tools", action="store_true", help="never ask, deny every tool")


def mode_of(args: argparse.Namespace) -> SessionMode:
    """``--agent`` or a ``--cwd`` makes the new sessions agents; else they are chats."""
    return "agent" if args.agent or args.cwd else "chat"


def _who(request: PermissionRequest) -> str:
    return strip_controls(request.tool_name or request.kind)


def terminal_handler(
    args: argparse.Namespace,
    note: Callable[[str], None],
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
) -> Callable[[PermissionRequest], Awaitable[PermissionDecision]]:
    """The permission handler for one ``send``; ``ask``/``interactive`` are for tests."""
    allowed = set(args.allow_tool or [])
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    read = ask or input

    async def decide(request: PermissionRequest) -> PermissionDecision:
        what = f"{_who(request)}: {strip_controls(request.summary)}"
        if args.deny_all_tools:
            note(f"denied {what} (--deny-all-tools)")
            return "reject"
        if args.allow_all_tools or request.tool_name in allowed or request.kind in allowed:
            return "approve-once"
        if not interactive:
            note(
                f"denied {what}: no terminal to ask; allow it with "
                f"--allow-tool {_who(request)} or --allow-all-tools"
            )
            return "user-not-available"
        prompt = f"Allow {what}? [y]es once, [a]lways in this session, [N]o: "
        while True:
            try:
                answer = await asyncio.to_thread(read, prompt)
            except EOFError:
                return "reject"
            decision = ANSWERS.get(answer.strip().lower())
            if decision is not None:
                return decision

    return decide
