"""The UI's workspace model, without an app: marks, tabs, drafts, the live text of replies."""

from __future__ import annotations

from typing import Any

from copilot_tui import events as ev
from copilot_tui.types import GroupInfo, SessionInfo
from copilot_tui.ui.workspace import (
    ActiveChanged,
    Change,
    DraftChanged,
    GroupTab,
    InfoChanged,
    MarkChanged,
    SessionTab,
    TabsChanged,
    Workspace,
    decode,
    encode,
)


def info(sid: str, group_id: str | None = None) -> SessionInfo:
    return SessionInfo(
        sid, title=f"title {sid}", model="lab/m", created_at=0.0, updated_at=0.0, group_id=group_id
    )


def event(kind: str, sid: str, **data: Any) -> ev.SessionEvent:
    return ev.SessionEvent.make(kind, sid, **data)


def workspace_of(*sessions: SessionInfo, groups: list[GroupInfo] | None = None) -> Workspace:
    workspace = Workspace()
    workspace.set_sessions(sessions, groups or [])
    return workspace


def run_turn(workspace: Workspace, sid: str, text: str, status: str = "complete") -> str:
    message_id = f"r-{sid}-{len(text)}"
    workspace.live.start(sid, message_id)
    workspace.apply(event(ev.TURN_START, sid, message_id=message_id))
    workspace.live.append(sid, message_id, text)
    workspace.apply(event(ev.SESSION_IDLE, sid, message_id=message_id, status=status))
    return message_id


def test_a_reply_that_ends_unseen_is_unread_until_its_tab_is_shown() -> None:
    workspace = workspace_of(info("a"), info("b"))
    changes: list[Change] = []
    workspace.subscribe(changes.append)
    workspace.open(SessionTab("a"))
    workspace.open(SessionTab("b"))
    workspace.activate(SessionTab("a"))

    workspace.apply(event(ev.TURN_START, "b", message_id="r1"))
    assert workspace.mark("b") == "streaming"
    workspace.apply(event(ev.SESSION_IDLE, "b", message_id="r1", status="complete"))
    assert workspace.mark("b") == "unread"
    assert MarkChanged("b") in changes

    run_turn(workspace, "a", "seen")
    assert workspace.mark("a") is None  # shown while it ended

    workspace.activate(SessionTab("b"))
    assert workspace.mark("b") is None
    assert ActiveChanged(SessionTab("b")) in changes


def test_waiting_then_an_error_leaves_the_error_mark_and_gives_the_prompt_back() -> None:
    workspace = workspace_of(info("a"))
    workspace.apply(event(ev.TURN_START, "a", message_id="r1"))
    workspace.apply(event(ev.SESSION_STATUS, "a", state="waiting", status="retrying in 2 s"))
    assert workspace.mark("a") == "waiting"
    assert workspace.note("a") == "retrying in 2 s"
    workspace.apply(event(ev.SESSION_ERROR, "a", message="boom", had_text=False, prompt="hi?"))
    workspace.apply(event(ev.SESSION_IDLE, "a", message_id="r1", status="error"))
    assert workspace.mark("a") == "error"
    assert workspace.note("a") == ""
    assert workspace.draft("a") == "hi?"

    workspace.set_draft("a", "something new")
    workspace.apply(event(ev.TURN_START, "a", message_id="r2"))
    assert workspace.mark("a") == "streaming"  # a new turn clears the error
    workspace.apply(event(ev.SESSION_ERROR, "a", message="again", had_text=False, prompt="hi?"))
    assert workspace.draft("a") == "something new"  # what was typed since is kept


def test_an_error_after_some_text_keeps_the_prompt_sent() -> None:
    workspace = workspace_of(info("a"))
    workspace.apply(event(ev.SESSION_ERROR, "a", message="cut", had_text=True, prompt="hi?"))
    assert workspace.draft("a") == ""


def test_a_comparison_marks_from_its_panes_and_shows_their_sessions() -> None:
    group = GroupInfo("g1", "pasta", 0.0, ["p1", "p2"])
    workspace = workspace_of(info("p1", "g1"), info("p2", "g1"), info("solo"), groups=[group])
    workspace.open(GroupTab("g1"))
    workspace.open(SessionTab("p1"))
    assert workspace.tabs_showing("p1") == [SessionTab("p1"), GroupTab("g1")]
    assert workspace.tabs_showing("p2") == [GroupTab("g1")]
    assert workspace.tabs_showing("solo") == []

    workspace.apply(event(ev.SESSION_STATUS, "p2", state="waiting"))
    assert workspace.group_mark("g1") == "waiting"
    workspace.apply(event(ev.TURN_START, "p1", message_id="r"))
    assert workspace.group_mark("g1", live_only=True) == "streaming"
    workspace.apply(event(ev.SESSION_IDLE, "p1", message_id="r", status="complete"))
    workspace.apply(event(ev.SESSION_ERROR, "p2", message="no"))
    workspace.apply(event(ev.SESSION_IDLE, "p2", message_id="r2", status="error"))
    assert workspace.group_mark("g1") == "error"
    assert workspace.group_mark("g1", live_only=True) is None

    workspace.activate(GroupTab("g1"))
    assert workspace.shown_sessions() == {"p1", "p2"}
    assert workspace.mark("p1") is None  # its unread reply is on screen now


def test_a_pane_is_known_as_one_from_its_creation_before_the_list_is_read() -> None:
    workspace = Workspace()
    workspace.apply(event(ev.SESSION_CREATED, "p9", model="lab/m", group_id="g9"))
    assert workspace.group_of("p9") == "g9"
    workspace.apply(event(ev.SESSION_CREATED, "solo", model="lab/m", group_id=None))
    assert workspace.group_of("solo") is None


def test_tabs_open_close_and_a_deleted_session_takes_its_tab_marks_and_draft() -> None:
    workspace = workspace_of(info("a"), info("b"))
    changes: list[Change] = []
    workspace.subscribe(changes.append)
    assert workspace.open(SessionTab("a")) and not workspace.open(SessionTab("a"))
    workspace.open(SessionTab("b"))
    workspace.activate(SessionTab("b"))
    workspace.set_draft("b", "half a thought")
    workspace.apply(event(ev.TURN_START, "b", message_id="r"))
    workspace.apply(event(ev.SESSION_DELETED, "b"))
    assert workspace.tabs == (SessionTab("a"),)
    assert workspace.active is None
    assert workspace.mark("b") is None and workspace.draft("b") == ""
    assert "b" not in workspace.sessions
    assert TabsChanged() in changes

    workspace.apply(event(ev.TITLE_CHANGED, "a", title="renamed"))
    assert workspace.title("a") == "renamed" and InfoChanged("a") in changes


def test_drafts_notify_only_on_news_and_loading_keeps_what_was_typed() -> None:
    workspace = workspace_of(info("a"), info("b"))
    changes: list[Change] = []
    unsubscribe = workspace.subscribe(changes.append)
    assert workspace.set_draft("a", "typed now")
    assert not workspace.set_draft("a", "typed now")
    workspace.load_drafts({"a": "from last run", "b": "kept"})
    assert workspace.drafts == {"a": "typed now", "b": "kept"}
    assert changes == [DraftChanged("a", "typed now"), DraftChanged("b", "kept")]
    unsubscribe()
    workspace.set_draft("a", "")
    assert workspace.draft("a") == "" and len(changes) == 2


def test_a_reply_s_text_stays_until_the_next_turn_of_its_session() -> None:
    workspace = workspace_of(info("a"))
    live = workspace.live
    first = run_turn(workspace, "a", "the whole reply")
    assert live.current("a") is None
    assert live.text(first) == "the whole reply"  # a view taking the end late still reads it
    live.start("a", "r-next")
    assert live.text(first) == ""
    assert live.current("a") == "r-next"
    workspace.apply(event(ev.SESSION_DELETED, "a"))
    assert live.current("a") is None


def test_saved_tabs_round_trip_and_the_old_format_still_reads() -> None:
    for tab in (SessionTab("abc"), GroupTab("g1")):
        assert decode(encode(tab)) == tab
    assert decode("group:g1") == GroupTab("g1")
    assert decode("abc") == SessionTab("abc")
    for junk in (None, 3, "", "group:", {"x": 1}, {"group": 4}, []):
        assert decode(junk) is None


def test_the_latest_turn_is_followed_for_views_made_after_it_began() -> None:
    workspace = workspace_of(info("a"))
    assert workspace.turn_messages("a") == []
    workspace.apply(event(ev.USER_MESSAGE, "a", message_id="u1", content="why?"))
    (pending,) = workspace.turn_messages("a")
    assert (pending.id, pending.role, pending.content) == ("u1", "user", "why?")

    workspace.apply(event(ev.TURN_START, "a", message_id="r1", model="lab/m"))
    prompt, reply = workspace.turn_messages("a")
    assert (prompt.id, prompt.content) == ("u1", "why?")
    assert (reply.id, reply.role, reply.status, reply.model) == (
        "r1",
        "assistant",
        "streaming",
        "lab/m",
    )
    turn = workspace.turn("a")
    assert turn is not None and turn.status is None and turn.stats is None

    workspace.apply(event(ev.USAGE, "a", message_id="r1", output_tokens=7, ttft=0.2))
    workspace.apply(event(ev.SESSION_ERROR, "a", message_id="other", message="not this turn's"))
    workspace.apply(event(ev.SESSION_IDLE, "a", message_id="r1", status="complete"))
    assert turn.status == "complete" and turn.error is None
    assert turn.stats is not None and turn.stats.output_tokens == 7 and turn.stats.ttft == 0.2

    workspace.apply(event(ev.TURN_START, "a", message_id="r2"))
    workspace.apply(event(ev.SESSION_ERROR, "a", message_id="r2", message="no"))
    workspace.apply(event(ev.SESSION_IDLE, "a", message_id="r2", aborted=True))
    second = workspace.turn("a")
    assert second is not None and second.prompt is None  # no prompt was seen for it
    assert (second.status, second.error) == ("aborted", "no")
