"""Full-text search over every message; picking a hit opens its session at that message."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...errors import CopilotTuiError
from ...service import CopilotClient
from ..messages import OpenSession
from ..safe import one_line
from .base import Dialog


def hit_label(hit: Any) -> Text:
    label = Text(one_line(hit.title) or "(untitled)", style="bold")
    label.append(f"  {hit.role}", style="dim")
    label.append("\n  ")
    snippet = one_line(hit.snippet)
    # the store marks matches with ‹ › ; show them highlighted instead
    rest = snippet
    while "‹" in rest and "›" in rest.split("‹", 1)[1]:
        before, after = rest.split("‹", 1)
        match, rest = after.split("›", 1)
        label.append(before)
        label.append(match, style="bold reverse")
    label.append(rest)
    return label


class SearchScreen(Dialog[OpenSession | None]):
    def __init__(self, client: CopilotClient) -> None:
        super().__init__()
        self._client = client
        self._hits: dict[str, Any] = {}  # search hits from the service
        self._searched = ""  # the text the hits shown are for
        self._open_when_done = False  # enter came before the hits

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Search all messages", classes="title", markup=False)
            yield Input(placeholder="words to find", id="query")
            yield OptionList(id="hits")
            yield Static("", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter opens the first match, once the search for what was typed has answered."""
        if event.value == self._searched:
            self._open_first()
        else:
            self._open_when_done = True

    def _open_first(self) -> None:
        self._open_when_done = False
        hits = self.query_one("#hits", OptionList)
        if hits.option_count:
            hits.highlighted = 0 if hits.highlighted is None else hits.highlighted
            hits.action_select()

    def on_key(self, event: object) -> None:
        if getattr(event, "key", None) == "down" and self.query_one("#query", Input).has_focus:
            self.query_one("#hits", OptionList).focus()

    @work(exclusive=True)
    async def run_search(self, text: str) -> None:
        hint = self.query_one(".hint", Static)
        try:
            hits = await self._client.search(text) if text.strip() else []
        except CopilotTuiError as exc:
            hint.update(str(exc))
            return
        self._hits = {f"h{i}": hit for i, hit in enumerate(hits)}
        option_list = self.query_one("#hits", OptionList)
        option_list.set_options([Option(hit_label(hit), id=key) for key, hit in self._hits.items()])
        hint.update(
            f"{len(hits)} match{'es' if len(hits) != 1 else ''} · enter opens"
            if text.strip()
            else ""
        )
        self._searched = text
        if self._open_when_done and text == self.query_one("#query", Input).value:
            self._open_first()

    @on(OptionList.OptionSelected, "#hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        hit = self._hits.get(event.option.id or "")
        if hit is not None:
            self.dismiss(OpenSession(hit.session_id, hit.message_id, hit.seq))
