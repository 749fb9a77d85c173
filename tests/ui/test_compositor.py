"""The span compositor draws exactly what Textual's own compositor draws, for any changes."""

from __future__ import annotations

import io
import random

from rich.console import Console
from rich.text import Text
from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from copilot_tui.ui.engine import internals
from copilot_tui.ui.engine.compositor import SpanCompositor

LINES = "\n".join(
    f"[b]{i:02d}[/b] [red]red[/] [on blue]blue ground[/] 日本語 wide ✓ {'x' * (i % 7)}"
    for i in range(60)
)


class Busy(Screen[None]):
    """Side-by-side scrolled panes with borders, padding, wide characters, docked bars and an
    overlay on its own layer: every way a widget can be clipped or covered."""

    CSS = """
    Busy { layers: base over; }
    VerticalScroll { border: round $accent; padding: 0 1; width: 1fr; }
    #overlay { layer: over; offset: 30 6; width: 40; height: 7; background: $panel; border: heavy red; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._compositor = SpanCompositor()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            for i in range(3):
                with VerticalScroll(id=f"col{i}"):
                    yield Static(LINES)
                    yield Static(Text("plain tail " * 20))
        yield Static("an overlay [i]covering[/i] two panes", id="overlay")
        yield Footer()


class BusyApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(Busy())


def _draw(update: object, size: tuple[int, int]) -> str:
    console = Console(
        file=io.StringIO(),
        width=size[0],
        height=size[1],
        force_terminal=True,
        color_system="truecolor",
    )
    console.print(update, end="")
    return console.file.getvalue()  # type: ignore[attr-defined]


async def test_same_update_as_textual_for_random_changes() -> None:
    assert internals.available(internals.COMPOSITOR)
    app = BusyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, Busy)
        screen.query_one("#col1", VerticalScroll).scroll_to(y=7, animate=False, immediate=True)
        await pilot.pause()
        compositor = screen._compositor
        assert isinstance(compositor, SpanCompositor)
        rng = random.Random(8)
        width, height = 100, 30
        compared = 0
        for _ in range(300):
            regions = set()
            for _ in range(rng.randint(1, 6)):
                # as the screen marks them: clipped to the screen
                x, y = rng.randrange(width), rng.randrange(height)
                regions.add(
                    Region(
                        x,
                        y,
                        rng.randint(1, min(40, width - x)),
                        rng.randint(1, min(12, height - y)),
                    )
                )
            compositor._dirty_regions = set(regions)
            ours = compositor.render_partial_update()
            compositor._dirty_regions = set(regions)
            theirs = Compositor.render_partial_update(compositor)
            assert (ours is None) == (theirs is None)
            if ours is not None:
                assert ours.spans == theirs.spans
                assert _draw(ours, (width, height)) == _draw(theirs, (width, height))
                compared += 1
        assert compared > 250
