"""The SQLite store on a real file: schema, persistence, FTS, recovery, bad files."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from copilot_tui.errors import SessionExists, StoreError
from copilot_tui.store import DB_NAME, SCHEMA_VERSION, Store, fts_query, move_aside
from copilot_tui.types import Message, ReplyStats


def msg(
    sid: str, role: str, content: str, status: str = "complete", mid: str | None = None
) -> Message:
    now = time.time()
    return Message(mid or os.urandom(6).hex(), sid, role, content, "lab/m", status, None, now, now)  # type: ignore[arg-type]


def test_schema_wal_and_version(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()
    # reopening an up-to-date file runs no migration and keeps data
    store = Store(tmp_path)
    store.create_session("a", "lab/m")
    store.close()
    assert [s.session_id for s in Store(tmp_path).list_sessions()] == ["a"]


def test_drafts_persist_per_session_and_go_with_their_session(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.create_session("a", "lab/m")
    store.create_session("b", "lab/m")
    store.set_draft("a", "half a \ud800thought")  # a lone surrogate must not fail the write
    store.set_draft("b", "other")
    store.set_draft("b", "")  # an empty draft is no draft
    store.set_draft("gone", "never stored")  # no such session: nothing to keep
    store.close()
    store = Store(tmp_path)
    assert store.list_drafts() == {"a": "half a \ufffdthought"}
    store.delete_session("a")
    assert store.list_drafts() == {}
    store.close()


def test_a_version_3_file_gains_the_drafts_table(tmp_path: Path) -> None:
    from copilot_tui.store import MIGRATIONS

    conn = sqlite3.connect(tmp_path / DB_NAME)  # a file as schema 3 left it
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.execute(
        "INSERT INTO sessions (id, model, created_at, updated_at) VALUES ('a', 'lab/m', 1.0, 1.0)"
    )
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    store = Store(tmp_path)
    store.set_draft("a", "kept")
    assert store.list_drafts() == {"a": "kept"}
    assert [s.session_id for s in store.list_sessions()] == ["a"]
    store.close()


def test_sessions_messages_and_order(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.create_session("s1", "lab/m", title="first")
    with pytest.raises(SessionExists):
        store.create_session("s1", "lab/m")
    store.add_message(msg("s1", "user", "hello"))
    reply = store.add_message(msg("s1", "assistant", "", "streaming"), owner=True)
    store.update_message(reply.id, content="partial")
    store.update_message(
        reply.id,
        content="partial and done",
        status="complete",
        stats=ReplyStats(ttft=0.1, duration=1.0, output_tokens=5),
    )
    got = store.get_messages("s1")
    assert [(m.role, m.content, m.status) for m in got] == [
        ("user", "hello", "complete"),
        ("assistant", "partial and done", "complete"),
    ]
    assert got[1].stats.output_tokens == 5 and got[1].stats.tokens_per_second == pytest.approx(
        5 / 0.9
    )
    info = store.get_session("s1")
    assert info and info.message_count == 2 and info.last_status == "complete"
    # newest N, and paging backwards
    for i in range(10):
        store.add_message(msg("s1", "user", f"m{i}"))
    last3 = store.get_messages("s1", limit=3)
    assert [m.content for m in last3] == ["m7", "m8", "m9"]
    older = store.get_messages("s1", limit=2, before_seq=last3[0].seq)
    assert [m.content for m in older] == ["m5", "m6"]
    assert store.delete_session("s1") is True
    assert store.get_messages("s1") == [] and store.delete_session("s1") is False


def test_full_text_search(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.create_session("go", "lab/m", title="Go modules")
    store.add_message(msg("go", "user", "How do I initialize a module?"))
    store.add_message(msg("go", "assistant", "Run go mod init example.com/hello"))
    store.create_session("py", "lab/m", title="venv")
    r = store.add_message(msg("py", "assistant", "", "streaming"))
    store.update_message(r.id, content="python -m venv creates an environment")
    hits = store.search("modul")
    assert {h.session_id for h in hits} == {"go"}
    assert store.search("venv")[0].message_id == r.id  # updated content is indexed
    assert store.search('"unbalanced AND (') == []  # user syntax never errors
    assert fts_query("") == ""


def test_interrupted_replies_are_marked_on_open(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.create_session("s", "lab/m")
    store.add_message(msg("s", "user", "q"))
    r = store.add_message(msg("s", "assistant", "half a rep", "streaming"), owner=True)
    # pretend the writer was another process that has died
    store.conn.execute("UPDATE messages SET owner_pid = 999999999 WHERE id = ?", (r.id,))
    store.close()
    again = Store(tmp_path)
    m = again.get_message(r.id)
    assert m and m.status == "interrupted" and m.content == "half a rep" and m.error


def test_live_writer_in_other_process_is_not_marked(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.create_session("s", "lab/m")
    r = store.add_message(msg("s", "assistant", "", "streaming"), owner=True)
    store.conn.execute("UPDATE messages SET owner_pid = ? WHERE id = ?", (os.getppid(), r.id))
    assert Store(tmp_path).get_message(r.id).status == "streaming"  # type: ignore[union-attr]


def test_corrupt_file_is_a_clear_error_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as info:
        Store(tmp_path)
    assert str(path) in str(info.value) and "corrupt" in str(info.value)
    assert path.read_bytes() == garbage  # never overwritten
    target = move_aside(path)
    assert target.read_bytes() == garbage and not path.exists()
    Store(tmp_path).create_session("fresh", "lab/m")


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/copilot-tui-test")  # not creatable even for root
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "sub"
    with pytest.raises(StoreError, match="Cannot create the data directory"):
        Store(target)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer copilot-tui"):
        Store(tmp_path)


def test_two_connections_share_the_file(tmp_path: Path) -> None:
    a, b = Store(tmp_path), Store(tmp_path)
    a.create_session("x", "lab/m")
    b.create_session("y", "lab/m")
    for i in range(50):
        (a if i % 2 else b).add_message(msg("x", "user", f"m{i}"))
    assert len(a.get_messages("x")) == 50 and {s.session_id for s in b.list_sessions()} == {
        "x",
        "y",
    }


def test_state_and_groups(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.set_state("tabs", ["a", "b"])
    assert store.get_state("tabs") == ["a", "b"] and store.get_state("nope", 1) == 1
    store.create_group("g1", "compare")
    store.create_session("p1", "lab/a", group_id="g1")
    store.create_session("p2", "lab/b", group_id="g1")
    [g] = store.list_groups()
    assert g.session_ids == ["p1", "p2"]


def test_a_first_version_database_is_upgraded_with_its_data(tmp_path: Path) -> None:
    """A file made by the first release (schema 1) opens in this one, sessions, messages and
    comparisons intact, and gains what later versions added (blind letters, tags, votes)."""
    from copilot_tui.store import MIGRATIONS

    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO groups (id, title, created_at) VALUES ('g1', 'old comparison', 1.0)")
    conn.execute(
        "INSERT INTO sessions (id, title, model, group_id, created_at, updated_at) "
        "VALUES ('s1', 'old', 'lab/m', 'g1', 1.0, 1.0)"
    )
    conn.execute(
        "INSERT INTO messages (id, session_id, role, content, created_at, updated_at) "
        "VALUES ('m1', 's1', 'user', 'hello from before', 1.0, 1.0)"
    )
    conn.execute(
        "INSERT INTO messages (id, session_id, role, content, created_at, updated_at) "
        "VALUES ('m2', 's1', 'assistant', 'an old reply', 1.0, 1.0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    store = Store(tmp_path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    [group] = store.list_groups()
    assert (group.group_id, group.title, group.session_ids) == ("g1", "old comparison", ["s1"])
    assert (group.letters, group.tags, group.voted_turns) == ("", [], [])
    assert [m.content for m in store.get_messages("s1")] == ["hello from before", "an old reply"]
    assert [h.session_id for h in store.search("before")] == ["s1"]
    # schema 5: the old messages became one branch, each the child of the one before it
    assert [m.parent_id for m in store.get_messages("s1")] == [None, "m1"]
    assert store.count_branches("s1") == 1
    from copilot_tui.types import Message

    again = Message("m3", "s1", "assistant", "a regenerated reply", parent_id="m1")
    store.add_message(again, branch=True)
    assert [m.content for m in store.get_messages("s1")] == [
        "hello from before",
        "a regenerated reply",
    ]
    assert (again.version, again.versions) == (2, 2) and store.count_branches("s1") == 2
    assert store.select_message("m2")
    # schema 6: a session's own parameters, none for an old one
    old = store.get_session("s1")
    assert old is not None and old.params.to_dict() == {}
    assert [m.id for m in store.get_messages("s1")] == ["m1", "m2"]
    from copilot_tui.types import Vote

    store.put_vote(Vote("g1", 1, "tie", [[0]], {"panes": []}, 2.0, 2.0))
    assert store.list_groups()[0].voted_turns == [1]
    store.close()
