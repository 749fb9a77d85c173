"""``copilot-tui db``: the session database's location and recovery from a corrupt file."""

from __future__ import annotations

import argparse

from ..service.database import database_path, move_database_aside
from .common import EXIT_ERROR, EXIT_OK, error


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="locate the session database or move a corrupt one aside")
    ds = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    ds.add_parser("path", help="print the database path").set_defaults(handler=_path)
    ds.add_parser(
        "move-aside",
        help="rename the database file (kept, never deleted) so a fresh one is created",
    ).set_defaults(handler=_move)


def _path(args: argparse.Namespace) -> int:
    print(database_path(args.data_dir))
    return EXIT_OK


def _move(args: argparse.Namespace) -> int:
    path = database_path(args.data_dir)
    try:
        moved = move_database_aside(args.data_dir)
    except OSError as exc:
        error(f"Cannot move {exc.filename or path} aside: {exc.strerror or type(exc).__name__}.")
        return EXIT_ERROR
    if moved is None:
        error(f"{path} does not exist")
        return EXIT_ERROR
    path, target = moved
    print(f"Moved {path} to {target}; the next start creates an empty database.")
    return EXIT_OK
