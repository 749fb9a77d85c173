"""The stream layout with gaps: a widget marked ``gap`` takes its height in the layout but is
placed on its last line only.

A long conversation stands for the messages it has not mounted with two spacers hundreds of
thousands of lines tall. Placed at full height, each one is entered in the compositor's spatial
map once per grid cell it covers and marked dirty line by line: a first paint of seconds. Placed
on one line, the lines above it are the container's background, which is what a spacer shows.
"""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.layout import ArrangeResult
from textual.layouts.stream import StreamLayout
from textual.widget import Widget


class GapStreamLayout(StreamLayout):
    """``layout: stream``, with gap widgets (``gap = True``) placed on one line."""

    name = "gap-stream"

    def arrange(
        self, parent: Widget, children: list[Widget], size: Size, greedy: bool = True
    ) -> ArrangeResult:
        placements = super().arrange(parent, children, size, greedy)
        out = []
        for placement in placements:
            region = placement.region
            if region.height > 1 and getattr(placement.widget, "gap", False):
                placement = placement._replace(
                    region=Region(region.x, region.bottom - 1, region.width, 1)
                )
            out.append(placement)
        return out


def register() -> bool:
    """Make ``gap-stream`` a layout name styles accept; False (stream layout kept) if this
    Textual has no layout registry to add to."""
    try:
        from textual.layouts.factory import LAYOUT_MAP
    except ImportError:
        return False
    LAYOUT_MAP.setdefault(GapStreamLayout.name, GapStreamLayout)
    return True
