"""Log in to GitHub Copilot: the device flow's code and URL in a dialog, while the app waits."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from ...errors import CopilotTuiError
from ...service import CopilotClient
from ...service.login import NOTICE, DeviceCode
from ..safe import one_line
from .base import Dialog


class LoginScreen(Dialog[bool]):
    """Dismissed with True once the login is saved; escape stops waiting (nothing is saved)."""

    BINDINGS = [
        *Dialog.BINDINGS,
        Binding("ctrl+y", "copy_code", "Copy code", id="login.copy_code"),
        Binding("enter", "close", "Close", id="login.close", show=False),
    ]

    def __init__(self, client: CopilotClient) -> None:
        super().__init__()
        self._client = client
        self._code: DeviceCode | None = None
        self._done = False  # a login was saved
        self._finished = False  # the flow ended, one way or the other

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog login"):
            yield Static("Log in to GitHub Copilot", classes="title", markup=False)
            yield Static("Asking GitHub for a login code…", id="step", markup=False)
            yield Static("", id="code", classes="code", markup=False)
            yield Static("", id="url", markup=False)
            yield Static(NOTICE, id="notice", classes="muted", markup=False)
            yield Static("esc cancels", id="keys", classes="muted", markup=False)

    def on_mount(self) -> None:
        self.run_login()

    @work(exclusive=True)
    async def run_login(self) -> None:
        try:
            result = await self._client.login_copilot(self._show_code)
        except CopilotTuiError as exc:
            self._finish(f"The login did not complete: {exc}", ok=False)
            return
        if result.problem:
            self._finish(f"Logged in, but Copilot is not usable yet: {result.problem}", ok=True)
            return
        plan = f" (plan: {one_line(result.plan)})" if result.plan else ""
        self._finish(f"Logged in{plan}. Copilot models are now in the model picker.", ok=True)

    def _show_code(self, code: DeviceCode) -> None:
        self._code = code
        minutes = max(1, code.expires_in // 60)
        self.query_one("#step", Static).update(
            f"Open this address in a browser and enter the code (valid {minutes} min):"
        )
        self.query_one("#url", Static).update(one_line(code.verification_uri))
        self.query_one("#code", Static).update(one_line(code.user_code))
        self.query_one("#keys", Static).update(
            "Waiting for approval… · ctrl+y copies the code · esc cancels"
        )

    def _finish(self, message: str, *, ok: bool) -> None:
        self._done, self._finished = ok, True
        step = self.query_one("#step", Static)
        step.update(message)
        step.set_class(not ok, "error")
        self.query_one("#keys", Static).update("enter or esc closes")

    def action_copy_code(self) -> None:
        if self._code is not None:
            self.app.copy_to_clipboard(self._code.user_code)
            self.notify("Code copied.", markup=False)

    def action_close(self) -> None:
        if self._finished:
            self.dismiss(self._done)

    def action_cancel(self) -> None:
        self.dismiss(self._done)
