"""The rendering engine's contract with Textual and Rich: every private internal is checked,
each has a stock fallback that keeps the app working, none is used outside ``ui.engine``, and
the interpreter settings last only while the app runs."""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich import markdown as rich_markdown
from tests.servers.openai_server import Script
from tests.ui.helpers import main_screen, open_tab, send, shown, started, wait_for, wait_idle
from textual import _compositor

from copilot_tui import CopilotClient
from copilot_tui.errors import CopilotTuiError
from copilot_tui.ui.app import CopilotApp
from copilot_tui.ui.engine import internals, tuning
from copilot_tui.ui.engine.compositor import SpanCompositor
from copilot_tui.ui.widgets.conversation import MessageView

SIZE = (120, 36)
PACKAGE = Path(__file__).resolve().parents[2] / "tui" / "copilot_tui"
ENGINE = PACKAGE / "ui" / "engine"


@pytest.fixture(autouse=True)
def _recheck() -> Iterator[None]:
    """A test that breaks an internal must not leave the next test on its fallback."""
    yield
    internals.check()


def test_every_internal_is_there_on_the_pinned_releases() -> None:
    assert internals.check() == {internal.name: True for internal in INTERNALS}


INTERNALS = internals.INTERNALS


async def _stream_and_see(client: CopilotClient, fake: object) -> CopilotApp:
    """Stream a Markdown reply in a tab and check it ends up on screen; returns the app."""
    fake.script(
        "md",
        Script(
            text="Some **bold** text\n\n- one\n- two\n\n```python\nprint('hi')\n```\n", delay=0.01
        ),
    )  # type: ignore[attr-defined]
    session = await client.create_session("lab/md")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = await open_tab(pilot, session.session_id)
        await send(pilot, pane, "show me")
        await wait_for(pilot, lambda: session.state == "streaming", what="streaming")
        await wait_idle(pilot, pane)
        view = list(pane.conversation.query(MessageView))[-1]
        text = " ".join(shown(view).split())
        assert "Some bold text" in text and "• one" in text and "print('hi')" in text
        app.compositor_kind = type(main_screen(pilot)._compositor)  # type: ignore[attr-defined]
    return app


async def test_a_changed_compositor_falls_back_to_textuals_own(
    client: CopilotClient, fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release whose ChopsUpdate takes another argument: the screen keeps the stock compositor."""

    class ChopsUpdate(_compositor.ChopsUpdate):
        def __init__(self, chops, spans, chop_ends, extra: object = None) -> None:  # type: ignore[no-untyped-def]
            super().__init__(chops, spans, chop_ends)

    monkeypatch.setattr(_compositor, "ChopsUpdate", ChopsUpdate)
    app = await _stream_and_see(client, fake)
    assert not internals.available(internals.COMPOSITOR)
    assert app.compositor_kind is _compositor.Compositor  # type: ignore[attr-defined]


async def test_a_changed_markdown_falls_back_to_its_public_constructor(
    client: CopilotClient, fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = rich_markdown.Markdown.__init__

    def changed(
        self,
        markup,
        code_theme="monokai",
        justify=None,
        style="none",
        hyperlinks=True,  # type: ignore[no-untyped-def]
        inline_code_lexer=None,
        inline_code_theme=None,
        new_option=None,
    ) -> None:
        original(
            self,
            markup,
            code_theme,
            justify,
            style,
            hyperlinks,
            inline_code_lexer,
            inline_code_theme,
        )

    monkeypatch.setattr(rich_markdown.Markdown, "__init__", changed)
    app = await _stream_and_see(client, fake)
    assert not internals.available(internals.MARKDOWN)
    assert app.compositor_kind is SpanCompositor  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "gone",
    [
        {i.name for i in INTERNALS},
        {internals.OPTION_LINES},  # prompts replaced in place, but no line map to repaint them by
    ],
)
async def test_the_app_works_with_internals_missing(
    client: CopilotClient, fake, monkeypatch: pytest.MonkeyPatch, gone: set[str]
) -> None:
    """Users of internals on their stock fallbacks: replies stream in tabs, the sidebar's and
    the tabs' spinners run, the prompt's keys work."""
    broken = tuple(
        internals.Internal(
            i.name, i.uses, i.fallback, (lambda: False) if i.name in gone else i.check
        )
        for i in INTERNALS
    )
    monkeypatch.setattr(internals, "INTERNALS", broken)
    fake.script("slowmd", Script(text="Some **bold** text " * 30, delay=0.01))
    first = await client.create_session("lab/slowmd")
    second = await client.create_session("lab/slowmd")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await started(pilot)
        assert set(internals.missing()) == gone
        compositor = _compositor.Compositor if internals.COMPOSITOR in gone else SpanCompositor
        assert type(screen._compositor) is compositor
        panes = [await open_tab(pilot, s.session_id) for s in (first, second)]
        for pane in panes:
            screen.tabs.active = pane.id or ""
            await pilot.pause()
            await send(pilot, pane, "talk")
        await wait_for(
            pilot,
            lambda: screen.workspace.mark(second.session_id) == "streaming",
            what="streaming",
        )
        await pilot.pause(0.3)  # a few spinner frames on the sidebar and the tabs
        for pane in panes:
            await wait_idle(pilot, pane)
            view = list(pane.conversation.query(MessageView))[-1]
            assert "Some bold text Some bold text" in " ".join(shown(view).split())
            assert pane.conversation.last_reply() == "Some **bold** text " * 30


async def test_interpreter_settings_last_only_while_the_app_runs(client: CopilotClient) -> None:
    before, thresholds = sys.getswitchinterval(), gc.get_threshold()
    assert before != tuning.SWITCH_INTERVAL  # importing the UI changed nothing
    session = await client.create_session("lab/gpt-4o-mini")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await open_tab(pilot, session.session_id)
        assert sys.getswitchinterval() == tuning.SWITCH_INTERVAL
        tuning.CollectorPause.begin()  # a reply streaming when the app exits
    assert sys.getswitchinterval() == before
    assert gc.get_threshold() == thresholds
    assert tuning.CollectorPause.active == 0


# Private Textual and Rich names the engine wraps; the UI outside it uses the engine's helpers.
PRIVATE = re.compile(
    r"\b(?:textual|rich)(?:\.\w+)*\._\w"  # a private module: textual._compositor, rich._loop
    r"|\._compositor\b|\._label\b|\b_set_prompt\b|\b_option_render_cache\b|\._index_to_line\b"
    r"|\._heights\b|\._lines\b|\._bindings\b|\bapp\._keymap\b|\b_anchor_released\b|\bactive_app\b"
    r"|\b_handle_exception\b|\bdef _on_(?:key|descendant_focus|mount|unmount|click|resize)\b"
    r"|\b_dirty_regions\b|\b_regions_to_spans\b|\bsetswitchinterval\b|\bgc\.set_threshold\b|\bChopsUpdate\b"
)


def test_no_private_textual_or_rich_name_outside_the_engine() -> None:
    found = []
    # only the UI may import Textual or Rich at all (a layer contract), so only it is searched:
    # elsewhere ``self._lines`` is a module's own business
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        if ENGINE in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PRIVATE.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_the_private_name_check_sees_what_it_should() -> None:
    assert PRIVATE.search("from textual._context import active_app")
    assert PRIVATE.search("from textual.widgets._markdown import MarkdownStream")
    assert PRIVATE.search("tab._label = label") and PRIVATE.search("option._set_prompt(p)")
    assert not PRIVATE.search("self._labels = []")


async def test_an_app_error_in_a_handler_is_one_notice(client: CopilotClient) -> None:
    """The error hook the engine wraps: the app says one sentence and keeps running."""
    session = await client.create_session("lab/gpt-4o-mini")
    app = CopilotApp(client)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await open_tab(pilot, session.session_id)

        def fail() -> None:
            raise CopilotTuiError("the service said no")

        app.set_timer(0.01, fail)
        await wait_for(
            pilot,
            lambda: any("said no" in str(n.message) for n in app._notifications),
            what="notice",
        )
        assert app.is_running and app.return_code is None
