"""Every binding with its id and its key (after the config's remapping)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..keymap import ALL_KEYS, FIXED_KEYS, display_key, effective_key
from .base import Dialog


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("escape,f1,q", "cancel", "Close", id="help.close")]

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("key", style="bold cyan", no_wrap=True, max_width=26)
        table.add_column("action")
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("id", style="dim", no_wrap=True)
        for spec in ALL_KEYS:
            table.add_row(
                display_key(effective_key(spec, self._keymap)).replace(" / ", "\n"),
                spec.description,
                spec.scope,
                spec.id,
            )
        for key, description, scope in FIXED_KEYS:
            table.add_row(key.replace(" / ", "\n"), description, scope, "")
        with Vertical(classes="dialog"):
            yield Static(
                "Keys  (remap any id under [keys] in the config; ctrl+p lists every action)",
                classes="title",
                markup=False,
            )
            with VerticalScroll(id="keys"):
                yield Static(table)
