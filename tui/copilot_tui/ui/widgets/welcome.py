"""What the main area shows with no tab open: a prompt that starts a session right away, or,
when no provider can answer, what is wrong with each and how to fix it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ...types import Readiness
from ..safe import one_line
from .prompt import Prompt

KEYS = "ctrl+n picks another model · ctrl+s compares models · ctrl+o opens a session · f1 lists every key"
SETUP_KEYS = (
    "ctrl+n lists every provider · ctrl+p → 'Log in to GitHub Copilot' logs in · f1 lists every key"
)


def headline(ready: Readiness) -> Text:
    """The centred lines above the prompt: what enter would do now, and the keys for more."""
    text = Text()
    if ready.model:
        text.append(
            f"Start a conversation with {one_line(ready.model)}: type below and press enter.\n"
        )
        if ready.checking:
            text.append(
                f"Still checking {one_line(', '.join(ready.waiting_for))}…\n", style="italic"
            )
        text.append(KEYS)
    elif ready.checking:
        text.append(
            f"Checking which providers can answer ({one_line(', '.join(ready.waiting_for))})…\n"
        )
        text.append("f1 lists every key")
    elif ready.configured:
        text.append(f"The default model {one_line(ready.configured)} cannot answer.", style="bold")
        if not ready.unusable:
            text.append(" Its provider is not configured or is disabled.")
        text.append("\nctrl+n picks a model of another provider · f1 lists every key")
    else:
        text.append("No model can answer yet: no provider is usable.", style="bold")
        text.append(
            "\nSet one up as below, then restart copilot-tui (or press ctrl+n to check again).\n"
        )
        text.append(SETUP_KEYS)
    return text


def fixes(ready: Readiness) -> Text:
    """Each unusable provider: why, and its fix, once (only shown when nothing can answer)."""
    text = Text()
    if ready.model or ready.checking:
        return text
    for i, status in enumerate(ready.unusable):
        if i:
            text.append("\n")
        text.append(one_line(status.name), style="bold")
        text.append(f": {one_line(status.reason or 'cannot be used')}")
        if status.fix:
            text.append("\n→ ")
            text.append(one_line(status.fix), style="bold")
    return text


class Welcome(Vertical):
    """Typing here and pressing enter creates a session on the offered model and sends.

    When nothing can answer there is nothing to type to: the prompt gives way to the setup
    text, which takes the focus so that a small terminal can scroll it from the keyboard.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ready = Readiness()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="welcome-body", can_focus=False):
            yield Static("", id="welcome-text", markup=False)
            yield Static("", id="welcome-fixes", markup=False)
        yield Prompt(id="welcome-prompt")

    @property
    def prompt(self) -> Prompt:
        return self.query_one("#welcome-prompt", Prompt)

    @property
    def setup(self) -> bool:
        """Nothing can answer: the welcome shows how to set a provider up instead of a prompt."""
        return not self.ready.model and not self.ready.checking

    def show(self, ready: Readiness) -> None:
        had_focus, was_setup = self.has_focus_within, self.setup
        self.ready = ready
        self.query_one("#welcome-text", Static).update(headline(ready))
        self.query_one("#welcome-fixes", Static).update(fixes(ready))
        self.set_class(self.setup, "-setup")
        self.query_one("#welcome-body", VerticalScroll).can_focus = self.setup
        if had_focus and self.setup != was_setup:  # the focused part was hidden or came back
            self.focus_input()

    def focus_input(self) -> None:
        """Focus what a keyboard user works with now: the prompt, or the setup text."""
        (self.query_one("#welcome-body", VerticalScroll) if self.setup else self.prompt).focus()
