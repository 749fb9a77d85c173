"""Dialogs over the main screen, focus coming back, and the welcome shown with no tab open."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from textual import work
from textual.screen import Screen

from ...widgets.welcome import Welcome
from .core import MainCore


class DialogHost(MainCore):
    _checking_providers = False

    def _dialog(self, dialog: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Push a dialog. Focus is cleared first, so coming back never re-focuses a widget in a
        tab that was left (that would switch the tab back); the active prompt gets it instead."""
        previous = self.focused
        in_sidebar = previous is not None and self.sidebar in previous.ancestors_with_self
        self.set_focus(None)

        def done(result: Any) -> None:
            if callback is not None:
                callback(result)
            if self.has_class("-empty"):
                self._refresh_welcome()  # a dialog may have checked the providers, or logged in
            if (
                in_sidebar
                and previous is not None
                and previous.is_attached
                and not self.sidebar.has_class("-hidden")
            ):
                self.call_after_refresh(previous.focus)
            else:
                self.call_after_refresh(self._refocus)

        self.app.push_screen(dialog, done)

    def cancel_edit(self, session_id: str) -> bool:
        """Leave editing an earlier prompt (the steering flows do); False: nothing to leave."""
        return False

    def _refocus(self) -> None:
        if self.focused is None:
            self.action_focus_prompt()

    def action_focus_prompt(self) -> None:
        pane = self.active_pane
        if pane is not None:
            pane.prompt.focus()
        elif (compare := self.active_compare) is not None:
            compare.focus_prompt()
        elif self.has_class("-empty"):
            self.query_one(Welcome).focus_input()

    def _update_empty(self) -> None:
        """With no tab open the main area offers a prompt instead of a blank space."""
        empty = not self.workspace.tabs
        if empty != self.has_class("-empty"):
            self.set_class(empty, "-empty")
            if empty:
                self._refresh_welcome()
                if not self._restoring and self.app.screen is self:
                    self.query_one(Welcome).focus_input()

    def _refresh_welcome(self) -> None:
        """Show what the service knows now; if no model is known to answer, check the providers
        (in the background: the welcome is drawn first and updated as each one answers)."""
        ready = self.client.readiness
        self.query_one(Welcome).show(ready)
        if not ready.confirmed and not self._checking_providers:
            self.check_providers()

    @work(group="readiness")
    async def check_providers(self) -> None:
        self._checking_providers = True
        welcome = self.query_one(Welcome)
        try:
            async with contextlib.aclosing(self.client.watch_readiness()) as updates:
                async for ready in updates:
                    welcome.show(ready)
        finally:
            self._checking_providers = False
