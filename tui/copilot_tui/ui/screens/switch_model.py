"""Switch the current session's model."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from ...service import CopilotClient
from ..engine.access import hold_keys
from ..widgets.model_picker import ModelPicker, fill_picker
from .base import Dialog


class SwitchModelScreen(Dialog[str | None]):
    def __init__(self, client: CopilotClient, current: str) -> None:
        super().__init__()
        self._client = client
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Switch model", classes="title", markup=False)
            yield ModelPicker(self._current)
            yield Static("enter picks · esc cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#model-filter", Input).focus()
        self.load_models(hold_keys(self.app))

    @work
    async def load_models(self, release_keys: Callable[[], None]) -> None:
        await fill_picker(
            self.query_one(ModelPicker), self._client.provider_statuses(), release_keys
        )

    @on(ModelPicker.Picked)
    def _picked(self, event: ModelPicker.Picked) -> None:
        self.dismiss(event.model)
