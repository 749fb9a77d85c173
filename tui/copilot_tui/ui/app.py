"""The Textual application and the entry point the command line calls."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual import work
from textual.app import App

from ..errors import ConfigError, CopilotTuiError, StoreError
from ..service import CopilotClient
from .commands import ActionCommands, SessionCommands
from .engine.access import EngineApp
from .engine.render import RENDER_POOL, warm_up
from .keymap import APP_KEYS, bindings, split_keymap
from .messages import StartupDone
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .workspace import Workspace

_HERE = Path(__file__).parent
WARM_UP_DELAY = 0.5  # seconds after start-up before the idle-time warm-up
CSS_FILES = [
    _HERE / "widgets" / "conversation.tcss",
    _HERE / "widgets" / "chat_pane.tcss",
    _HERE / "widgets" / "agent_activity.tcss",
    _HERE / "widgets" / "sidebar.tcss",
    _HERE / "widgets" / "compare_view.tcss",
    _HERE / "widgets" / "welcome.tcss",
    _HERE / "screens" / "main.tcss",
    _HERE / "screens" / "dialogs.tcss",
    _HERE / "screens" / "compare_dialog.tcss",
]


class CopilotApp(EngineApp):
    """Many conversations at once.

    Given a started CopilotClient, the caller owns it; given one not started yet, the app
    starts it when it mounts and stops it when it exits.
    """

    TITLE = "copilot-tui"
    CSS_PATH = CSS_FILES  # type: ignore[assignment]
    BINDINGS = bindings(APP_KEYS)
    COMMANDS = App.COMMANDS | {ActionCommands, SessionCommands}

    def __init__(
        self, client: CopilotClient, *, session_id: str | None = None, model: str | None = None
    ) -> None:
        super().__init__()
        self.client = client
        self.workspace = Workspace()  # what the UI knows, outside the widgets
        config = client.config
        keys = dict(config.keys) if config else {}
        self.keymap_overrides, self._unknown_keys = split_keymap(keys)
        self._ui = dict(config.ui) if config else {}
        self._session_id = session_id
        self._model = model
        self._warnings = list(config.warnings) if config else []
        self._owns_client = not client.started

    async def on_mount(self) -> None:
        # keys typed while the app starts wait for the restored tab's prompt
        self._startup_keys = self.hold_keys()
        if self._owns_client:
            try:
                await self.client.start()
            except CopilotTuiError as exc:
                self._startup_keys()
                self.exit(2 if isinstance(exc, ConfigError) else 1, message=str(exc))
                return
            self._read_config()
        self.set_keymap(self.keymap_overrides)
        theme = self._ui.get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        for warning in self._warnings:
            self.notify(warning, severity="warning", markup=False, timeout=10)
        if self._unknown_keys:
            self.notify(
                f"Unknown key binding ids in [keys]: {', '.join(self._unknown_keys)} (see f1).",
                severity="warning",
                markup=False,
                timeout=10,
            )
        self.push_screen(
            MainScreen(
                self.client,
                self.workspace,
                start_session=self._session_id,
                start_model=self._model,
                show_sidebar=self._ui.get("sidebar", True) is not False,
                show_meta=self._ui.get("show_meta", True) is not False,
            )
        )

    def on_startup_done(self, message: StartupDone) -> None:
        """Soon after start-up, in threads (never competing with the first frame): the first
        reply then goes out and renders at full speed."""
        self.call_after_refresh(self._startup_keys)
        self.set_timer(WARM_UP_DELAY, self._warm_up)

    def _warm_up(self) -> None:
        RENDER_POOL.submit(warm_up, self.console, self.console_options)
        self._prepare_client()

    @work(thread=True, group="prepare")
    def _prepare_client(self) -> None:
        self.client.prepare()

    def _read_config(self) -> None:
        """Read the keys and UI settings once a client started here has loaded its config."""
        config = self.client.config
        if config is not None:
            self.keymap_overrides, self._unknown_keys = split_keymap(dict(config.keys))
            self._ui = dict(config.ui)
            self._warnings = list(config.warnings)

    async def on_unmount(self) -> None:
        if self._owns_client and self.client.started:
            await self.client.stop()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap_overrides))

    def handle_error(self, error: Exception) -> bool:
        """A bug must not leave a traceback on screen: say one sentence and keep running."""
        if isinstance(error, CopilotTuiError):
            self.notify(str(error), severity="error", markup=False)
            return True
        return False


async def _run(
    config_path: str | None, data_dir: str | None, session_id: str | None, model: str | None
) -> int:
    client = CopilotClient(config_path=config_path, data_dir=data_dir)
    try:
        await client.start()
    except ConfigError as exc:
        print(f"copilot-tui: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"copilot-tui: {exc}", file=sys.stderr)
        return 1
    try:
        app = CopilotApp(client, session_id=session_id, model=model)
        result = await app.run_async()
    finally:
        await client.stop()
    return result or 0


def run_app(
    *,
    config_path: str | None,
    data_dir: str | None,
    session_id: str | None = None,
    model: str | None = None,
) -> int:
    """Start the service, run the app, stop the service; start-up errors are one line on stderr."""
    try:
        return asyncio.run(_run(config_path, data_dir, session_id, model))
    except KeyboardInterrupt:
        return 130
