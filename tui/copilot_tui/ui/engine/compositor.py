"""The main screen's compositor: a partial update draws what changed, not the box around it.

For a partial update Textual's compositor takes the rectangle around every changed region and,
for each changed line, renders and cuts every widget inside that rectangle. A pane in the top
left and a spinner in the footer make that the whole screen, and side-by-side panes streaming
with live headers, spinners and tab marks change such scattered regions all the time. And it
cuts each of those lines at every widget edge on it, so a container behind side-by-side panes
is cut into a piece per pane edge on every line, pieces the panes in front then cover. Here a
widget is rendered only where a change touches it and nothing in front covers it, and only
those pieces are cut: screen update time with eight panes streaming, 1.8-2.0 s -> ~0.8 s a run.

The output is the same update (the same spans, with the same strips in them); a test compares
the two on random changes. It relies on compositor internals of Textual 8 (``cuts``,
``visible_widgets``, ``ChopsUpdate``): ``internals.COMPOSITOR`` checks them, and the screen
keeps Textual's own when they are not there.
"""

from __future__ import annotations

from textual import _compositor
from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip


class SpanCompositor(Compositor):
    def render_partial_update(self) -> _compositor.ChopsUpdate | None:
        screen = self.size.region
        regions = [
            clipped for region in self._dirty_regions if (clipped := region.intersection(screen))
        ]
        self._dirty_regions.clear()
        if not regions:
            return None
        spans = list(self._regions_to_spans(regions))
        row_spans: dict[int, list[tuple[int, int]]] = {}
        for y, x1, x2 in spans:
            row_spans.setdefault(y, []).append((x1, x2))
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        for widget, (region, clip) in self.visible_widgets.items():  # front to back
            visible = region.intersection(clip)
            left, top, width, height = visible
            if not width or not height:
                continue
            right = left + width
            # The pieces (between two cuts) of this widget that are changed and not covered by a
            # widget in front: a container behind side-by-side panes has pieces on every line
            # of theirs, and cutting all of them was most of an update's cost. (A piece starting
            # right at a span's end counts: the update moves the cursor there, as Textual's does.)
            wanted: dict[int, list[tuple[int, int]]] = {}
            for y in range(top, top + height):
                on_row = row_spans.get(y)
                if not on_row or not any(x1 < right and x2 >= left for x1, x2 in on_row):
                    continue
                line = chops[y]
                row_cuts = [cut for cut in cuts[y] if right >= cut >= left]
                pieces = [
                    (cut, end)
                    for cut, end in zip(row_cuts, row_cuts[1:])  # noqa: B905 (one shorter)
                    if line.get(cut) is None and any(x1 < end and x2 >= cut for x1, x2 in on_row)
                ]
                if pieces:
                    wanted[y] = pieces
            if not wanted:
                continue
            first, last = min(wanted), max(wanted) + 1
            strips = widget.render_lines(
                Region(left - region.x, first - region.y, width, last - first)
            )
            for y, strip in zip(range(first, last), strips, strict=False):
                row = wanted.get(y)
                if row is None:
                    continue
                line = chops[y]
                if len(row) == 1 and row[0] == (left, right):
                    line[left] = strip
                    continue
                for cut, end in row:
                    line[cut] = strip.crop(cut - left, end - left)
        return _compositor.ChopsUpdate(chops, spans, [cut_set[1:] for cut_set in cuts])
