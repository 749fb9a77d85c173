"""Small dialogs: rename and confirm."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from ..safe import one_line
from .base import Dialog


class RenameScreen(Dialog[str | None]):
    def __init__(self, title: str) -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Rename session", classes="title", markup=False)
            yield Input(value=one_line(self._title), placeholder="Title", id="title")
            yield Static("", classes="error", markup=False)
            yield Static("enter saves · esc cancels", markup=False)

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted, "#title")
    def _submitted(self, event: Input.Submitted) -> None:
        title = event.value.strip()
        if not title:
            self.query_one(".error", Static).update("A title cannot be empty.")
            return
        self.dismiss(title)


class ConfirmScreen(Dialog[bool]):
    BINDINGS = [
        Binding("escape,n", "cancel", "No", id="confirm.no"),
        Binding("y", "confirm", "Yes", id="confirm.yes"),
    ]

    def __init__(self, question: str, yes: str = "Delete") -> None:
        super().__init__()
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(one_line(self._question), classes="title", markup=False)
            yield Static("y confirms · n / esc cancels", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="no")
                yield Button(self._yes, variant="error", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
