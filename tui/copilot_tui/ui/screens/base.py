"""Shared base for dialogs: escape closes without a result."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    # below this many rows dialogs drop their spacing (see dialogs.tcss) so the buttons still show
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    def action_cancel(self) -> None:
        self.dismiss(None)
