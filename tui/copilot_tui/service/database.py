"""The session database as a file: where it is, and moving a corrupt one aside.

Both work without opening the database, which is the point when it cannot be opened.
"""

from __future__ import annotations

from pathlib import Path

from ..config import default_data_dir
from ..store import DB_NAME, move_aside

__all__ = ["database_path", "move_database_aside"]


def database_path(data_dir: str | Path | None = None) -> Path:
    return (Path(data_dir).expanduser() if data_dir else default_data_dir()) / DB_NAME


def move_database_aside(data_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """Rename the database (kept, never deleted): (old, new) path, or None if there is none.

    OSError when the rename is refused.
    """
    path = database_path(data_dir)
    if not path.exists():
        return None
    return path, move_aside(path)
