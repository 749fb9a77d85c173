"""Completing a file path from what is on disk (the attach dialog, ``@path`` in a prompt)."""

from __future__ import annotations

import os
from pathlib import Path


def complete_path(value: str) -> str | None:
    """The first entry on disk that ``value`` starts (hidden ones only when asked for)."""
    if not value:
        return None
    folder, _, stem = value.rpartition("/")
    where = (
        Path(os.path.expanduser(folder or "."))
        if folder or not value.startswith("/")
        else Path("/")
    )
    try:
        names = sorted(os.listdir(where))
    except OSError:
        return None
    for name in names:
        if (
            name.startswith(stem)
            and name != stem
            and (stem.startswith(".") or not name.startswith("."))
        ):
            slash = "/" if (where / name).is_dir() else ""
            return (
                f"{folder}/{name}{slash}" if folder or value.startswith("/") else f"{name}{slash}"
            )
    return None
