"""Every default binding as the bytes real terminals send, to the real app on a pty.

Each check writes the key and what the user types after it in ONE write (a fast typist, tmux,
a remote link): the action must happen, the text must land where the action moved the focus,
and nothing else may happen (no tab closed, no character typed, no turn sent elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.servers.openai_server import FakeOpenAI, Script
from tests.ui.pty_harness import PtyApp

from copilot_tui import CopilotClient

TABS = ["s1", "s2", "s3"]


async def seed(config_path: Path, data_dir: Path, models: dict[str, str]) -> None:
    """Sessions with titles, open as tabs, the first active: what a restart brings back."""
    async with CopilotClient(config_path=config_path, data_dir=data_dir) as client:
        for sid, model in models.items():
            await client.create_session(model, session_id=sid)
            await client.rename_session(sid, f"title {sid}")
        await client.set_state("ui.open_tabs", list(models))
        await client.set_state("ui.active_tab", next(iter(models)))


@pytest.fixture
def app(config_path: Path, data_dir: Path) -> Iterator[PtyApp]:
    running = PtyApp(config_path, data_dir)
    yield running
    running.close()


def replies_done(app: PtyApp, sid: str) -> bool:
    roles = [role for role, content in app.messages(sid) if role != "user" or content]
    return bool(roles) and roles[-1] == "assistant" and app.messages(sid)[-1][1] != ""


async def test_tabs_prompt_and_main_keys(app: PtyApp, config_path: Path, data_dir: Path) -> None:
    await seed(config_path, data_dir, {sid: "lab/gpt-4o-mini" for sid in TABS})
    app.start()
    active = app.active_tab  # noqa: E731

    # keys typed as the app starts reach the restored tab's prompt
    app.wait_raw()
    app.write("early", "enter")
    app.wait(lambda: app.user_messages("s1") == ["early"], "type-ahead at start-up")

    # tab switching, legacy (tmux, xterm, GNOME, VS Code, Windows Terminal) and kitty bytes
    for key, proto, expected in (
        ("ctrl+pagedown", "legacy", "s2"),
        ("alt+right", "legacy", "s3"),
        ("alt+left", "legacy", "s2"),
        ("ctrl+pageup", "legacy", "s1"),
        ("alt+3", "legacy", "s3"),
        ("alt+2", "kitty", "s2"),
        ("alt+1", "legacy", "s1"),
    ):
        app.write(key, proto=proto)
        app.wait(lambda expected=expected: active() == expected, f"{key} ({proto})")

    # a tab switch and the text after it in one write: the text goes to the new tab
    app.write("ctrl+pagedown", "to the next tab", "enter")
    app.wait(lambda: app.user_messages("s2") == ["to the next tab"], "text in the new tab")
    assert app.user_messages("s1") == ["early"] and active() == "s2"

    def sent(*keys: str, proto: str = "legacy") -> str:
        before = len(app.user_messages("s2"))
        app.write(*keys, proto=proto)
        app.wait(lambda: len(app.user_messages("s2")) > before, f"a turn sent by {keys}")
        return app.user_messages("s2")[before]

    # the newline keys, the word deletes and alt+y: edit or act, never send, close or type
    assert sent("a", "ctrl+j", "b", "alt+enter", "c", "enter") == "a\nb\nc"
    assert sent("d", "shift+enter", "e", "alt+enter", "f", "enter", proto="kitty") == "d\ne\nf"
    assert sent("one two", "alt+backspace", "three", "enter") == "one three"
    assert sent("four five", "ctrl+w", "six", "enter") == "four six"
    assert sent("seven eight", "alt+backspace", "nine", "enter", proto="kitty") == "seven nine"
    assert sent("ten eleven", "ctrl+backspace", "twelve", "enter", proto="kitty") == "ten twelve"
    assert sent("x", "ctrl+w", "y", "enter", proto="kitty") == "y"
    assert sent("alt+y", "no y typed", "enter") == "no y typed"
    assert app.open_tabs() == TABS

    # text typed straight after enter is the next turn, whole
    before = len(app.user_messages("s2"))
    app.write("first turn", "enter", "second turn", "enter")
    app.wait(lambda: len(app.user_messages("s2")) == before + 2, "two turns")
    assert app.user_messages("s2")[before:] == ["first turn", "second turn"]

    # f2, the new title and enter in one write rename the session and send nothing
    turns = app.user_messages("s2")
    app.write("f2", "ctrl+u", "A new title", "enter")
    app.wait(lambda: app.sessions()["s2"].title == "A new title", "renamed")
    app.wait(lambda: replies_done(app, "s2"), "replies done")
    assert app.user_messages("s2") == turns

    # ctrl+r copies the last reply (OSC 52)
    mark = app.mark
    app.write("ctrl+r")
    app.wait(lambda: app.copied("Echo: second turn", mark), "the reply copied")

    # f1 and ctrl+g open the help; escape closes it and what follows goes to the prompt (the
    # kitty escape: a legacy ESC followed at once by "a" is alt+a, in any terminal program)
    for key in ("f1", "ctrl+g"):
        mark = app.mark
        app.write(key)
        app.wait_output("remap any id", mark)
        app.write("escape", f"after {key}", "enter", proto="kitty")
        app.wait(lambda key=key: app.user_messages("s2")[-1] == f"after {key}", "after help")

    # alt+w closes the tab (legacy and kitty), whatever has the focus
    app.write("alt+w")
    app.wait(lambda: app.open_tabs() == ["s1", "s3"], "s2 closed")
    app.write("alt+w", proto="kitty")
    app.wait(lambda: len(app.open_tabs()) == 1, "another tab closed")
    assert set(app.sessions()) == set(TABS)  # closing a tab keeps its session


async def test_dialogs_take_the_keys_typed_with_them(
    app: PtyApp, config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("slow", Script(text="word " * 2000, delay=0.01))
    await seed(config_path, data_dir, {"s1": "lab/gpt-4o-mini", "s2": "lab/slow"})
    app.start().wait_raw()

    # ctrl+n, enter (the default model), then the first prompt: a new session with that turn
    app.write("ctrl+n", "enter", "hello new session", "enter")
    new = app.wait(
        lambda: [s for s in app.sessions() if s not in ("s1", "s2")], "a new session created"
    )
    app.wait(lambda: app.user_messages(new[0]) == ["hello new session"], "its first turn")
    assert app.user_messages("s1") == [] and app.user_messages("s2") == []

    # ctrl+l, a model name, enter: the session's model changes, nothing is sent
    app.write("ctrl+l", "slow", "enter")
    app.wait(lambda: app.sessions()[new[0]].model == "lab/slow", "model switched")
    assert app.user_messages(new[0]) == ["hello new session"]

    # escape stops the reply streaming in the tab
    app.write("alt+2", "stream please", "enter")
    app.wait(lambda: app.user_messages("s2") == ["stream please"], "a slow turn sent")
    app.wait(lambda: app.messages("s2")[-1][1].startswith("word"), "the reply streaming")
    app.write("escape")
    app.wait(lambda: aborted(data_dir, "s2"), "the reply stopped")

    # ctrl+f, a word, enter: the search opens the session holding it
    app.write("alt+1")
    app.wait(lambda: app.active_tab() == "s1", "back on s1")
    app.write("ctrl+f", "hello new", "enter")
    app.wait(lambda: app.active_tab() == new[0], "the search's match opened")


async def test_compare_and_sidebar_keys(
    app: PtyApp, config_path: Path, data_dir: Path, fake: FakeOpenAI
) -> None:
    fake.script("slow", Script(text="word " * 3000, delay=0.01))
    await seed(config_path, data_dir, {"s1": "lab/gpt-4o-mini", "s2": "lab/gpt-4o-mini"})
    app.start().wait_raw()

    # alt+y copies the code block of the last reply (the fake model echoes the fence back)
    app.write("see", "ctrl+j", "```", "ctrl+j", "print(1)", "ctrl+j", "```", "enter")
    app.wait(lambda: app.statuses("s1") == ["complete"], "a reply")
    mark = app.mark
    copied = lambda: app.copied("print(1)", mark) or app.copied("print(1)\n", mark)  # noqa: E731
    for _ in range(20):  # pressed again while the finished reply is not drawn yet, as a user would
        app.write("alt+y")
        try:
            app.wait(copied, "copied", timeout=1)
            break
        except AssertionError:
            continue
    assert copied() and app.user_messages("s1") == ["see\n```\nprint(1)\n```"]

    # ctrl+b and f8 hide and show the sidebar (its filter is drawn again when it comes back)
    for key in ("ctrl+b", "f8"):
        app.write(key)
        mark = app.mark
        app.write(key)
        app.wait_output("Filter sessions", mark)

    # ctrl+o opens the session palette (its search and enter are Textual's own, tested there)
    mark = app.mark
    app.write("ctrl+o")
    app.wait_output("Open session…", mark)
    app.write("escape", "alt+2", proto="kitty")
    app.wait(lambda: app.active_tab() == "s2", "the palette closed, then tab 2")

    # ctrl+s, two models (a name and enter each, in the filter), five tabs to the prompt
    # (past the list, the panes, their system message and the shared one), text and enter
    tab = "\t"
    app.write("ctrl+s", "slow", "enter", "gpt-4o-mini", "enter", tab * 5, "compare me", "enter")
    groups = app.wait(
        lambda: [g for g in app.groups() if len(g.session_ids) == 2], "a comparison started"
    )
    panes = groups[0].session_ids
    assert [app.sessions()[sid].model for sid in panes] == ["lab/slow", "lab/gpt-4o-mini"]
    app.wait(lambda: all(app.user_messages(sid) == ["compare me"] for sid in panes), "both asked")
    app.wait(lambda: app.messages(panes[0])[-1][1].startswith("word"), "the slow pane streaming")

    # alt+down selects the next pane, f11 and alt+m maximise and restore it, alt+x stops every
    # pane, alt+e continues the selected pane in a tab of its own
    mark = app.mark
    app.write("alt+down")
    app.write("f11")
    app.write("alt+m")
    app.write("alt+x")
    app.wait(lambda: app.statuses(panes[0])[-1] == "aborted", "the slow pane stopped")
    app.write("alt+up", "alt+down", "alt+e")
    app.wait(lambda: panes[1] in app.open_tabs(), "pane 2 continued in a tab")
    app.wait(lambda: app.active_tab() == panes[1], "the continued pane's tab active")
    assert panes[0] not in app.open_tabs()
    assert mark < app.mark


def aborted(data_dir: Path, sid: str) -> bool:
    from copilot_tui.store import Store

    store = Store(data_dir)
    try:
        return store.get_messages(sid)[-1].status == "aborted"
    finally:
        store.close()
