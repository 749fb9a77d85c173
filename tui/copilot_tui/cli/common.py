"""Shared CLI plumbing: exit codes, error printing, running a command with a started client."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from ..errors import ConfigError, CopilotTuiError, InvalidSessionId
from ..service import CopilotClient
from ..text import strip_controls

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

Command = Callable[[CopilotClient, argparse.Namespace], Awaitable[int]]


class UsageError(CopilotTuiError):
    """Bad arguments: exit code 2."""


def error(message: str) -> None:
    print(f"copilot-tui: {strip_controls(message)}", file=sys.stderr)


def exit_code_for(exc: BaseException) -> int:
    return EXIT_USAGE if isinstance(exc, (ConfigError, UsageError, InvalidSessionId)) else EXIT_ERROR


def run_with_client(command: Command, args: argparse.Namespace) -> int:
    """Start a client from --config/--data-dir, run the command, turn errors into one line."""

    async def go() -> int:
        async with CopilotClient(config_path=args.config, data_dir=args.data_dir) as client:
            for warning in client.config.warnings if client.config else []:
                error(f"warning: {warning}")
            return await command(client, args)

    try:
        return asyncio.run(go())
    except CopilotTuiError as exc:
        error(str(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        return 130


def safe_writer(stream: TextIO) -> Callable[[str], None]:
    """Write untrusted text: control sequences are stripped when the stream is a terminal."""
    tty = stream.isatty()

    def write(text: str) -> None:
        stream.write(strip_controls(text) if tty else text)
        stream.flush()

    return write


def read_prompt(value: str) -> str:
    if value == "-":
        text = sys.stdin.read().rstrip("\r\n")
        if not text.strip():
            raise UsageError("The prompt read from standard input is empty.")
        return text
    if not value.strip():
        raise UsageError("The prompt is empty.")
    return value


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain left-aligned text table."""
    cells = [headers, *rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def jsonable(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(type(obj).__name__)
