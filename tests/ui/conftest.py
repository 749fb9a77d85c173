"""UI test settings shared by every file here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would be caught on or off at random: keep it on."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(TextArea.cursor_blink, "_default", False)
    monkeypatch.setattr(Input.cursor_blink, "_default", False)
