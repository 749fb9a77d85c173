"""New session: pick a model (grouped by provider), optional custom id and system message, and
optionally a folder, which makes the session an agent working there with Copilot's tools."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea

from ...errors import CopilotTuiError
from ...ids import validate_session_id
from ...service import CopilotClient
from ..engine.access import hold_keys
from ..widgets.model_picker import ModelPicker, fill_picker
from .base import Dialog


@dataclass
class NewSessionRequest:
    model: str
    session_id: str | None
    system_message: str | None
    cwd: str | None = None  # an agent's working directory; None: a chat


class NewSessionScreen(Dialog[NewSessionRequest | None]):
    BINDINGS = [*Dialog.BINDINGS, ("ctrl+s", "create", "Create")]

    def __init__(self, client: CopilotClient) -> None:
        super().__init__()
        self._client = client

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("New session", classes="title", markup=False)
            yield ModelPicker(self._client.default_model)
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label("Session id (optional)")
                    yield Input(placeholder="e.g. user-123-chat", id="session-id")
                with Vertical(classes="right"):
                    yield Label("Agent in folder (optional)")
                    yield Input(placeholder="empty: a chat, no tools", id="agent-cwd")
            yield Label("System message (optional)")
            yield TextArea(id="system", soft_wrap=True)
            yield Static("", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", variant="primary", id="create")

    def on_mount(self) -> None:
        self.query_one("#model-filter", Input).focus()
        self.load_models(hold_keys(self.app))

    @work
    async def load_models(self, release_keys: Callable[[], None]) -> None:
        await fill_picker(
            self.query_one(ModelPicker), self._client.provider_statuses(), release_keys
        )

    @on(ModelPicker.Picked)
    def _picked(self) -> None:
        """Enter on a model creates the session (tab first to fill in an id or system message)."""
        self.action_create()

    @on(Input.Submitted, "#session-id")
    @on(Input.Submitted, "#agent-cwd")
    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        model = self.query_one(ModelPicker).selected
        error = self.query_one(".error", Static)
        if not model:
            error.update(self.query_one(ModelPicker).why_not() or "Pick a model first.")
            return
        session_id = self.query_one("#session-id", Input).value.strip() or None
        if session_id is not None:
            try:
                validate_session_id(session_id)
            except CopilotTuiError as exc:
                error.update(str(exc))
                return
        system = self.query_one("#system", TextArea).text.strip() or None
        cwd = self.query_one("#agent-cwd", Input).value.strip() or None
        if cwd is not None:
            cwd = os.path.abspath(os.path.expanduser(cwd))
            if not os.path.isdir(cwd):
                error.update(f"The folder {cwd} does not exist.")
                return
        self.dismiss(NewSessionRequest(model, session_id, system, cwd))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
