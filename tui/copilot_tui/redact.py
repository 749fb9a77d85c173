"""Masking credentials in text that reaches the user, the store or a terminal.

Servers sometimes quote the key they rejected in their error body; whatever credential this
process has sent is remembered here so such text is masked before anyone sees or saves it.
"""

from __future__ import annotations

import threading

MASK = "********"
_MIN_LENGTH = 8  # shorter values are too likely to occur in ordinary text
_lock = threading.Lock()
_secrets: set[str] = set()


def remember_secret(value: str | None) -> None:
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    if not text or not _secrets:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
