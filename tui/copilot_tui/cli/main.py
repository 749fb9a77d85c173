"""Entry point of the ``copilot-tui`` command."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from .. import __version__
from .common import (
    EXIT_ERROR,
    EXIT_USAGE,
    OutputError,
    error,
    finish_output,
    output_error,
    prepare_streams,
)

# Each module registers its subcommands; a module that is not part of this build is skipped.
COMMAND_MODULES = (
    "send",
    "sessions",
    "models",
    "config_cmd",
    "compare",
    "votes",
    "login",
    "db",
)


class _Parser(argparse.ArgumentParser):
    """Every (sub)command also accepts --config/--data-dir, so they work before or after it."""

    def __init__(self, *args, root: bool = False, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        if not root:
            self.add_argument(
                "--config", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )
            self.add_argument(
                "--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )

    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every other error
        self.print_usage(sys.stderr)
        error(message)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        root=True,
        prog="copilot-tui",
        description="Many LLM conversations at once. Without a command, opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"copilot-tui {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $COPILOT_TUI_CONFIG or the user config dir)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data directory (default: $COPILOT_TUI_DATA_DIR or the user data dir)",
    )
    parser.add_argument(
        "--session", metavar="ID", help="TUI: open this session (created if missing)"
    )
    parser.add_argument(
        "--model", metavar="PROVIDER/MODEL", help="TUI: model for a session created by --session"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    prepare_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        try:
            from ..ui.app import run_app
        except ImportError as exc:  # pragma: no cover - a broken install
            error(f"the terminal UI cannot start: {exc}")
            return 1
        return run_app(
            config_path=args.config,
            data_dir=args.data_dir,
            session_id=args.session,
            model=args.model,
        )
    try:
        code = args.handler(args)
    except OutputError as exc:
        if not exc.broken_pipe:
            error(str(exc))
        code = EXIT_ERROR
    except OSError as exc:  # print() to a full or closed standard output
        failure = output_error(exc) if exc.filename is None else None
        if failure is None or not failure.broken_pipe:
            error(
                str(failure)
                if failure
                else f"Cannot use {exc.filename}: {exc.strerror or type(exc).__name__}."
            )
        code = EXIT_ERROR
    return finish_output(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
