"""Models grouped by provider, with a filter; providers that cannot be used say why."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ...types import ProviderStatus
from ..safe import one_line

INDENT = "│ "  # a visible guide: option lists trim leading spaces


class ModelPicker(Vertical):
    @dataclass
    class Picked(Message):
        model: str

    def __init__(self, current: str | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="model-picker")
        self._statuses: list[ProviderStatus] | None = None
        self._current = current
        self._filter = ""
        self.selected: str | None = current

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Filter models", id="model-filter")
        option_list = OptionList(id="models")
        option_list.loading = True
        yield option_list

    def set_statuses(self, statuses: list[ProviderStatus]) -> None:
        self._statuses = statuses
        self.query_one("#models", OptionList).loading = False
        self._rebuild()

    def _rebuild(self) -> None:
        option_list = self.query_one("#models", OptionList)
        needle = self._filter.lower()
        options: list[Option] = []
        for status in self._statuses or []:
            header = Text(one_line(status.name), style="bold")
            header.append(f" · {one_line(status.type)}", style="dim")
            if not status.usable:
                if needle and needle not in status.name.lower():
                    continue
                options.append(Option(header, disabled=True))
                reason = Text(INDENT, style="dim")
                reason.append("unavailable: ", style="red")
                reason.append(one_line(status.reason or "unknown reason"))
                if status.fix:
                    reason.append(f"  ({one_line(status.fix)})", style="dim")
                options.append(Option(reason, disabled=True))
                continue
            models = [m for m in status.models if m.supported and (not needle or needle in m.id.lower())]
            if not models:
                continue
            options.append(Option(header, disabled=True))
            for model in models:
                label = Text(INDENT, style="dim")
                label.append(one_line(model.model))
                if model.id == self._current:
                    label.append("  (current)", style="dim")
                if model.note:
                    label.append(f"  {one_line(model.note)}", style="dim")
                options.append(Option(label, id=model.id))
        option_list.set_options(options)
        wanted = self.selected if self.selected and any(o.id == self.selected for o in options) else None
        if wanted is None:
            wanted = next((o.id for o in options if o.id), None)
        if wanted is not None:
            option_list.highlighted = option_list.get_option_index(wanted)

    @on(Input.Changed, "#model-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value.strip()
        self._rebuild()

    @on(Input.Submitted, "#model-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter picks the highlighted model: type a few letters, press enter."""
        event.stop()
        option_list = self.query_one("#models", OptionList)
        highlighted = option_list.highlighted_option
        if highlighted is not None and highlighted.id:
            self.selected = highlighted.id
            self.post_message(self.Picked(highlighted.id))
        else:
            option_list.focus()

    def on_key(self, event: events.Key) -> None:
        """Up/down in the filter move through the list, as in a combo box."""
        if event.key not in ("up", "down") or not self.query_one("#model-filter", Input).has_focus:
            return
        event.stop()
        event.prevent_default()
        option_list = self.query_one("#models", OptionList)
        if event.key == "up":
            option_list.action_cursor_up()
        else:
            option_list.action_cursor_down()

    @on(OptionList.OptionHighlighted, "#models")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id:
            self.selected = event.option.id

    @on(OptionList.OptionSelected, "#models")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.selected = event.option.id
            self.post_message(self.Picked(event.option.id))
