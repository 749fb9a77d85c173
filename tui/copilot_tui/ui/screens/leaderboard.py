"""The leaderboard of the person's own votes, and the comparisons still waiting for one."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...errors import CopilotTuiError
from ...service import CopilotClient
from ...service.votes import Leaderboard
from ...types import GroupInfo
from ..safe import one_line
from .base import Dialog


def _num(value: float | None, fmt: str, unit: str = "") -> str:
    return "-" if value is None else format(value, fmt) + unit


class LeaderboardScreen(Dialog[str | None]):
    """Dismisses with a comparison's id when the person picks one to vote on."""

    BINDINGS = [
        *Dialog.BINDINGS,
        Binding("f4", "toggle_by", "Models / prompts", id="leaderboard.by"),
    ]

    def __init__(self, client: CopilotClient) -> None:
        super().__init__()
        self._client = client
        self._by = "model"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog leaderboard-dialog"):
            yield Static("Leaderboard", classes="title", markup=False)
            yield Input(placeholder="filter by tag (enter)", id="tag")
            yield DataTable(id="standings", cursor_type="row", zebra_stripes=True)
            yield Static("", id="summary", markup=False)
            yield Label("Waiting for your vote (enter opens it; f5 in a comparison votes)")
            yield OptionList(id="queue")
            yield Static(
                "f4 models / prompts · tab moves · esc closes", classes="hint", markup=False
            )

    def on_mount(self) -> None:
        table = self.query_one("#standings", DataTable)
        table.add_columns(
            "#",
            "model",
            "strength",
            "95% interval",
            "W/L/T",
            "win rate",
            "votes",
            "first token",
            "tok/s",
        )
        self.query_one("#queue", OptionList).focus()
        self.load()

    def action_toggle_by(self) -> None:
        self._by = "prompt" if self._by == "model" else "model"
        self.load()

    @on(Input.Submitted, "#tag")
    def _tag(self, event: Input.Submitted) -> None:
        event.stop()
        self.load()

    @work(exclusive=True, group="leaderboard")
    async def load(self) -> None:
        tag = " ".join(self.query_one("#tag", Input).value.split()).lower() or None
        try:  # the queue first: it is quick, and enter opens its first entry
            queue = await self._client.unvoted_comparisons()
            self._show_queue(queue)
            board = await self._client.leaderboard(by=self._by, tag=tag)
        except CopilotTuiError as exc:
            self.query_one("#summary", Static).update(str(exc))
            return
        self._show(board)

    def _show_queue(self, queue: list[GroupInfo]) -> None:
        options = [
            Option(
                f"{'blind · ' if g.letters else ''}{one_line(g.title)[:60]}"
                + (f"  [{', '.join(g.tags)}]" if g.tags else ""),
                id=g.group_id,
            )
            for g in queue
        ]
        listing = self.query_one("#queue", OptionList)
        listing.set_options(options or [Option("Every comparison has a vote.", disabled=True)])
        if options:
            listing.highlighted = 0

    def _show(self, board: Leaderboard) -> None:
        table = self.query_one("#standings", DataTable)
        table.clear()
        for n, r in enumerate(board.rows, 1):
            table.add_row(
                str(n),
                one_line(r.name)[:48],
                f"{r.strength:.0f}",
                f"{r.low:.0f}..{r.high:.0f}",
                f"{r.wins}/{r.losses}/{r.ties}",
                _num(None if r.win_rate is None else r.win_rate * 100, ".0f", "%"),
                str(r.votes),
                _num(r.ttft, ".2f", " s"),
                _num(r.tokens_per_second, ".1f"),
            )
        what = "prompts (model · system message)" if board.by == "prompt" else "models"
        tagged = f" tagged {board.tag!r}" if board.tag else ""
        if board.rows:
            text = f"{board.votes} vote{'s' if board.votes != 1 else ''}{tagged}, ranking {what}"
            text += "; strength on the Elo scale (1000 = even)"
        else:
            text = f"No votes yet{tagged}. Compare models (ctrl+s), then vote with f5."
        self.query_one("#summary", Static).update(text)

    @on(OptionList.OptionSelected, "#queue")
    def _open(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(event.option.id)
