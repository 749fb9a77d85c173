"""The verdict on a comparison's latest answers: best pane, a ranking, a tie, or all bad."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..safe import one_line
from ..votes import VoteChoice, parse_ranking
from .base import Dialog

TIE, ALL_BAD = "=tie", "=all-bad"


class VoteScreen(Dialog[VoteChoice | None]):
    """Panes are listed as the view names them: letters only while a blind comparison is hidden."""

    def __init__(self, title: str, panes: list[tuple[str, str]], *, current: str | None) -> None:
        super().__init__()
        self._title = title
        self._panes = panes  # (name to vote with, what the list shows)
        self._current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(Text.assemble((shown, "bold"), " is best"), id=name)
            for name, shown in self._panes
        ]
        options += [
            Option(Text("Tie: all equally good"), id=TIE),
            Option(Text("All bad"), id=ALL_BAD),
        ]
        with Vertical(classes="dialog vote-dialog"):
            yield Static(f"Vote: {one_line(self._title)[:60]}", classes="title", markup=False)
            if self._current:
                yield Static(f"Your vote now: {self._current}", classes="hint", markup=False)
            yield OptionList(*options, id="verdicts")
            yield Input(
                placeholder="or a ranking, best first: B,A,C  (B=A,C ties B and A)", id="ranking"
            )
            yield Static("", classes="error", markup=False)
            yield Static(
                "enter records · tab to the ranking · esc cancels", classes="hint", markup=False
            )

    def on_mount(self) -> None:
        verdicts = self.query_one("#verdicts", OptionList)
        verdicts.highlighted = 0
        verdicts.focus()

    @on(OptionList.OptionSelected, "#verdicts")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = event.option.id
        if choice == TIE:
            self.dismiss(VoteChoice(tie=True))
        elif choice == ALL_BAD:
            self.dismiss(VoteChoice(all_bad=True))
        elif choice is not None:
            self.dismiss(VoteChoice(ranking=[[choice]]))

    @on(Input.Submitted, "#ranking")
    def _ranked(self, event: Input.Submitted) -> None:
        event.stop()
        tiers = parse_ranking(event.value)
        if tiers is None:
            self.query_one(".error", Static).update(
                "List panes best first, separated by commas: B,A,C (B=A,C ties B and A)."
            )
            return
        self.dismiss(VoteChoice(ranking=tiers))
