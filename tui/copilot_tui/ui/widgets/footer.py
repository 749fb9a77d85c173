"""The key bar at the bottom, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[tuple[str, str, str, bool, str], ...]


class KeyFooter(Footer):
    """Textual's footer, minus the rebuilds that change nothing.

    The stock footer removes and re-mounts every key on each focus change (twice: at once and
    after the next refresh), and each rebuild lays out the whole screen. Moving focus between
    two conversations shows the same keys, and with panes streaming such a layout is one of the
    longest frames there is. Here the keys are compared first.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None

    def _keys(self) -> Shown:
        return tuple(
            (binding.key, binding.description, binding.action, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            await self.recompose()
