"""The one place widgets reach Textual's internals, each behind its check in ``internals``.

Every helper here does the fast thing when its internal is there and Textual's public way
otherwise, so widgets call these and never name a private attribute themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from textual import events, on
from textual.app import App
from textual.content import Content
from textual.screen import Screen
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import OptionList, Static, Tab

from . import internals, terminal_keys, tuning
from .keygate import KeyGate

_app: App[Any] | None = None  # the running app, when Textual's own context cannot say


def started(app: App[Any] | None) -> None:
    """Note the running app (None once it has exited)."""
    global _app
    _app = app


def current_app() -> App[Any]:
    """The running app, from a widget's code or from a render thread."""
    if internals.available(internals.ACTIVE_APP):
        from textual._context import active_app

        try:
            return active_app.get()
        except LookupError:  # a thread started outside the app's context
            pass
    if _app is None:
        raise RuntimeError("no app is running")
    return _app


def use_span_compositor(screen: Screen[Any]) -> None:
    """Give a screen the span compositor (see compositor), or leave it Textual's."""
    if internals.available(internals.COMPOSITOR):
        from .compositor import SpanCompositor

        screen._compositor = SpanCompositor()


def set_tab_label(tab: Tab, label: Content, *, spin: bool) -> None:
    """A new tab label. A spinner frame (same width) repaints the tab alone: setting ``label``
    lays out the whole screen and re-places the tab underline, once per tab per frame."""
    if (
        spin
        and label.cell_length == tab.label.cell_length
        and internals.available(internals.TAB_LABEL)
    ):
        tab._label = label
        Static.update(tab, label, layout=False)
    else:
        tab.label = label


def set_option_prompt(option_list: OptionList, option_id: str, prompt: VisualType) -> bool:
    """Replace one option's prompt whose height is unchanged.

    True when line positions and heights stayed cached (the caller repaints the option's
    lines); False when Textual's ``replace_option_prompt`` re-measured the list."""
    if not internals.available(internals.OPTION_PROMPT):
        option_list.replace_option_prompt(option_id, prompt)
        return False
    option = option_list.get_option(option_id)
    option._set_prompt(prompt)
    cache = option_list._option_render_cache
    for key in [k for k in cache.keys() if k[0] is option]:
        cache.discard(key)
    return True


def option_lines_known() -> bool:
    """Whether ``option_line`` and ``option_at`` can answer (else spinner rows are replaced)."""
    return internals.available(internals.OPTION_LINES)


def option_line(option_list: OptionList, index: int) -> tuple[int, int] | None:
    """The first line of an option in the list and its height, if laid out."""
    if not internals.available(internals.OPTION_LINES):
        return None
    line = option_list._index_to_line.get(index)
    if line is None:
        return None
    return line, option_list._heights.get(index, 1)


def option_at(option_list: OptionList, line: int) -> tuple[int, int] | None:
    """The option index at a line of the list, and the line's offset within the option."""
    if not internals.available(internals.OPTION_LINES):
        return None
    try:
        index, offset = option_list._lines[line]
    except IndexError:
        return None
    return index, offset


async def run_bindings_first(
    widget: Widget, event: events.Key, own: Callable[[], Mapping[str, str]]
) -> bool:
    """Run the widget's key bindings (with the app's keymap) for a key, now, in order with
    the characters typed around it; True when one ran (the key is used up).

    Textual runs bindings apart from the widget's queue of keys: priority ones ahead of the
    characters still queued, plain ones after them. Without the internals only the widget's
    ``own`` keys (key -> action) run here, and Textual dispatches every other key as usual."""
    if not internals.available(internals.KEY_BINDINGS):
        action = own().get(event.key)
        return action is not None and bool(await widget.app.run_action(action, widget))
    keys = widget._bindings.copy()
    keys.apply_keymap(widget.app._keymap)
    for binding in keys.key_to_bindings.get(event.key, ()):
        if await widget.app.run_action(binding.action, widget):
            return True
    return False


def hold_keys(app: App[Any]) -> Callable[[], None]:
    """Hold typed keys until the returned function is called (see keygate); a no-op in an app
    without the gate."""
    if isinstance(app, EngineApp):
        return app.hold_keys()
    return lambda: None


def anchor_released(widget: Widget) -> bool:
    """Whether the user scrolled an anchored widget away from its end."""
    return internals.available(internals.ANCHOR) and bool(widget._anchor_released)


class EngineApp(App[int]):
    """An app that runs the engine: internals checked when created, interpreter settings
    applied when it loads and put back when it unmounts, and a hook for errors."""

    def __init__(self) -> None:
        super().__init__()
        internals.check()
        terminal_keys.install()
        self.key_gate = KeyGate(self, super().on_event)

    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes from the terminal pass the key gate (see keygate)."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            await self.key_gate.receive(event)
        else:
            await super().on_event(event)

    def hold_keys(self) -> Callable[[], None]:
        """Hold typed keys until the returned function is called: for work that moves the
        focus later, so what is typed meanwhile reaches where the focus goes."""
        return self.key_gate.hold()

    @on(events.Load)
    def _start_engine(self) -> None:
        started(self)
        tuning.start()

    @on(events.Unmount)
    def _stop_engine(self) -> None:
        tuning.stop()
        started(None)

    def handle_error(self, error: Exception) -> bool:
        """An error a handler raised: True when handled here (Textual's error screen otherwise)."""
        return False

    def _handle_exception(self, *args: Any, **kwargs: Any) -> None:
        """Textual's error path; another signature than the one checked goes straight to it."""
        if internals.available(internals.APP_ERRORS) and self.handle_error(*args, **kwargs):
            return
        super()._handle_exception(*args, **kwargs)
