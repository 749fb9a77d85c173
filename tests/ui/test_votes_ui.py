"""Blind comparisons, votes from the keyboard, and the leaderboard screen."""

from __future__ import annotations

from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import main_screen, started, tap, wait_for
from tests.ui.test_compare_view import SIZE, _done, _header, _submit
from textual.widgets import Checkbox, DataTable, OptionList

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.screens.compare_dialog import CompareScreen
from copilot_tui.ui.screens.leaderboard import LeaderboardScreen
from copilot_tui.ui.screens.vote import VoteScreen
from copilot_tui.ui.widgets.prompt import Prompt
from copilot_tui.ui.widgets.topbar import TopBar

FAST, SLOW = "lab/gpt-4o-mini", "lab/slow"


def _sidebar_text(screen: object) -> str:
    options = screen.sidebar.session_list  # type: ignore[attr-defined]
    return "\n".join(
        str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )


async def test_blind_comparison_vote_reveal_and_leaderboard(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("gpt-4o-mini", Script(text="fast answer"))
    fake.script("slow", Script(text="slow answer", first_delay=0.1))
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        await tap(pilot, "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="dialog")
        dialog = app.screen
        models = dialog.query_one("#models", OptionList)
        await wait_for(pilot, lambda: models.option_count > 3, what="models")
        models.focus()
        for n, model in enumerate((FAST, SLOW), 1):
            models.highlighted = models.get_option_index(model)
            await tap(pilot, "enter")
            await wait_for(pilot, lambda n=n: len(dialog._panes) == n, what=f"pane {n}")
        blind = dialog.query_one("#blind", Checkbox)
        blind.focus()
        await wait_for(pilot, lambda: blind.has_focus, what="checkbox focus")
        await tap(pilot, "space")
        await wait_for(pilot, lambda: blind.value, what="blind ticked")
        prompt = dialog.query_one("#compare-first-prompt", Prompt)
        prompt.focus()
        prompt.load_text("Which is better?")
        await wait_for(pilot, lambda: prompt.has_focus, what="prompt focus")
        tab = await _submit(pilot, screen)
        await _done(pilot, tab)

        comparison = tab.comparison
        assert comparison.hidden
        assert [str(v.border_title) for v in tab.views] == ["A", "B"]
        assert all("tok " not in _header(tab, i) for i in (0, 1))  # no token counts
        assert "tok/s" in _header(tab, 0)  # timing stays
        assert app.screen.query_one(TopBar).model == "blind"
        await wait_for(pilot, lambda: "pane A" in _sidebar_text(screen), what="sidebar letters")
        assert FAST not in _sidebar_text(screen) and SLOW not in _sidebar_text(screen)
        await tap(pilot, "alt+e")  # continuing in a tab would name the model
        await wait_for(
            pilot,
            lambda: any("Vote first" in str(n.message) for n in app._notifications),
            what="refusal",
        )
        assert screen.active_compare is tab

        await tap(pilot, "f5")
        await wait_for(pilot, lambda: isinstance(app.screen, VoteScreen), what="vote dialog")
        await tap(pilot, "down", "enter")  # "B is best"
        await wait_for(pilot, lambda: not comparison.hidden, what="vote recorded")
        votes = await client.list_votes(comparison.group_id)
        b = comparison.letters.index("B")
        assert len(votes) == 1 and votes[0].ranking == [[b]]
        assert [str(v.border_title) for v in tab.views] == [
            f"A · {comparison.panes[comparison.letters.index('A')].model}",
            f"B · {comparison.panes[b].model}",
        ]
        await wait_for(pilot, lambda: FAST in _sidebar_text(screen), what="sidebar reveals")
        assert app.screen.query_one(TopBar).model == f"{FAST}, {SLOW}"

        # a second comparison waits for a vote; the leaderboard lists it and opens it
        other = await client.compare([FAST, SLOW], "Again?")
        await other.wait(timeout=20)
        await tap(pilot, "f9")
        await wait_for(pilot, lambda: isinstance(app.screen, LeaderboardScreen), what="board")
        board = app.screen
        table = board.query_one("#standings", DataTable)
        queue = board.query_one("#queue", OptionList)
        await wait_for(pilot, lambda: table.row_count == 2 and queue.option_count == 1, what="rows")
        winner = comparison.panes[b].model
        assert table.get_row_at(0)[1] == winner and table.get_row_at(0)[4] == "1/0/0"
        await tap(pilot, "enter")
        await wait_for(
            pilot,
            lambda: (
                screen.active_compare is not None
                and screen.active_compare.group_id == other.group_id
            ),
            what="queued comparison opened",
        )
        assert main_screen(pilot) is screen
