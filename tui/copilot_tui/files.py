"""Reading files the app expects to be regular files, safely.

A path the user controls (config, token file, database) can name a FIFO, a device or a
directory. Opening a FIFO for reading blocks until a writer appears, and reading a device
such as /dev/zero never ends, so the app would hang with no word. These helpers look at the
file before opening it, open without blocking, check again what was opened (the path may have
changed in between), and cap how much is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_READ = 16 * 1024 * 1024  # bytes: far beyond any config or token file


class NotRegularFile(OSError):
    """The path names something other than a regular file; ``kind`` says what."""

    def __init__(self, path: Path | str, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file")
        self.filename = str(path)
        self.kind = kind


class FileTooLarge(OSError):
    def __init__(self, path: Path | str, limit: int) -> None:
        super().__init__(f"{path} is larger than {limit} bytes")
        self.filename = str(path)
        self.limit = limit


def kind_of(mode: int) -> str:
    """What a file mode describes, for a sentence ("a FIFO", "a directory")."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def check_regular(path: Path | str) -> None:
    """Raise NotRegularFile if ``path`` exists and is not a regular file (symlinks followed)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise NotRegularFile(path, kind_of(mode))


def read_regular(path: Path | str, *, limit: int = MAX_READ) -> bytes:
    """The bytes of the regular file ``path``: never blocks on a FIFO, never reads a device.

    Raises FileNotFoundError and other OSErrors as open() does, NotRegularFile for anything but
    a regular file, FileTooLarge beyond ``limit`` bytes.
    """
    check_regular(path)
    fd = os.open(
        path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped for something else since the first look
            raise NotRegularFile(path, kind_of(mode))
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise FileTooLarge(path, limit)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
