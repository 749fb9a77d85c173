"""Shared CLI plumbing: exit codes, error printing, running a command with a started client."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from ..errors import ConfigError, CopilotTuiError, InvalidSessionId
from ..redact import redact
from ..service import CopilotClient
from ..text import clean_text, strip_controls

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

Command = Callable[[CopilotClient, argparse.Namespace], Awaitable[int]]


class UsageError(CopilotTuiError):
    """Bad arguments: exit code 2."""


class OutputError(CopilotTuiError):
    """Standard output or an output file cannot be written: exit code 1."""

    def __init__(self, message: str, *, broken_pipe: bool = False) -> None:
        super().__init__(message)
        self.broken_pipe = broken_pipe  # the reader went away (``| head``): nothing to say


def os_error_sentence(exc: OSError, what: str) -> str:
    """One sentence for a failed write or read of ``what`` (a path, or "standard output")."""
    reason = exc.strerror or type(exc).__name__
    return f"Cannot write {what}: {reason}."


def output_error(exc: OSError, what: str = "to standard output") -> OutputError:
    return OutputError(os_error_sentence(exc, what), broken_pipe=exc.errno == errno.EPIPE)


def error(message: str) -> None:
    try:
        print(f"copilot-tui: {strip_controls(message)}", file=sys.stderr, flush=True)
    except OSError:  # stderr itself is gone or full: the exit code is all that is left
        pass


def prepare_streams() -> None:
    """Make standard output and error safe for any text, and log as one line per record.

    Text the app prints has been cleaned, but a terminal in a legacy encoding (ISO-8859-1)
    cannot show every character: it gets a replacement instead of a UnicodeEncodeError.
    Internal warnings are one line on stderr (with a traceback only if COPILOT_TUI_DEBUG is set).
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLine("copilot-tui: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if os.environ.get("COPILOT_TUI_DEBUG"):
            return super().format(record)
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" ({type(exc).__name__}: {exc})"
        return " ".join(strip_controls(redact(clean_text(text))).split())


def finish_output(code: int) -> int:
    """Flush standard output; a failure is one sentence and exit code 1.

    Afterwards standard output points at /dev/null, so the interpreter's own flush at exit
    cannot fail a second time with a traceback.
    """
    try:
        sys.stdout.flush()
    except OSError as exc:
        failure = output_error(exc)
        if not failure.broken_pipe:
            error(str(failure))
        code = code or EXIT_ERROR
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
    return code


def write_file(path: str, text: str) -> None:
    """Write ``text`` to ``path``; any failure is one sentence naming the path."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(os_error_sentence(exc, path)) from None


def exit_code_for(exc: BaseException) -> int:
    return (
        EXIT_USAGE if isinstance(exc, (ConfigError, UsageError, InvalidSessionId)) else EXIT_ERROR
    )


def run_with_client(command: Command, args: argparse.Namespace) -> int:
    """Start a client from --config/--data-dir, run the command, turn errors into one line."""

    async def go() -> int:
        async with CopilotClient(config_path=args.config, data_dir=args.data_dir) as client:
            for warning in client.config.warnings if client.config else []:
                error(f"warning: {warning}")
            return await command(client, args)

    try:
        return asyncio.run(go())
    except OutputError as exc:
        if not exc.broken_pipe:
            error(str(exc))
        return EXIT_ERROR
    except CopilotTuiError as exc:
        error(str(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        return 130


def safe_writer(stream: TextIO) -> Callable[[str], None]:
    """Write untrusted text: control sequences are stripped when the stream is a terminal."""
    tty = stream.isatty()

    def write(text: str) -> None:
        try:
            stream.write(strip_controls(text) if tty else text)
            stream.flush()
        except OSError as exc:
            raise output_error(exc) from None

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
