"""``copilot-tui db``: the session database's location and recovery from a corrupt file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import default_data_dir
from ..store import DB_NAME, move_aside
from .common import EXIT_ERROR, EXIT_OK, error


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="locate the session database or move a corrupt one aside")
    ds = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    ds.add_parser("path", help="print the database path").set_defaults(handler=_path)
    ds.add_parser("move-aside", help="rename the database file (kept, never deleted) so a fresh one is created").set_defaults(handler=_move)


def _db(args: argparse.Namespace) -> Path:
    return (Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()) / DB_NAME


def _path(args: argparse.Namespace) -> int:
    print(_db(args))
    return EXIT_OK


def _move(args: argparse.Namespace) -> int:
    path = _db(args)
    if not path.exists():
        error(f"{path} does not exist")
        return EXIT_ERROR
    try:
        target = move_aside(path)
    except OSError as exc:
        error(f"Cannot move {exc.filename or path} aside: {exc.strerror or type(exc).__name__}.")
        return EXIT_ERROR
    print(f"Moved {path} to {target}; the next start creates an empty database.")
    return EXIT_OK
