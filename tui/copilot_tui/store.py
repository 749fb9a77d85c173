"""SQLite persistence for sessions, messages, comparisons and small UI state.

One file in the data dir, WAL mode so readers never block the writer and a killed process loses
nothing committed. Safe for several processes on the same file (``busy_timeout``). Schema
versions live in ``PRAGMA user_version``; ``MIGRATIONS[n]`` upgrades version ``n`` to ``n+1``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import SessionExists, StoreError
from .files import NotRegularFile, check_regular
from .text import clean_text
from .types import (
    Attachment,
    GroupInfo,
    Message,
    ReplyStats,
    Sampling,
    SessionInfo,
    SessionMode,
    Vote,
)

DB_NAME = "copilot-tui.sqlite3"
T = TypeVar("T")

MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL,
        system_message TEXT,
        group_id TEXT REFERENCES groups(id) ON DELETE SET NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX sessions_updated ON sessions(updated_at DESC);
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        model TEXT,
        status TEXT NOT NULL DEFAULT 'complete',
        error TEXT,
        stats TEXT,
        owner_pid INTEGER,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX messages_session ON messages(session_id, seq);
    CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='seq');
    CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
    END;
    CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    END;
    CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
    END;
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 1 -> 2: blind comparisons, tags, and votes (one per comparison and prompt)
    """
    ALTER TABLE groups ADD COLUMN letters TEXT NOT NULL DEFAULT '';
    ALTER TABLE groups ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE votes (
        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        turn INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        ranking TEXT NOT NULL,
        record TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (group_id, turn)
    );
    """,
    # 2 -> 3: a session is a chat or an agent in a working directory
    """
    ALTER TABLE sessions ADD COLUMN mode TEXT NOT NULL DEFAULT 'chat';
    ALTER TABLE sessions ADD COLUMN cwd TEXT;
    """,
    # 3 -> 4: the unsent text of each session's prompt
    """
    CREATE TABLE drafts (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 4 -> 5: branches. Each message has a parent (the one before it); a regenerated reply or
    # an edited prompt is a sibling of what it replaces. ``chosen``: the child a branch point
    # continues with; ``active``: on the branch shown and sent (derived from ``chosen``).
    """
    ALTER TABLE messages ADD COLUMN parent_id TEXT;
    ALTER TABLE messages ADD COLUMN chosen INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE messages ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
    UPDATE messages SET parent_id = (SELECT p.id FROM messages p WHERE p.session_id = messages.session_id AND p.seq < messages.seq ORDER BY p.seq DESC LIMIT 1);
    CREATE INDEX messages_parent ON messages(session_id, parent_id);
    CREATE INDEX messages_branch ON messages(session_id, active, seq);
    """,
    # 5 -> 6: a session's own generation parameters (temperature, top_p, ...), as JSON
    """
    ALTER TABLE sessions ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    """,
    # 6 -> 7: files sent with a prompt, each stored once by its content
    """
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE TABLE attachments (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        PRIMARY KEY (message_id, position)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(slots=True, frozen=True)
class SearchHit:
    session_id: str
    message_id: str
    seq: int
    role: str
    snippet: str
    title: str


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word a quoted phrase, the last one a prefix."""
    words = [w for w in text.split() if w.strip('"')]
    if not words:
        return ""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _tags(raw: str) -> list[str]:
    try:
        tags = json.loads(raw)
    except ValueError:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _text(value: Any) -> Any:
    """Text as SQLite can store it: a lone surrogate (from a server, or from a command line in
    an unknown encoding) would make the whole write fail, so it becomes U+FFFD."""
    return clean_text(value) if isinstance(value, str) else value


class Store:
    """Synchronous access; the service calls it through :class:`AsyncStore` off the event loop."""

    def __init__(self, data_dir: Path | str, *, busy_timeout: float = 10.0) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self._busy_timeout = busy_timeout
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the data directory {self.data_dir}: {exc.strerror or exc}."
            ) from None
        for path in (
            self.path,
            self.path.with_name(DB_NAME + "-wal"),
            self.path.with_name(DB_NAME + "-journal"),
        ):
            try:  # SQLite would block reading a FIFO, and must never write into a device
                check_regular(path)
            except NotRegularFile as exc:
                raise StoreError(
                    f"The database {path} is {exc.kind}, not a regular file."
                ) from None
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(self._explain(exc)) from None
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(self._explain(exc)) from None

    def _explain(self, exc: sqlite3.Error) -> str:
        text = str(exc)
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return (
                f"The session database {self.path} is corrupt ({text}). It was left untouched; "
                f"to start with an empty one, move it aside: copilot-tui --data-dir {self.data_dir} db move-aside"
            )
        if "locked" in text or "busy" in text:
            return f"The session database {self.path} is locked by another process; try again in a moment."
        if "readonly" in text or "read-only" in text:
            return f"The session database {self.path} is read-only; check the permissions of {self.data_dir}."
        if "disk is full" in text or "full" in text:
            return f"Cannot write the session database {self.path}: the disk is full."
        if "unable to open" in text:
            return f"Cannot open the session database {self.path}; check that {self.data_dir} is writable."
        return f"Session database {self.path}: {text}."

    def _wal(self) -> str:
        """Switch to WAL, the journal mode several processes can share. The switch needs the
        database to itself and SQLite answers "locked" at once, without waiting the busy
        timeout, while another process opens it at the same moment; so wait here instead."""
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return str(self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _setup(self) -> None:
        c = self.conn
        c.execute("PRAGMA foreign_keys = ON")
        mode = self._wal()
        if mode.lower() != "wal":
            c.execute("PRAGMA journal_mode = DELETE")
        c.execute("PRAGMA synchronous = NORMAL")
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The session database {self.path} was written by a newer copilot-tui (schema {version}); upgrade copilot-tui."
            )
        while version < SCHEMA_VERSION:
            with self._tx(immediate=True):
                # re-read inside the lock: another process may have migrated meanwhile
                version = c.execute("PRAGMA user_version").fetchone()[0]
                if version >= SCHEMA_VERSION:
                    break
                for statement in _split_sql(MIGRATIONS[version]):
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {version + 1}")
            version += 1
        self.recover_interrupted()

    # -- plumbing -------------------------------------------------------------------------

    class _Tx:
        def __init__(self, store: Store, immediate: bool) -> None:
            self.store, self.immediate = store, immediate

        def __enter__(self) -> sqlite3.Connection:
            self.store.conn.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
            return self.store.conn

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            if exc_type is None:
                self.store.conn.execute("COMMIT")
            else:
                try:
                    self.store.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def _tx(self, immediate: bool = True) -> Store._Tx:
        return Store._Tx(self, immediate)

    def _run(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (SessionExists, StoreError):
            raise
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise StoreError(self._explain(exc)) from None

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass

    # -- sessions ------------------------------------------------------------------------

    def create_session(
        self,
        session_id: str,
        model: str,
        *,
        title: str = "",
        system_message: str | None = None,
        group_id: str | None = None,
        now: float | None = None,
        mode: SessionMode = "chat",
        cwd: str | None = None,
        params: Sampling | None = None,
    ) -> SessionInfo:
        now = now or time.time()
        params = params or Sampling()

        def go() -> None:
            try:
                with self._tx():
                    self.conn.execute(
                        "INSERT INTO sessions (id, title, model, system_message, group_id, created_at, updated_at, mode, cwd, params) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (
                            session_id,
                            _text(title),
                            model,
                            _text(system_message),
                            group_id,
                            now,
                            now,
                            mode,
                            _text(cwd),
                            json.dumps(params.to_dict()),
                        ),
                    )
            except sqlite3.IntegrityError:
                raise SessionExists(f"A session with id {session_id!r} already exists.") from None

        self._run(go)
        return SessionInfo(
            session_id,
            title,
            model,
            now,
            now,
            0,
            system_message,
            group_id,
            None,
            mode,
            cwd,
            params,
        )

    _SESSION_SELECT = """
        SELECT s.id, s.title, s.model, s.created_at, s.updated_at,
               (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.active = 1),
               s.system_message, s.group_id,
               (SELECT status FROM messages m WHERE m.session_id = s.id AND m.role = 'assistant' AND m.active = 1 ORDER BY seq DESC LIMIT 1),
               s.mode, s.cwd, s.params
        FROM sessions s
    """

    @staticmethod
    def _info(row: tuple) -> SessionInfo:
        try:
            params = Sampling.parse(json.loads(row[-1]))
        except (ValueError, TypeError):
            params = Sampling()
        info = SessionInfo(*row[:-1])
        info.params = params
        return info

    def get_session(self, session_id: str) -> SessionInfo | None:
        row = self._run(
            lambda: self.conn.execute(
                self._SESSION_SELECT + " WHERE s.id = ?", (session_id,)
            ).fetchone()
        )
        return self._info(row) if row else None

    def list_sessions(self) -> list[SessionInfo]:
        rows = self._run(
            lambda: self.conn.execute(
                self._SESSION_SELECT + " ORDER BY s.updated_at DESC, s.id"
            ).fetchall()
        )
        return [self._info(r) for r in rows]

    def update_session(self, session_id: str, **fields: Any) -> None:
        allowed = {"title", "model", "system_message", "group_id", "updated_at", "params"}
        cols = [k for k in fields if k in allowed]
        if not cols:
            return
        if isinstance(fields.get("params"), Sampling):
            fields["params"] = json.dumps(fields["params"].to_dict())
        sql = f"UPDATE sessions SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?"

        def go() -> None:
            with self._tx():
                self.conn.execute(sql, [_text(fields[c]) for c in cols] + [session_id])

        self._run(go)

    def delete_session(self, session_id: str) -> bool:
        def go() -> bool:
            with self._tx():
                cur = self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                return cur.rowcount > 0

        return self._run(go)

    # -- messages ------------------------------------------------------------------------

    def add_message(self, msg: Message, *, owner: bool = False, branch: bool = False) -> Message:
        """Append a message to the session's active branch; with ``branch``, under
        ``msg.parent_id`` instead (None: a new first message), as the chosen version there."""

        def go() -> int:
            with self._tx():
                c = self.conn
                if branch:
                    parent = msg.parent_id
                else:
                    row = c.execute(
                        "SELECT id FROM messages WHERE session_id = ? AND active = 1 ORDER BY seq DESC LIMIT 1",
                        (msg.session_id,),
                    ).fetchone()
                    parent = row[0] if row else None
                self._leave_below(msg.session_id, parent)
                c.execute(
                    "UPDATE messages SET chosen = 0 WHERE session_id = ? AND parent_id IS ?",
                    (msg.session_id, parent),
                )
                cur = c.execute(
                    "INSERT INTO messages (id, session_id, role, content, model, status, error, stats, owner_pid, created_at, updated_at, parent_id, chosen, active)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1,1)",
                    (
                        msg.id,
                        msg.session_id,
                        msg.role,
                        _text(msg.content),
                        msg.model,
                        msg.status,
                        _text(msg.error),
                        json.dumps(msg.stats.to_dict()),
                        os.getpid() if owner else None,
                        msg.created_at,
                        msg.updated_at,
                        parent,
                    ),
                )
                c.execute(
                    "UPDATE sessions SET updated_at = ? WHERE id = ?",
                    (msg.updated_at, msg.session_id),
                )
                self._attach(msg)
                msg.parent_id = parent
                msg.versions, msg.version = self._version_of(msg.session_id, parent, msg.id)
                return int(cur.lastrowid or 0)

        msg.seq = self._run(go)
        return msg

    def _attach(self, msg: Message) -> None:
        """Link the message's files, each file's bytes stored once (inside a transaction)."""
        for position, a in enumerate(msg.attachments):
            if a.data is not None:
                self.conn.execute(
                    "INSERT OR IGNORE INTO blobs (sha256, mime, size, data) VALUES (?,?,?,?)",
                    (a.sha256, a.mime, a.size, a.data),
                )
            self.conn.execute(
                "INSERT INTO attachments (message_id, position, name, kind, sha256) VALUES (?,?,?,?,?)",
                (msg.id, position, _text(a.name), a.kind, a.sha256),
            )

    def _with_attachments(self, messages: list[Message]) -> list[Message]:
        """Fill in each message's files (names and sizes, not their bytes)."""
        by_id = {m.id: m for m in messages if m.role == "user"}
        if not by_id:
            return messages
        marks = ",".join("?" * len(by_id))
        rows = self.conn.execute(
            "SELECT a.message_id, a.name, a.kind, b.mime, b.size, a.sha256 FROM attachments a "
            f"JOIN blobs b ON b.sha256 = a.sha256 WHERE a.message_id IN ({marks}) "
            "ORDER BY a.message_id, a.position",
            list(by_id),
        ).fetchall()
        for mid, name, kind, mime, size, sha in rows:
            by_id[mid].attachments.append(Attachment(name, kind, mime, size, sha))
        return messages

    def get_blobs(self, hashes: list[str]) -> dict[str, bytes]:
        """The bytes of stored files, by their sha256."""
        if not hashes:
            return {}
        marks = ",".join("?" * len(hashes))
        rows = self._run(
            lambda: self.conn.execute(
                f"SELECT sha256, data FROM blobs WHERE sha256 IN ({marks})", hashes
            ).fetchall()
        )
        return {sha: bytes(data) for sha, data in rows}

    def _leave_below(self, session_id: str, parent: str | None) -> None:
        """Take what follows ``parent`` on the active branch off it (inside a transaction): the
        branch is a chain, so that is every active message written after the parent."""
        if parent is None:
            self.conn.execute("UPDATE messages SET active = 0 WHERE session_id = ?", (session_id,))
        else:
            self.conn.execute(
                "UPDATE messages SET active = 0 WHERE session_id = ? AND active = 1 "
                "AND seq > (SELECT seq FROM messages WHERE id = ?)",
                (session_id, parent),
            )

    def _version_of(self, session_id: str, parent: str | None, message_id: str) -> tuple[int, int]:
        ids = [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM messages WHERE session_id = ? AND parent_id IS ? ORDER BY seq",
                (session_id, parent),
            )
        ]
        return len(ids), ids.index(message_id) + 1 if message_id in ids else len(ids)

    def select_message(self, message_id: str) -> bool:
        """Make the branch through this message the active one: it becomes the chosen version
        at its branch point (and so do its ancestors at theirs); below it the branch follows
        the versions chosen there before. False when there is no such message."""

        def go() -> bool:
            with self._tx():
                c = self.conn
                row = c.execute(
                    "SELECT session_id FROM messages WHERE id = ?", (message_id,)
                ).fetchone()
                if row is None:
                    return False
                sid = row[0]
                chain = c.execute(
                    "WITH RECURSIVE up(id, parent_id) AS ("
                    " SELECT id, parent_id FROM messages WHERE id = ?"
                    " UNION ALL SELECT m.id, m.parent_id FROM messages m JOIN up ON m.id = up.parent_id)"
                    " SELECT id, parent_id FROM up",
                    (message_id,),
                ).fetchall()
                for mid, parent in chain:
                    c.execute(
                        "UPDATE messages SET chosen = (id = ?) WHERE session_id = ? AND parent_id IS ?",
                        (mid, sid, parent),
                    )
                c.execute("UPDATE messages SET active = 0 WHERE session_id = ?", (sid,))
                c.execute(
                    "WITH RECURSIVE path(id) AS ("
                    " SELECT id FROM messages WHERE session_id = ? AND parent_id IS NULL AND chosen = 1"
                    " UNION ALL SELECT m.id FROM messages m JOIN path ON m.parent_id = path.id"
                    " WHERE m.chosen = 1)"
                    " UPDATE messages SET active = 1 WHERE id IN path",
                    (sid,),
                )
                return True

        return self._run(go)

    def get_versions(self, message_id: str) -> list[Message]:
        """The message and its siblings (the versions at its branch point), oldest first."""
        rows = self._run(
            lambda: self.conn.execute(
                f"SELECT {self._MSG_COLS} FROM messages WHERE (session_id, parent_id) IS "
                "(SELECT session_id, parent_id FROM messages WHERE id = ?) ORDER BY seq",
                (message_id,),
            ).fetchall()
        )
        return [self._msg(r) for r in rows]

    def count_branches(self, session_id: str) -> int:
        """How many branches the conversation has: one per message nothing follows."""
        row = self._run(
            lambda: self.conn.execute(
                "SELECT COUNT(*) FROM messages m WHERE m.session_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM messages c WHERE c.session_id = m.session_id AND c.parent_id = m.id)",
                (session_id,),
            ).fetchone()
        )
        return int(row[0]) if row else 0

    def get_tree(self, session_id: str) -> list[tuple[Message, bool]]:
        """Every message of every branch in the order written, each with whether it is on the
        active branch."""
        rows = self._run(
            lambda: self.conn.execute(
                f"SELECT {self._MSG_COLS}, active FROM messages WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
        )
        return [(self._msg(r[:-1]), bool(r[-1])) for r in rows]

    def fork_session(
        self,
        source_id: str,
        session_id: str,
        model: str,
        *,
        keep: int | None = None,
        title: str = "",
        now: float | None = None,
    ) -> SessionInfo:
        """A new session holding the first ``keep`` messages (default all) of the source's
        active branch, copied with new ids; same system message, mode and folder."""
        now = now or time.time()

        def go() -> None:
            c = self.conn
            with self._tx():
                src = c.execute(
                    "SELECT system_message, mode, cwd, params FROM sessions WHERE id = ?",
                    (source_id,),
                ).fetchone()
                if src is None:
                    raise StoreError(f"No session with id {source_id!r}.")
                try:
                    c.execute(
                        "INSERT INTO sessions (id, title, model, system_message, group_id, created_at, updated_at, mode, cwd, params) VALUES (?,?,?,?,NULL,?,?,?,?,?)",
                        (session_id, _text(title), model, src[0], now, now, src[1], src[2], src[3]),
                    )
                except sqlite3.IntegrityError:
                    raise SessionExists(
                        f"A session with id {session_id!r} already exists."
                    ) from None
                rows = c.execute(
                    "SELECT id, role, content, model, status, error, stats, created_at, updated_at "
                    "FROM messages WHERE session_id = ? AND active = 1 ORDER BY seq",
                    (source_id,),
                ).fetchall()
                parent: str | None = None
                for old, role, content, mmodel, status, error, stats, created, updated in rows[
                    : len(rows) if keep is None else keep
                ]:
                    mid = uuid.uuid4().hex
                    c.execute(
                        "INSERT INTO messages (id, session_id, role, content, model, status, error, stats, created_at, updated_at, parent_id)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            mid,
                            session_id,
                            role,
                            content,
                            mmodel,
                            "interrupted" if status == "streaming" else status,
                            error,
                            stats,
                            created,
                            updated,
                            parent,
                        ),
                    )
                    c.execute(
                        "INSERT INTO attachments (message_id, position, name, kind, sha256) "
                        "SELECT ?, position, name, kind, sha256 FROM attachments WHERE message_id = ?",
                        (mid, old),
                    )
                    parent = mid

        self._run(go)
        info = self.get_session(session_id)
        assert info is not None
        return info

    def update_message(
        self,
        message_id: str,
        *,
        content: str | None = None,
        status: str | None = None,
        error: str | None = None,
        stats: ReplyStats | None = None,
        now: float | None = None,
    ) -> None:
        now = now or time.time()
        sets, args = ["updated_at = ?"], list[object]([now])
        if content is not None:
            sets.append("content = ?")
            args.append(_text(content))
        if status is not None:
            sets.append("status = ?")
            args.append(status)
            if status != "streaming":
                sets.append("owner_pid = NULL")
        if error is not None:
            sets.append("error = ?")
            args.append(_text(error))
        if stats is not None:
            sets.append("stats = ?")
            args.append(json.dumps(stats.to_dict()))

        def go() -> None:
            with self._tx():
                self.conn.execute(
                    f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", [*args, message_id]
                )
                if status is not None and status != "streaming":
                    self.conn.execute(
                        "UPDATE sessions SET updated_at = ? WHERE id = (SELECT session_id FROM messages WHERE id = ?)",
                        (now, message_id),
                    )

        self._run(go)

    _MSG_COLS = (
        "id, session_id, role, content, model, status, error, created_at, updated_at, stats, seq,"
        " parent_id,"
        " (SELECT COUNT(*) FROM messages v WHERE v.session_id = messages.session_id"
        " AND v.parent_id IS messages.parent_id),"
        " (SELECT COUNT(*) FROM messages v WHERE v.session_id = messages.session_id"
        " AND v.parent_id IS messages.parent_id AND v.seq <= messages.seq)"
    )

    @staticmethod
    def _msg(row: tuple) -> Message:
        (mid, sid, role, content, model, status, error, created, updated, stats, seq) = row[:11]
        parent, versions, version = row[11:14]
        try:
            parsed = ReplyStats.from_dict(json.loads(stats)) if stats else ReplyStats()
        except (ValueError, TypeError):
            parsed = ReplyStats()
        return Message(
            mid,
            sid,
            role,
            content,
            model,
            status,
            error,
            created,
            updated,
            parsed,
            seq,
            parent,
            versions,
            version,
        )

    def get_messages(
        self, session_id: str, *, limit: int | None = None, before_seq: int | None = None
    ) -> list[Message]:
        """The active branch in order; with ``limit``, its newest ``limit`` (before
        ``before_seq``)."""
        where, args = "session_id = ? AND active = 1", list[object]([session_id])
        if before_seq is not None:
            where += " AND seq < ?"
            args.append(before_seq)
        if limit is None:
            sql = f"SELECT {self._MSG_COLS} FROM messages WHERE {where} ORDER BY seq"
        else:
            sql = f"SELECT * FROM (SELECT {self._MSG_COLS} FROM messages WHERE {where} ORDER BY seq DESC LIMIT ?) ORDER BY seq"
            args.append(limit)
        return self._run(
            lambda: self._with_attachments(
                [self._msg(r) for r in self.conn.execute(sql, args).fetchall()]
            )
        )

    def message_outline(self, session_id: str) -> list[tuple[int, str, str, int]]:
        """``(seq, id, role, length of its text)`` of every user and assistant message of the
        active branch, in order:
        what a long conversation needs to lay itself out without reading every message."""
        sql = (
            "SELECT seq, id, role, length(content) FROM messages"
            " WHERE session_id = ? AND active = 1 AND role IN ('user', 'assistant') ORDER BY seq"
        )
        rows = self._run(lambda: self.conn.execute(sql, (session_id,)).fetchall())
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3] or 0)) for r in rows]

    def get_messages_between(self, session_id: str, first_seq: int, last_seq: int) -> list[Message]:
        """The active branch's messages with ``first_seq <= seq <= last_seq``, in order."""
        sql = (
            f"SELECT {self._MSG_COLS} FROM messages"
            " WHERE session_id = ? AND active = 1 AND seq BETWEEN ? AND ? ORDER BY seq"
        )
        rows = self._run(
            lambda: self.conn.execute(sql, (session_id, first_seq, last_seq)).fetchall()
        )
        return [self._msg(r) for r in rows]

    def get_message(self, message_id: str) -> Message | None:
        row = self._run(
            lambda: self.conn.execute(
                f"SELECT {self._MSG_COLS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        )
        return self._msg(row) if row else None

    def recover_interrupted(self) -> int:
        """Mark replies left 'streaming' by a process that no longer runs as 'interrupted'."""

        def go() -> int:
            rows = self.conn.execute(
                "SELECT DISTINCT owner_pid FROM messages WHERE status = 'streaming'"
            ).fetchall()
            dead = [
                pid for (pid,) in rows if pid is None or pid == os.getpid() or not _pid_alive(pid)
            ]
            if not dead:
                return 0
            count = 0
            with self._tx():
                for pid in dead:
                    cond = "owner_pid IS NULL" if pid is None else "owner_pid = ?"
                    args = () if pid is None else (pid,)
                    cur = self.conn.execute(
                        f"UPDATE messages SET status = 'interrupted', owner_pid = NULL, "
                        f"error = COALESCE(error, 'The app stopped while this reply was streaming.') "
                        f"WHERE status = 'streaming' AND {cond}",
                        args,
                    )
                    count += cur.rowcount
            return count

        return self._run(go)

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        query = fts_query(text)
        if not query:
            return []
        sql = (
            "SELECT m.session_id, m.id, m.seq, m.role, snippet(messages_fts, 0, '\u2039', '\u203a', '\u2026', 12), s.title "
            "FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid JOIN sessions s ON s.id = m.session_id "
            "WHERE messages_fts MATCH ? AND m.active = 1 ORDER BY rank LIMIT ?"
        )
        try:
            rows = self.conn.execute(sql, (query, limit)).fetchall()
        except sqlite3.OperationalError:
            return []
        except sqlite3.Error as exc:
            raise StoreError(self._explain(exc)) from None
        return [SearchHit(*r) for r in rows]

    # -- comparisons ---------------------------------------------------------------------

    def create_group(
        self,
        group_id: str,
        title: str,
        now: float | None = None,
        *,
        letters: str = "",
        tags: list[str] | None = None,
    ) -> None:
        def go() -> None:
            with self._tx():
                self.conn.execute(
                    "INSERT INTO groups (id, title, created_at, letters, tags) VALUES (?,?,?,?,?)",
                    (group_id, title, now or time.time(), letters, json.dumps(tags or [])),
                )

        self._run(go)

    def list_groups(self) -> list[GroupInfo]:
        def go() -> list[GroupInfo]:
            groups = {
                gid: GroupInfo(gid, title, created, letters=letters, tags=_tags(tags))
                for gid, title, created, letters, tags in self.conn.execute(
                    "SELECT id, title, created_at, letters, tags FROM groups ORDER BY created_at DESC"
                )
            }
            for sid, gid in self.conn.execute(
                "SELECT id, group_id FROM sessions WHERE group_id IS NOT NULL ORDER BY created_at, rowid"
            ):
                if gid in groups:
                    groups[gid].session_ids.append(sid)
            for gid, turn in self.conn.execute("SELECT group_id, turn FROM votes"):
                if gid in groups:
                    groups[gid].voted_turns.append(turn)
            return list(groups.values())

        return self._run(go)

    def set_group_tags(self, group_id: str, tags: list[str]) -> bool:
        def go() -> bool:
            with self._tx():
                cur = self.conn.execute(
                    "UPDATE groups SET tags = ? WHERE id = ?", (json.dumps(tags), group_id)
                )
                return cur.rowcount > 0

        return self._run(go)

    def delete_group(self, group_id: str) -> None:
        def go() -> None:
            with self._tx():
                self.conn.execute("DELETE FROM votes WHERE group_id = ?", (group_id,))
                self.conn.execute("DELETE FROM groups WHERE id = ?", (group_id,))

        self._run(go)

    # -- votes -----------------------------------------------------------------------------

    def put_vote(self, vote: Vote) -> None:
        """Record a verdict, or change the one already given for that comparison and prompt."""

        def go() -> None:
            with self._tx():
                self.conn.execute(
                    "INSERT INTO votes (group_id, turn, verdict, ranking, record, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT(group_id, turn) DO UPDATE SET "
                    "verdict = excluded.verdict, ranking = excluded.ranking, "
                    "record = excluded.record, updated_at = excluded.updated_at",
                    (
                        vote.group_id,
                        vote.turn,
                        vote.verdict,
                        json.dumps(vote.ranking),
                        _text(json.dumps(vote.record)),
                        vote.created_at,
                        vote.updated_at,
                    ),
                )

        self._run(go)

    def list_votes(self, group_id: str | None = None) -> list[Vote]:
        def go() -> list[Vote]:
            sql = (
                "SELECT group_id, turn, verdict, ranking, record, created_at, updated_at FROM votes"
            )
            args: tuple[str, ...] = ()
            if group_id is not None:
                sql += " WHERE group_id = ?"
                args = (group_id,)
            rows = self.conn.execute(sql + " ORDER BY created_at, group_id, turn", args)
            return [
                Vote(gid, turn, verdict, json.loads(ranking), json.loads(record), created, updated)
                for gid, turn, verdict, ranking, record, created, updated in rows
            ]

        return self._run(go)

    # -- small key/value state (open tabs, last prompt...) -------------------------------

    def get_state(self, key: str, default: Any = None) -> Any:
        row = self._run(
            lambda: self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        )
        if not row:
            return default
        try:
            return json.loads(row[0])
        except ValueError:
            return default

    def set_state(self, key: str, value: Any) -> None:
        def go() -> None:
            with self._tx():
                self.conn.execute(
                    "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value)),
                )

        self._run(go)

    # -- drafts: what was typed in a session's prompt and not sent -------------------------

    def list_drafts(self) -> dict[str, str]:
        rows = self._run(
            lambda: self.conn.execute("SELECT session_id, text FROM drafts").fetchall()
        )
        return {row[0]: row[1] for row in rows}

    def set_draft(self, session_id: str, text: str) -> None:
        """Keep a session's draft; an empty one is removed (a deleted session takes its own)."""

        def go() -> None:
            with self._tx():
                if not text:
                    self.conn.execute("DELETE FROM drafts WHERE session_id = ?", (session_id,))
                    return
                self.conn.execute(  # a session deleted meanwhile keeps no draft
                    "INSERT INTO drafts (session_id, text, updated_at) SELECT ?, ?, ?"
                    " WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)"
                    " ON CONFLICT(session_id) DO UPDATE SET text = excluded.text,"
                    " updated_at = excluded.updated_at",
                    (session_id, _text(text), time.time(), session_id),
                )

        self._run(go)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    depth = 0
    for line in script.strip().splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        current.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER"):
            depth += 1
        if depth and upper.startswith("END;"):
            depth -= 1
            statements.append("\n".join(current))
            current = []
            continue
        if not depth and stripped.endswith(";"):
            statements.append("\n".join(current))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements


class AsyncStore:
    """Runs every Store call on one dedicated thread so SQLite never blocks the event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-tui-store")

    @property
    def path(self) -> Path:
        return self.store.path

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        target = getattr(self.store, name)
        if not callable(target):
            return target

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await self.call(target, *args, **kwargs)

        wrapper.__name__ = name
        return wrapper

    def close(self) -> None:
        self._pool.submit(self.store.close).result()
        self._pool.shutdown(wait=True)


def move_aside(path: Path) -> Path:
    """Rename a broken database (and its WAL files) out of the way; never deletes anything."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while any(os.path.lexists(f"{target}{suffix}") for suffix in ("", "-wal", "-shm")):
        n += 1  # a second move in the same second must not replace the first one's files
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target
