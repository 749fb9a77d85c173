"""What the main area shows with no tab open: a prompt that starts a session right away."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..safe import one_line
from .prompt import Prompt


class Welcome(Vertical):
    """Typing here and pressing enter creates a session on the default model and sends."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._model: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="welcome-text", markup=False)
        yield Prompt(id="welcome-prompt")

    @property
    def prompt(self) -> Prompt:
        return self.query_one("#welcome-prompt", Prompt)

    def set_model(self, model: str | None) -> None:
        self._model = model
        if model:
            text = (
                f"Start a conversation with {one_line(model)}: type below and press enter.\n"
                "ctrl+n picks another model · ctrl+k compares models · ctrl+o opens a session · f1 lists every key"
            )
        else:
            text = (
                "No model is available yet. ctrl+n shows every provider and how to set it up; "
                "ctrl+p → 'Log in to GitHub Copilot' logs in."
            )
        self.query_one("#welcome-text", Static).update(text)
