"""New comparison: pick 2-8 models (the same one again with another system message is fine),
an optional shared system message, and the prompt.

Enter on a model adds it as a pane; the highlighted pane's own system message is edited in
the field under the list, so "the same model, told two different things" takes no extra screen.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...service import CopilotClient
from ...service.compare import MAX_PANES, MIN_PANES, PaneSpec
from ..engine.access import hold_keys
from ..safe import one_line
from ..widgets.model_picker import ModelPicker, fill_picker
from ..widgets.prompt import Prompt
from .base import Dialog


@dataclass
class CompareRequest:
    panes: list[PaneSpec]
    system_message: str | None
    prompt: str
    blind: bool = False
    tags: list[str] = field(default_factory=list)
    cwd: str | None = None  # agents: each pane works on its own copy of this folder


class ChosenList(OptionList):
    """The panes picked so far; delete or backspace removes the highlighted one."""

    BINDINGS = [Binding("delete,backspace", "remove", "Remove pane", id="compare_dialog.remove")]

    class Remove(Message):
        """Remove the highlighted pane."""

    def action_remove(self) -> None:
        self.post_message(self.Remove())


class CompareScreen(Dialog[CompareRequest | None]):
    BINDINGS = [
        *Dialog.BINDINGS,
        Binding("ctrl+s", "create", "Compare", id="compare_dialog.create"),
    ]

    def __init__(self, client: CopilotClient) -> None:
        super().__init__()
        self._client = client
        self._panes: list[PaneSpec] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog compare-dialog"):
            yield Static("New comparison", classes="title", markup=False)
            with Horizontal(classes="columns"):
                with Vertical(classes="left"):
                    yield ModelPicker(self._client.default_model)
                with Vertical(classes="right"):
                    yield Label(
                        f"Panes ({MIN_PANES}-{MAX_PANES}) · enter adds a model · del removes"
                    )
                    yield ChosenList(id="chosen")
                    yield Label("System message of the highlighted pane (optional)")
                    yield Input(
                        placeholder="e.g. Answer like a pirate", id="pane-system", disabled=True
                    )
            yield Label("Shared system message (optional, for panes without their own)")
            yield Input(placeholder="e.g. Be concise", id="shared-system")
            yield Label("Prompt")
            yield Prompt(id="compare-first-prompt")
            with Horizontal(classes="vote-options"):
                yield Checkbox("Blind: panes A, B, C…, models hidden until you vote", id="blind")
                yield Input(placeholder="tags, e.g. code, writing (optional)", id="tags")
                yield Input(placeholder="agents in folder (optional)", id="agent-cwd")
            yield Static("", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Static(
                    "enter in the prompt or ctrl+s starts · esc cancels",
                    classes="hint",
                    markup=False,
                )
                yield Button("Cancel", id="cancel")
                yield Button("Compare", variant="primary", id="create")

    def on_mount(self) -> None:
        prompt = self.query_one("#compare-first-prompt", Prompt)
        prompt.placeholder = "Ask every model the same thing…"
        self.query_one("#model-filter", Input).focus()
        self._show_chosen()
        self.load_models(hold_keys(self.app))

    @work
    async def load_models(self, release_keys: Callable[[], None]) -> None:
        await fill_picker(
            self.query_one(ModelPicker), self._client.provider_statuses(), release_keys
        )

    # -- panes ---------------------------------------------------------------------------

    @on(ModelPicker.Picked)
    def _picked(self, event: ModelPicker.Picked) -> None:
        event.stop()
        error = self.query_one(".error", Static)
        if len(self._panes) >= MAX_PANES:
            error.update(f"A comparison has at most {MAX_PANES} panes.")
            return
        error.update("")
        self._panes.append(PaneSpec(event.model))
        self._show_chosen(len(self._panes) - 1)
        if any(p.model == event.model for p in self._panes[:-1]):
            # the focus stays in the filter (what is typed next is the next model's name); a
            # repeat is said, and needs its own system message before the comparison starts
            error.update(
                f"Pane {len(self._panes)} repeats {one_line(event.model)}: give it its own "
                "system message (enter on it in the list), or del removes it."
            )
        field = self.query_one("#model-filter", Input)
        if field.value:
            field.value = ""  # ready to type the next model's name

    def _show_chosen(self, highlight: int | None = None) -> None:
        chosen = self.query_one("#chosen", ChosenList)
        options = []
        for i, spec in enumerate(self._panes, 1):
            line = Text(f"{i}. ")
            line.append(one_line(spec.model))
            if spec.system_message:
                line.append(f"  · {one_line(spec.system_message)[:40]}", style="dim italic")
            options.append(Option(line))
        if not options:
            options.append(Option(Text("(none yet)", style="dim"), disabled=True))
        chosen.set_options(options)
        if self._panes:
            chosen.highlighted = min(
                highlight if highlight is not None else 0, len(self._panes) - 1
            )
        self._sync_pane_system()

    def _sync_pane_system(self) -> None:
        field = self.query_one("#pane-system", Input)
        index = self._current()
        field.disabled = index is None
        with field.prevent(Input.Changed):
            field.value = (self._panes[index].system_message or "") if index is not None else ""

    def _current(self) -> int | None:
        highlighted = self.query_one("#chosen", ChosenList).highlighted
        return highlighted if highlighted is not None and highlighted < len(self._panes) else None

    @on(OptionList.OptionHighlighted, "#chosen")
    def _chosen_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._sync_pane_system()

    @on(OptionList.OptionSelected, "#chosen")
    def _chosen_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._current() is not None:
            self.query_one("#pane-system", Input).focus()

    @on(ChosenList.Remove)
    def _remove(self, event: ChosenList.Remove) -> None:
        event.stop()
        index = self._current()
        if index is not None:
            del self._panes[index]
            self._show_chosen(index)

    @on(Input.Changed, "#pane-system")
    def _pane_system_changed(self, event: Input.Changed) -> None:
        event.stop()
        index = self._current()
        if index is not None:
            self._panes[index] = replace(
                self._panes[index], system_message=event.value.strip() or None
            )
            self._show_chosen(index)

    @on(Input.Submitted, "#pane-system")
    def _pane_system_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#model-filter", Input).focus()

    @on(Input.Submitted, "#shared-system")
    def _system_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#compare-first-prompt", Prompt).focus()

    @on(Input.Submitted, "#tags")
    @on(Input.Submitted, "#agent-cwd")
    def _option_submitted(self, event: Input.Submitted) -> None:
        """The fields under the prompt: enter starts the comparison, as in the prompt."""
        event.stop()
        self.action_create()

    # -- done ----------------------------------------------------------------------------

    @on(Prompt.Submitted)
    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        error = self.query_one(".error", Static)
        if len(self._panes) < MIN_PANES:
            error.update(f"Pick at least {MIN_PANES} models: enter on a model adds it.")
            self.query_one("#models", OptionList).focus()
            return
        system = self.query_one("#shared-system", Input).value.strip() or None
        seen: set[tuple[str, str | None]] = set()
        for i, spec in enumerate(self._panes, 1):
            key = (spec.model, spec.system_message or system)
            if key in seen:
                error.update(
                    f"Pane {i} repeats another one: give it its own system message or another model."
                )
                return
            seen.add(key)
        prompt = self.query_one("#compare-first-prompt", Prompt).text
        if not prompt.strip():
            error.update("Write the prompt first.")
            self.query_one("#compare-first-prompt", Prompt).focus()
            return
        blind = self.query_one("#blind", Checkbox).value
        tags = [t for t in self.query_one("#tags", Input).value.split(",") if t.strip()]
        cwd = self.query_one("#agent-cwd", Input).value.strip() or None
        if cwd is not None:
            cwd = os.path.abspath(os.path.expanduser(cwd))
            if not os.path.isdir(cwd):
                error.update(f"The folder {cwd} does not exist.")
                self.query_one("#agent-cwd", Input).focus()
                return
        self.dismiss(CompareRequest(list(self._panes), system, prompt, blind, tags, cwd))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
