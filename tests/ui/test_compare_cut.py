"""A comparison pane whose stream is cut keeps the text it received and says its error once."""

from __future__ import annotations

from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.helpers import started
from tests.ui.test_compare_view import FAST, _done, _header, _type_prompt
from tests.ui.test_model_picker import screen_text

from copilot_tui import CopilotClient
from copilot_tui.ui.app import CopilotApp

CUT = "lab/cut"
PARTIAL = "the first words of an answer"


async def test_a_cut_pane_keeps_its_partial_text_and_one_error(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    fake.script("cut", Script(chunks=[PARTIAL + " ", "and more ", "never sent"], drop_after=2))
    app = CopilotApp(client)
    async with app.run_test(size=(100, 24)) as pilot:  # small panes: every line counts
        await started(pilot)
        tab = await _type_prompt(pilot, [FAST, CUT], "Tell me")
        await _done(pilot, tab)
        assert "failed" in _header(tab, 1) and "dropped" not in _header(tab, 1)
        reply = tab.views[1].conversation._replies[-1]
        assert reply.status == "error" and reply.content.startswith(PARTIAL)
        shown = screen_text(pilot)
        assert "never sent" not in shown
        assert shown.count("dropped") == 1  # the error, once, under the partial reply
