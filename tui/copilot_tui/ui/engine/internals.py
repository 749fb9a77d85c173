"""Every private Textual and Rich internal the app relies on, checked before the app starts.

The speed work reaches into internals no release promises to keep: a new Textual or Rich can
rename or reshape any of them. Each is checked here by presence and signature; a user of one
asks ``available`` first and takes the stock (public) way when the check failed, so a new
release makes the app slower, never broken. ``check`` runs when the app is created; the
results are in ``report``. Nothing outside ``ui.engine`` may touch these internals.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

COMPOSITOR = "compositor"
ACTIVE_APP = "active_app"
MARKDOWN = "markdown"
TAB_LABEL = "tab_label"
OPTION_PROMPT = "option_prompt"
OPTION_LINES = "option_lines"
KEY_BINDINGS = "key_bindings"
ANCHOR = "anchor"
APP_ERRORS = "app_errors"
KEY_PARSER = "key_parser"


@dataclass(frozen=True)
class Internal:
    name: str
    uses: str  # what the app uses
    fallback: str  # what it does when the check fails
    check: Callable[[], bool]


def _params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def _stores(func: object, *names: str) -> bool:
    """Whether a function's code names all these attributes (how an __init__ is seen to set them)."""
    code = getattr(func, "__code__", None)
    return code is not None and all(name in code.co_names for name in names)


def _compositor() -> bool:
    from textual import _compositor
    from textual.screen import Screen
    from textual.widget import Widget

    compositor = _compositor.Compositor
    return (
        all(hasattr(compositor, name) for name in ("cuts", "visible_widgets", "_regions_to_spans"))
        and _params(compositor.render_partial_update) == ["self"]
        and _stores(compositor.__init__, "_dirty_regions", "size")
        and _params(_compositor.ChopsUpdate.__init__) == ["self", "chops", "spans", "chop_ends"]
        and _params(Widget.render_lines) == ["self", "crop"]
        and _stores(Screen.__init__, "_compositor")
    )


def _active_app() -> bool:
    from contextvars import ContextVar

    from textual import _context

    return isinstance(getattr(_context, "active_app", None), ContextVar)


def _markdown() -> bool:
    from rich.markdown import Markdown

    return _params(Markdown.__init__) == [
        "self",
        "markup",
        "code_theme",
        "justify",
        "style",
        "hyperlinks",
        "inline_code_lexer",
        "inline_code_theme",
    ] and _stores(
        Markdown.__init__,
        "markup",
        "parsed",
        "code_theme",
        "justify",
        "style",
        "hyperlinks",
        "inline_code_lexer",
        "inline_code_theme",
    )


def _tab_label() -> bool:
    from textual.widgets import Tab

    label = getattr(Tab, "label", None)
    return (
        isinstance(label, property)
        and _stores(label.fget, "_label")
        and _stores(label.fset, "_label")
    )


def _option_prompt() -> bool:
    from textual.widgets import OptionList
    from textual.widgets.option_list import Option

    return (
        hasattr(Option, "_set_prompt")
        and _params(Option._set_prompt) == ["self", "prompt"]
        and _stores(OptionList.__init__, "_option_render_cache")
    )


def _option_lines() -> bool:
    from textual.widgets import OptionList

    return all(
        isinstance(getattr(OptionList, name, None), property)
        for name in ("_lines", "_index_to_line", "_heights")
    )


def _key_parser() -> bool:
    from textual import _xterm_parser
    from textual.drivers import linux_driver

    return (
        linux_driver.XTermParser is _xterm_parser.XTermParser
        or issubclass(linux_driver.XTermParser, _xterm_parser.XTermParser)
    ) and _params(_xterm_parser.XTermParser._sequence_to_key_events) == [
        "self",
        "sequence",
        "alt",
    ]


def _key_bindings() -> bool:
    from textual.app import App
    from textual.binding import BindingsMap
    from textual.dom import DOMNode

    return (
        _stores(DOMNode.__init__, "_bindings")
        and _stores(App.__init__, "_keymap")
        and all(hasattr(BindingsMap, name) for name in ("copy", "apply_keymap"))
        and _stores(BindingsMap.__init__, "key_to_bindings")
    )


def _anchor() -> bool:
    from textual.widget import Widget

    return _stores(Widget.__init__, "_anchor_released")


def _app_errors() -> bool:
    from textual.app import App

    return hasattr(App, "_handle_exception") and _params(App._handle_exception) == ["self", "error"]


INTERNALS: tuple[Internal, ...] = (
    Internal(
        COMPOSITOR,
        "textual._compositor.Compositor internals, ChopsUpdate, Screen._compositor",
        "Textual's own Compositor: partial updates draw the whole box around the changes",
        _compositor,
    ),
    Internal(
        ACTIVE_APP,
        "textual._context.active_app",
        "the app the engine was started with",
        _active_app,
    ),
    Internal(
        MARKDOWN,
        "rich.markdown.Markdown built without its __init__ (one parser per thread)",
        "Markdown through its public constructor (a parser per block)",
        _markdown,
    ),
    Internal(
        TAB_LABEL,
        "Tab._label",
        "tab.label = ... (lays out the screen on every spinner frame)",
        _tab_label,
    ),
    Internal(
        OPTION_PROMPT,
        "Option._set_prompt, OptionList._option_render_cache",
        "OptionList.replace_option_prompt (drops every cached line)",
        _option_prompt,
    ),
    Internal(
        OPTION_LINES,
        "OptionList._lines, _index_to_line, _heights",
        "spinner frames replace the streaming rows' prompts",
        _option_lines,
    ),
    Internal(
        KEY_BINDINGS,
        "DOMNode._bindings, App._keymap",
        "Textual's own key dispatch (bindings can overtake typed characters)",
        _key_bindings,
    ),
    Internal(
        ANCHOR, "Widget._anchor_released", "a pane follows its reply while it is anchored", _anchor
    ),
    Internal(
        KEY_PARSER,
        "XTermParser._sequence_to_key_events, linux_driver.XTermParser",
        "Textual's key parser (alt+backspace reads as ctrl+w, alt+enter as enter)",
        _key_parser,
    ),
    Internal(
        APP_ERRORS, "App._handle_exception", "Textual's error screen for every error", _app_errors
    ),
)

_results: dict[str, bool] = {}


def check() -> dict[str, bool]:
    """Check every internal now (an error in a check counts as missing); returns the results."""
    for internal in INTERNALS:
        try:
            ok = bool(internal.check())
        except Exception:  # noqa: BLE001 - any surprise means the internal is not as expected
            ok = False
        _results[internal.name] = ok
    return dict(_results)


def available(name: str) -> bool:
    if name not in _results:
        check()
    return _results[name]


def report() -> dict[str, bool]:
    """The results of the last check (checking first if none ran)."""
    if not _results:
        check()
    return dict(_results)


def missing() -> list[str]:
    return [name for name, ok in report().items() if not ok]
