"""The outline of a long conversation: heights estimated until measured, positions from them."""

from __future__ import annotations

from copilot_tui.ui.widgets.outline import MARGIN, Entry, Outline


def _outline(n: int) -> Outline:
    entries = [
        Entry(i + 1, f"m{i}", "user" if i % 2 == 0 else "assistant", 40 if i % 2 == 0 else 2000)
        for i in range(n)
    ]
    outline = Outline(entries)
    outline.set_width(100)
    return outline


def test_a_measured_height_replaces_the_estimate_and_corrects_the_others() -> None:
    outline = _outline(10)
    before = outline.height(3)
    outline.measure(1, 200 + MARGIN)
    assert outline.height(1) == 200 + MARGIN
    assert outline.is_measured(1) and not outline.is_measured(3)
    assert outline.height(3) > before  # replies run longer than estimated: the rest follow


def test_positions_add_up_and_a_new_width_measures_again() -> None:
    outline = _outline(6)
    heights = [outline.height(i) for i in range(6)]
    assert outline.span(0, 6) == sum(heights)
    assert outline.span(2, 4) == heights[2] + heights[3]
    y = heights[0] + heights[1] + 1
    assert outline.at(y) == (2, 1)
    assert outline.at(1, start=4) == (4, 1)
    assert outline.index("m5") == 5 and outline.index("nope") is None
    outline.measure(2, 7)
    outline.set_width(60)
    assert not outline.is_measured(2)
