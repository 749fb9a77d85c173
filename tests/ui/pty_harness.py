"""The real app in a pseudo-terminal, fed the exact bytes terminals send.

Pilot tests inject key names; a terminal sends bytes, which Textual's parser turns into keys
(ESC DEL, ESC CR and ESC y each arrive differently from what their names suggest). Here the app
runs as ``python -m copilot_tui`` on a pty, the test writes bytes to it, and what happened is
read where it lands: the SQLite database (messages, titles, the open and active tabs) and the
terminal output (dialogs, OSC 52 clipboard writes). Nothing sleeps for a fixed time: every
wait polls a condition until it holds or a deadline passes.
"""

from __future__ import annotations

import base64
import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from copilot_tui.store import Store

ROOT = Path(__file__).resolve().parents[2]

# What terminals send. "legacy" is xterm's default encoding (tmux and screen pass it on; GNOME
# Terminal, VS Code, Windows Terminal and Terminal.app send the same); "kitty" is the kitty
# keyboard protocol (kitty, foot, WezTerm, Ghostty, iTerm2 with CSI u on).
ESC = "\x1b"
KEYS: dict[str, dict[str, str]] = {
    "legacy": {
        "enter": "\r",
        "escape": ESC,
        "ctrl+j": "\n",
        "alt+enter": ESC + "\r",
        "alt+backspace": ESC + "\x7f",
        "ctrl+w": "\x17",
        "ctrl+u": "\x15",
        "ctrl+pageup": ESC + "[5;5~",
        "ctrl+pagedown": ESC + "[6;5~",
        "alt+left": ESC + "[1;3D",
        "alt+right": ESC + "[1;3C",
        "alt+1": ESC + "1",
        "alt+2": ESC + "2",
        "alt+3": ESC + "3",
        "alt+w": ESC + "w",
        "alt+y": ESC + "y",
        "ctrl+r": "\x12",
        "ctrl+n": "\x0e",
        "ctrl+l": "\x0c",
        "ctrl+f": "\x06",
        "ctrl+g": "\x07",
        "ctrl+s": "\x13",
        "f1": ESC + "OP",
        "f2": ESC + "OQ",
        "f3": ESC + "OR",
        "pageup": ESC + "[5~",
        "ctrl+b": "\x02",
        "ctrl+o": "\x0f",
        "ctrl+t": "\x14",
        "f8": ESC + "[19~",
        "f11": ESC + "[23~",
        "alt+up": ESC + "[1;3A",
        "alt+down": ESC + "[1;3B",
        "alt+x": ESC + "x",
        "alt+e": ESC + "e",
        "alt+m": ESC + "m",
        "up": ESC + "[A",
        "down": ESC + "[B",
    },
    "kitty": {
        "enter": "\r",
        "escape": ESC + "[27u",
        "shift+enter": ESC + "[13;2u",
        "alt+enter": ESC + "[13;3u",
        "alt+backspace": ESC + "[127;3u",
        "ctrl+backspace": ESC + "[127;5u",
        "alt+1": ESC + "[49;3u",
        "alt+2": ESC + "[50;3u",
        "alt+w": ESC + "[119;3u",
        "alt+y": ESC + "[121;3u",
        "ctrl+w": ESC + "[119;5u",
        "ctrl+n": ESC + "[110;5u",
    },
}


class PtyApp:
    """One app process on a pty, with its own data dir and config."""

    def __init__(self, config_path: Path, data_dir: Path, size: tuple[int, int] = (120, 36)):
        self.config_path = config_path
        self.data_dir = data_dir
        self.size = size
        self._out = bytearray()
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self._fd = -1

    def start(self) -> PtyApp:
        master, slave = os.openpty()
        cols, rows = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ)
        env.update(
            COPILOT_TUI_CONFIG=str(self.config_path),
            COPILOT_TUI_DATA_DIR=str(self.data_dir),
            TERM="xterm-256color",
            COLORTERM="truecolor",
            PYTHONPATH=os.pathsep.join([str(ROOT / "tui"), str(ROOT), env.get("PYTHONPATH", "")]),
        )
        env.pop("TEXTUAL_DISABLE_KITTY_KEY", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "copilot_tui"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._fd = master
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def wait_raw(self) -> None:
        """Until the app has the terminal in raw mode (before that the tty turns enter into
        ctrl+j); it asks for focus events right after, the first thing a test can see."""
        self.wait(lambda: "\x1b[?1004h" in self.output(), "the app on the terminal")

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._out += data

    # -- input and output ------------------------------------------------------------------

    def write(self, *keys: str, proto: str = "legacy") -> None:
        """Write keys (names from KEYS, or literal text) as ONE write, as a terminal does when
        they are typed together or a remote link delivers them in one packet."""
        table = KEYS[proto]
        data = "".join(table.get(key, key) if len(key) > 1 else key for key in keys)
        os.write(self._fd, data.encode())

    @property
    def mark(self) -> int:
        """A position in the output: ``saw(text, since=mark)`` looks only after it."""
        with self._lock:
            return len(self._out)

    def output(self, since: int = 0) -> str:
        with self._lock:
            return self._out[since:].decode("utf-8", "replace")

    def saw(self, text: str, since: int = 0) -> bool:
        return text in self.output(since)

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"the app exited ({self.proc.returncode}) waiting for {what}: "
                    + self.output()[-2000:]
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)  # a poll interval, not a guess at how long anything takes

    def wait_output(self, text: str, since: int = 0, timeout: float = 20.0) -> None:
        self.wait(lambda: self.saw(text, since), f"{text!r} on screen", timeout)

    def copied(self, text: str, since: int = 0) -> bool:
        """Whether the app wrote ``text`` to the clipboard (OSC 52) after ``since``."""
        return f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}" in self.output(since)

    # -- what the app saved ----------------------------------------------------------------

    def _store(self, read: Callable[[Store], Any]) -> Any:
        store = Store(self.data_dir)
        try:
            return read(store)
        finally:
            store.close()

    def state(self, key: str) -> Any:
        return self._store(lambda s: s.get_state(key))

    def active_tab(self) -> str | None:
        """The active tab as saved: a session's id, or ``group:ID`` for a comparison."""
        return _tab_id(self.state("ui.active_tab"))

    def open_tabs(self) -> list[str | None]:
        return [_tab_id(t) for t in self.state("ui.open_tabs") or []]

    def messages(self, session_id: str) -> list[tuple[str, str]]:
        return self._store(lambda s: [(m.role, m.content) for m in s.get_messages(session_id)])

    def user_messages(self, session_id: str) -> list[str]:
        return [content for role, content in self.messages(session_id) if role == "user"]

    def groups(self) -> list[Any]:
        return self._store(lambda s: s.list_groups())

    def statuses(self, session_id: str) -> list[str]:
        return self._store(
            lambda s: [m.status for m in s.get_messages(session_id) if m.role == "assistant"]
        )

    def sessions(self) -> dict[str, Any]:
        return self._store(lambda s: {info.session_id: info for info in s.list_sessions()})

    def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.write(self._fd, b"\x11")  # ctrl+q
                proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        os.close(self._fd)
        self.proc = None


def _tab_id(saved: Any) -> str | None:
    if isinstance(saved, dict):
        return saved.get("session") or (f"group:{saved['group']}" if saved.get("group") else None)
    return saved if isinstance(saved, str) else None
