"""Models grouped by provider, with a filter; providers that cannot be used say why.

Usable providers come first. Each unusable provider is one entry of the list, not a greyed-out
line the cursor skips: a keyboard user can move onto it, read its reason and fix (wrapped, never
cut), and enter on it says why it cannot start a session instead of picking anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...types import ProviderStatus
from ..safe import one_line

INDENT = "│ "  # a visible guide: option lists trim leading spaces
UNUSABLE = "unusable:"  # option ids of provider entries (model ids are PROVIDER/MODEL)


def provider_header(status: ProviderStatus) -> Text:
    """The provider's name, and its type when that differs (a discovered one is named after it)."""
    header = Text(one_line(status.name), style="bold")
    if status.type != status.name:
        header.append(f" · {one_line(status.type)}", style="dim")
    return header


def provider_entry(status: ProviderStatus) -> Group:
    """A provider that cannot be used: its name, then why and how to fix it, indented below."""
    header = provider_header(status)
    header.append(" · ", style="dim")
    header.append("not usable", style="red")
    body = Text(one_line(status.reason or "unknown reason"))
    if status.fix:
        body.append("\n→ ")
        body.append(one_line(status.fix), style="bold")
    return Group(header, Padding(body, (0, 0, 0, 2)))


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
        yield Static("", id="model-note", markup=False)

    def set_statuses(self, statuses: list[ProviderStatus]) -> None:
        self._statuses = statuses
        self.query_one("#models", OptionList).loading = False
        self._rebuild()

    def unusable(self, option_id: str | None) -> ProviderStatus | None:
        """The provider an entry stands for, if it is an unusable provider's entry."""
        if not option_id or not option_id.startswith(UNUSABLE):
            return None
        name = option_id.removeprefix(UNUSABLE)
        return next((s for s in self._statuses or [] if s.name == name and not s.usable), None)

    def why_not(self) -> str | None:
        """What enter on the highlighted entry says when it cannot start a session."""
        highlighted = self.query_one("#models", OptionList).highlighted_option
        status = self.unusable(highlighted.id if highlighted else None)
        if status is None:
            return None
        return f"{one_line(status.name)} is not set up yet: see its fix above."

    def _rebuild(self) -> None:
        option_list = self.query_one("#models", OptionList)
        needle = self._filter.lower()
        options: list[Option] = []
        unusable: list[Option] = []
        for status in self._statuses or []:
            if not status.usable:
                if not needle or needle in status.name.lower():
                    unusable.append(Option(provider_entry(status), id=f"{UNUSABLE}{status.name}"))
                continue
            models = [m for m in status.models if not needle or needle in m.id.lower()]
            if not any(m.supported for m in models):
                continue
            options.append(Option(provider_header(status), disabled=True))
            # models the account may not use (a Copilot policy) are listed after, and cannot
            # be picked: the note says why and where to enable them
            for model in sorted(models, key=lambda m: not m.supported):
                label = Text(INDENT, style="dim")
                label.append(one_line(model.model), style="" if model.supported else "dim strike")
                if model.id == self._current:
                    label.append("  (current)", style="dim")
                if model.premium is not None:
                    cost = "included" if model.premium == 0 else f"{model.premium:g}x premium"
                    label.append(f"  {cost}", style="dim")
                if model.note:
                    label.append(f"  {one_line(model.note)}", style="dim")
                options.append(Option(label, id=model.id, disabled=not model.supported))
        options += unusable
        option_list.set_options(options)
        ids = [o.id for o in options if o.id]
        wanted = self.selected if self.selected in ids else None
        if wanted is None:  # the first model, else the first provider entry to read
            wanted = next((i for i in ids if not i.startswith(UNUSABLE)), ids[0] if ids else None)
        if wanted is not None:
            option_list.highlighted = option_list.get_option_index(wanted)
        self._show_highlighted()

    def _show_highlighted(self) -> None:
        """Follow the cursor: a model becomes the selection, a provider entry clears it."""
        highlighted = self.query_one("#models", OptionList).highlighted_option
        if highlighted is not None and highlighted.id:
            self.selected = None if self.unusable(highlighted.id) else highlighted.id
        self._note("")

    def _note(self, text: str) -> None:
        note = self.query_one("#model-note", Static)
        note.update(text)
        note.display = bool(text)

    def _choose(self, option: Option | None) -> bool:
        """Enter on an entry: pick a model, or say why a provider cannot be picked."""
        if option is None or not option.id:
            return False
        if self.unusable(option.id):
            self._note(self.why_not() or "")
            # the note takes a line from the list: keep the whole entry in view once the list
            # has its new height (the refresh that shows the note may come after the next one)
            self.call_after_refresh(self.call_after_refresh, self._keep_highlight_in_view)
            return True
        self.selected = option.id
        self.post_message(self.Picked(option.id))
        return True

    def _keep_highlight_in_view(self) -> None:
        self.query_one("#models", OptionList).scroll_to_highlight()

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
        if not self._choose(option_list.highlighted_option):
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
        self._show_highlighted()

    @on(OptionList.OptionSelected, "#models")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option)


LOAD_HOLD = 1.0  # seconds typed keys wait for the model list at most


async def fill_picker(
    picker: ModelPicker,
    statuses: Awaitable[list[ProviderStatus]],
    release_keys: Callable[[], None],
) -> None:
    """Fill the picker once the providers answer. Keys typed meanwhile were held (see keygate)
    and go on once the list is there: a name and enter typed at once pick from the full list.
    The dialog may have been closed meanwhile (escape while loading). A slow provider holds
    the keys at most ``LOAD_HOLD`` seconds: escape must still close the dialog."""
    picker.set_timer(LOAD_HOLD, release_keys)
    try:
        result = await statuses
        if picker.is_attached:
            with contextlib.suppress(NoMatches):  # its widgets are going: the dialog is closing
                picker.set_statuses(result)
    finally:
        if not picker.is_attached or not picker.call_after_refresh(release_keys):
            release_keys()
