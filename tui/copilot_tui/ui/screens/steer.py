"""Dialogs that steer a conversation: pick a prompt to edit, fork, parameters, attach a file."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...errors import CopilotTuiError
from ...service import CopilotClient
from ...service.attachments import read_attachment
from ...types import PARAM_LIMITS, Attachment, Message, Sampling
from ..paths import complete_path
from ..safe import one_line
from ..widgets.model_picker import ModelPicker
from .base import Dialog


class PickPromptScreen(Dialog[str | None]):
    """The prompts of the branch shown, newest first; enter picks one to edit."""

    def __init__(self, prompts: list[Message]) -> None:
        super().__init__()
        self._prompts = prompts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Edit an earlier prompt", classes="title", markup=False)
            options = []
            for n, m in reversed(list(enumerate(self._prompts, 1))):
                label = Text(f"{n:>3}  ", style="dim")
                label.append(one_line(m.content)[:70])
                if m.versions > 1:
                    label.append(f"  ‹ {m.version}/{m.versions} ›", style="dim")
                options.append(Option(label, id=m.id))
            yield OptionList(*options, id="prompts")
            yield Static(
                "enter edits it in the prompt (the reply after it starts a new branch; the "
                "old one stays) · esc cancels",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#prompts", OptionList).focus()

    @on(OptionList.OptionSelected, "#prompts")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


@dataclass(frozen=True, slots=True)
class ForkRequest:
    at: int | None  # keep the first N messages; None: all
    model: str


class ForkScreen(Dialog[ForkRequest | None]):
    """Fork a session: how many messages to keep, and on which model."""

    def __init__(self, client: CopilotClient, model: str, count: int) -> None:
        super().__init__()
        self._client = client
        self._model = model
        self._count = count

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Fork session", classes="title", markup=False)
            yield Label(f"Keep the first N of its {self._count} messages (empty: all)")
            yield Input(placeholder=str(self._count), id="at", restrict=r"\d*")
            yield Label("Model (enter picks; the forked copy continues there)")
            yield ModelPicker(self._model)
            yield Static("", classes="error", id="fork-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#at", Input).focus()
        self.load_models()

    @work
    async def load_models(self) -> None:
        self.query_one(ModelPicker).set_statuses(await self._client.provider_statuses())

    @on(Input.Submitted, "#at")
    def _at_given(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#model-filter", Input).focus()

    @on(ModelPicker.Picked)
    def _picked(self, event: ModelPicker.Picked) -> None:
        raw = self.query_one("#at", Input).value.strip()
        at = int(raw) if raw else None
        if at is not None and at > self._count:
            self.query_one("#fork-error", Static).update(
                f"It has {self._count} messages; keep at most that many."
            )
            return
        self.dismiss(ForkRequest(at, event.model))


PARAM_LABELS = {
    "temperature": "Temperature (0-2)",
    "top_p": "Top p (0-1)",
    "max_tokens": "Max output tokens",
    "seed": "Seed",
    "context_size": "Context size (local models: Ollama's num_ctx)",
}


class ParamsScreen(Dialog[dict[str, float | int | None] | None]):
    """A session's generation parameters; an empty field leaves it to the config or server."""

    def __init__(self, own: Sampling, defaults: Sampling) -> None:
        super().__init__()
        self._own = own.to_dict()
        self._defaults = defaults.to_dict()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Parameters of this session", classes="title", markup=False)
            for key, label in PARAM_LABELS.items():
                yield Label(label)
                value = self._own.get(key)
                default = self._defaults.get(key)
                yield Input(
                    value="" if value is None else f"{value:g}",
                    placeholder=f"{default:g} (config)" if default is not None else "default",
                    id=f"p-{key}",
                    restrict=r"[0-9.]*" if PARAM_LIMITS[key][0] is float else r"\d*",
                )
            yield Static("", classes="error", id="params-error", markup=False)
            yield Static(
                "enter saves · esc cancels · each is sent only where the provider takes it",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#p-temperature", Input).focus()

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        event.stop()
        values: dict[str, float | int | None] = {}
        try:
            for key in PARAM_LABELS:
                raw = self.query_one(f"#p-{key}", Input).value.strip()
                values[key] = float(raw) if raw else None
            Sampling.parse({k: v for k, v in values.items() if v is not None})
        except ValueError as exc:
            text = str(exc)
            if "could not convert" in text:
                text = "each value must be a number"
            self.query_one("#params-error", Static).update(f"{text[0].upper()}{text[1:]}.")
            return
        self.dismiss(values)


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (a folder gets its slash)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


class AttachScreen(Dialog[tuple[str, Attachment] | None]):
    """A file to send with the next prompt: text or code as context, or an image."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Attach a file", classes="title", markup=False)
            yield Input(placeholder="path (→ completes)", id="path", suggester=PathSuggester())
            yield Static("", classes="error", id="attach-error", markup=False)
            yield Static(
                "enter attaches it to the next prompt · esc cancels · in the prompt, @path "
                "attaches a file too",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Input.Submitted, "#path")
    def _attach_file(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            return
        try:
            attachment = read_attachment(path)
        except CopilotTuiError as exc:
            self.query_one("#attach-error", Static).update(str(exc))
            return
        self.dismiss((path, attachment))
