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
    KeySpec("app.help", "f1", "help", "Help", "everywhere"),
    KeySpec("app.quit", "ctrl+q", "quit", "Quit", "everywhere", show=False, priority=True),
)

MAIN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("main.new_session", "ctrl+n", "new_session", "New session", "main screen"),
    KeySpec("main.open_session", "ctrl+o", "open_session", "Open session", "main screen"),
    KeySpec("main.toggle_sidebar", "ctrl+b", "toggle_sidebar", "Sidebar", "main screen"),
    KeySpec(
        "main.filter", "slash", "focus_filter", "Filter sessions", "outside the prompt", show=False
    ),
    KeySpec("main.search", "ctrl+f", "search", "Search", "main screen"),
    # ctrl+w and ctrl+y win over the prompt's own meanings (delete word: also ctrl+backspace;
    # redo): these are the keys people reach for to close a tab and copy a reply.
    KeySpec(
        "main.close_tab",
        "ctrl+w",
        "close_tab",
        "Close tab",
        "main screen",
        show=False,
        priority=True,
    ),
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
    KeySpec(
        "main.copy_reply",
        "ctrl+y",
        "copy_reply",
        "Copy reply",
        "main screen",
        show=False,
        priority=True,
    ),
    KeySpec("main.copy_code", "alt+y", "copy_code", "Copy code block", "main screen", show=False),
    KeySpec("main.switch_model", "ctrl+l", "switch_model", "Switch model", "main screen"),
    KeySpec("main.rename", "f2", "rename_current", "Rename session", "main screen", show=False),
    KeySpec(
        "main.regenerate", "ctrl+r", "regenerate", "Regenerate reply", "main screen", show=False
    ),
    KeySpec(
        "main.prev_version",
        "alt+comma",
        "step_version(-1)",
        "Previous version",
        "main screen",
        show=False,
    ),
    KeySpec(
        "main.next_version",
        "alt+full_stop",
        "step_version(1)",
        "Next version",
        "main screen",
        show=False,
    ),
    KeySpec(
        "main.edit_prompt",
        "alt+e",
        "edit_prompt",
        "Edit an earlier prompt",
        "main screen",
        show=False,
    ),
    KeySpec("main.fork", "alt+f", "fork", "Fork session", "main screen", show=False),
    KeySpec("main.params", "alt+p", "params", "Parameters", "main screen", show=False),
    KeySpec("main.attach", "alt+a", "attach", "Attach a file", "main screen", show=False),
    KeySpec(
        "main.focus_prompt", "ctrl+t", "focus_prompt", "Focus prompt", "main screen", show=False
    ),
    KeySpec("main.compare", "ctrl+k", "new_comparison", "Compare", "main screen", priority=True),
    KeySpec(
        "main.leaderboard",
        "f9",
        "leaderboard",
        "Leaderboard and vote queue",
        "main screen",
        show=False,
    ),
)

# In a compare view. Some take keys a text box would otherwise use (word jumps, cut, end of
# line), so they win over the shared prompt, but only inside the compare view.
COMPARE_KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "compare.next_pane",
        "ctrl+right",
        "next_pane",
        "Next pane",
        "compare view",
        show=False,
        priority=True,
    ),
    KeySpec(
        "compare.prev_pane",
        "ctrl+left",
        "prev_pane",
        "Previous pane",
        "compare view",
        show=False,
        priority=True,
    ),
    KeySpec("compare.cancel_pane", "escape", "cancel_pane", "Stop pane", "compare view"),
    KeySpec(
        "compare.cancel_all", "ctrl+x", "cancel_all", "Stop all", "compare view", priority=True
    ),
    KeySpec(
        "compare.continue",
        "ctrl+e",
        "continue_pane",
        "Continue in a tab",
        "compare view",
        priority=True,
    ),
    KeySpec("compare.maximise", "f11", "maximise", "Maximise pane", "compare view"),
    KeySpec("compare.vote", "f6", "vote", "Vote on the answers", "compare view", priority=True),
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
    KeySpec("prompt.recall", "up", "recall", "Recall last prompt", "empty prompt", show=False),
    KeySpec(
        "prompt.complete_path",
        "tab",
        "complete_path",
        "Complete an @path (else: next field)",
        "prompt",
        show=False,
    ),
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
    names = {"slash": "/", "pageup": "pgup", "pagedown": "pgdn", "comma": ",", "full_stop": "."}
    out = []
    for part in key.split(","):
        out.append("+".join(names.get(p, p) for p in part.strip().split("+")))
    return " / ".join(out)


def split_keymap(keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The config's ``[keys]`` split into the usable part and the unknown ids (to warn about)."""
    good = {k: v for k, v in keys.items() if k in KNOWN_IDS}
    return good, sorted(set(keys) - KNOWN_IDS)
