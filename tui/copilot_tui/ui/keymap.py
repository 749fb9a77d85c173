"""Every key binding of the app, each with a stable id so ``[keys]`` in the config can remap it.

Widgets take their ``BINDINGS`` from here, the help screen lists them, and the command palette
shows the same descriptions: one table, no drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class KeySpec:
    id: str
    key: str
    action: str
    description: str
    scope: str  # where it applies, for the help screen
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.description,
            show=self.show,
            priority=self.priority,
            id=self.id,
            tooltip=self.description,
        )


APP_KEYS: tuple[KeySpec, ...] = (
    KeySpec("app.help", "f1,ctrl+g", "help", "Help", "everywhere"),
    KeySpec("app.quit", "ctrl+q", "quit", "Quit", "everywhere", show=False, priority=True),
)

MAIN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("main.new_session", "ctrl+n", "new_session", "New session", "main screen"),
    KeySpec("main.open_session", "ctrl+o", "open_session", "Open session", "main screen"),
    KeySpec("main.toggle_sidebar", "ctrl+b,f8", "toggle_sidebar", "Sidebar", "main screen"),
    KeySpec(
        "main.filter", "slash", "focus_filter", "Filter sessions", "outside the prompt", show=False
    ),
    KeySpec("main.search", "ctrl+f,f3", "search", "Search", "main screen"),
    # No key here wins over the prompt: ctrl+w deletes a word there (terminals send it for
    # ctrl+backspace, and Textual reads alt+backspace as it), so it closes a tab only from
    # outside a text field; alt+w closes one from anywhere.
    KeySpec("main.close_tab", "alt+w,ctrl+w", "close_tab", "Close tab", "main screen", show=False),
    KeySpec(
        "main.prev_tab",
        "ctrl+pageup,alt+left",
        "prev_tab",
        "Previous tab",
        "main screen",
        show=False,
    ),
    KeySpec(
        "main.next_tab",
        "ctrl+pagedown,alt+right",
        "next_tab",
        "Next tab",
        "main screen",
        show=False,
    ),
    *(
        KeySpec(
            f"main.tab_{n}",
            f"alt+{n}",
            f"goto_tab({n})",
            f"Go to tab {n}",
            "main screen",
            show=False,
        )
        for n in range(1, 10)
    ),
    KeySpec("main.cancel", "escape", "cancel_reply", "Stop reply", "main screen"),
    KeySpec("main.copy_reply", "ctrl+r", "copy_reply", "Copy reply", "main screen", show=False),
    KeySpec("main.copy_code", "alt+y", "copy_code", "Copy code block", "main screen", show=False),
    KeySpec("main.switch_model", "ctrl+l", "switch_model", "Switch model", "main screen"),
    KeySpec("main.rename", "f2", "rename_current", "Rename session", "main screen", show=False),
    KeySpec(
        "main.focus_prompt", "ctrl+t", "focus_prompt", "Focus prompt", "main screen", show=False
    ),
    KeySpec("main.compare", "ctrl+s", "new_comparison", "Compare", "main screen"),
    KeySpec(
        "main.leaderboard",
        "f9",
        "leaderboard",
        "Leaderboard and vote queue",
        "main screen",
        show=False,
    ),
)

# In a compare view. None wins over the shared prompt: ctrl+left and ctrl+right stay word
# jumps there and pick a pane from outside it.
COMPARE_KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "compare.next_pane",
        "alt+down,ctrl+right",
        "next_pane",
        "Next pane",
        "compare view",
        show=False,
    ),
    KeySpec(
        "compare.prev_pane",
        "alt+up,ctrl+left",
        "prev_pane",
        "Previous pane",
        "compare view",
        show=False,
    ),
    KeySpec("compare.cancel_pane", "escape", "cancel_pane", "Stop pane", "compare view"),
    KeySpec("compare.cancel_all", "alt+x", "cancel_all", "Stop all", "compare view"),
    KeySpec("compare.continue", "alt+e", "continue_pane", "Continue in a tab", "compare view"),
    KeySpec("compare.maximise", "f11,alt+m", "maximise", "Maximise pane", "compare view"),
    KeySpec("compare.vote", "f5,alt+v", "vote", "Vote on the answers", "compare view"),
)

SIDEBAR_KEYS: tuple[KeySpec, ...] = (
    KeySpec("sidebar.open", "enter", "open", "Open", "session list"),
    KeySpec("sidebar.new", "n", "new", "New session", "session list"),
    KeySpec("sidebar.rename", "r", "rename", "Rename", "session list"),
    KeySpec("sidebar.delete", "d", "delete", "Delete", "session list"),
)

PROMPT_KEYS: tuple[KeySpec, ...] = (
    KeySpec("prompt.send", "enter", "send", "Send", "prompt"),
    KeySpec(
        "prompt.newline", "shift+enter,ctrl+j,alt+enter", "newline", "Newline", "prompt", show=False
    ),
    KeySpec(
        "prompt.recall", "up", "recall", "Recall an earlier prompt", "empty prompt", show=False
    ),
    KeySpec(
        "prompt.recall_next", "down", "recall_next", "Recall a later prompt", "prompt", show=False
    ),
    KeySpec(
        "prompt.page_up", "pageup", "page(-1)", "Scroll the conversation up", "prompt", show=False
    ),
    KeySpec(
        "prompt.page_down",
        "pagedown",
        "page(1)",
        "Scroll the conversation down",
        "prompt",
        show=False,
    ),
)

# Keys that are not bindings of the app (Textual's, or the text editor's): listed by the help.
FIXED_KEYS: tuple[tuple[str, str, str], ...] = (
    ("ctrl+p", "Command palette: every action", "everywhere"),
    ("ctrl+w / alt+backspace / ctrl+backspace", "Delete the word before the cursor", "prompt"),
    ("ctrl+u / ctrl+k", "Delete to the start / end of the line", "prompt"),
    ("ctrl+z / ctrl+y", "Undo / redo", "prompt"),
)

AGENT_KEYS: tuple[KeySpec, ...] = (
    KeySpec("agent.allow_once", "y", "answer('approve-once')", "Allow once", "permission request"),
    KeySpec(
        "agent.allow_session",
        "a",
        "answer('approve-for-session')",
        "Allow for this session",
        "permission request",
    ),
    KeySpec("agent.deny", "n", "answer('reject')", "Deny", "permission request"),
)

ALL_KEYS: tuple[KeySpec, ...] = (
    APP_KEYS + MAIN_KEYS + COMPARE_KEYS + SIDEBAR_KEYS + PROMPT_KEYS + AGENT_KEYS
)
KNOWN_IDS = frozenset(spec.id for spec in ALL_KEYS)


def bindings(specs: tuple[KeySpec, ...]) -> list[BindingType]:
    return [spec.binding() for spec in specs]


def effective_key(spec: KeySpec, keymap: dict[str, str]) -> str:
    return keymap.get(spec.id, spec.key)


def display_key(key: str) -> str:
    """'ctrl+pageup,alt+left' -> 'ctrl+pageup / alt+left' with friendlier names."""
    names = {"slash": "/", "pageup": "pgup", "pagedown": "pgdn"}
    out = []
    for part in key.split(","):
        out.append("+".join(names.get(p, p) for p in part.strip().split("+")))
    return " / ".join(out)


def split_keymap(keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The config's ``[keys]`` split into the usable part and the unknown ids (to warn about)."""
    good = {k: v for k, v in keys.items() if k in KNOWN_IDS}
    return good, sorted(set(keys) - KNOWN_IDS)
