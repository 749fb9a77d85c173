"""Side-by-side comparison: one prompt, several models, each pane a real session in one group.

A comparison is nothing more than a group row and the sessions that carry its ``group_id``;
every pane runs its turns through its own :class:`Session`, so a slow or failing model never
holds up the others and a provider's ``max_concurrency`` is honoured by the session layer.

A pane's text and times are its session's running turn's (:class:`Turn`), then the reply's
final ones: measured from the moment its request went out, so time spent queued behind the
provider's concurrency limit (kept apart as ``queued``) never counts against a model in the
"fastest" marks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from .. import events as ev
from ..errors import CopilotTuiError, SessionNotFound
from ..types import GroupInfo, Message, ReplyStats, SessionMode, Vote
from .agent import PermissionHandler
from .bus import EventBus
from .runtime import Runtime
from .session import Session
from .turn import Turn, auto_title
from .votes import cast_vote

log = logging.getLogger(__name__)

MIN_PANES = 2
MAX_PANES = 8
TIMING = ("ttft", "duration", "tokens_per_second", "queued")  # what a blind pane still shows
LETTERS = "ABCDEFGH"  # blind panes' names, one per pane up to MAX_PANES
MAX_TAGS = 16


MAX_COPY_FILES = 20_000
MAX_COPY_BYTES = 200 * 1024 * 1024
SKIPPED_DIRS = {
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
}


def copy_workdirs(
    source: str, root: Path, specs: Sequence[PaneSpec], *, data_dir: Path | None = None
) -> list[str]:
    """One copy of ``source`` per pane under ``root`` (agents comparing on one task each get
    their own files); virtualenvs, node_modules, caches and copilot-tui's own data folder (where
    the copies go) are left out. Checked first: a folder too big to copy is one sentence, and
    nothing is copied."""
    if not os.path.isdir(source):
        raise InvalidComparison(f"The working directory {source} does not exist.")
    data = os.path.realpath(data_dir) if data_dir is not None else None

    def kept(folder: str, names: Iterable[str]) -> list[str]:
        return [
            n
            for n in names
            if n not in SKIPPED_DIRS and os.path.realpath(os.path.join(folder, n)) != data
        ]

    files = size = 0
    for folder, dirs, names in os.walk(source):
        dirs[:] = kept(folder, dirs)
        for name in names:
            files += 1
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(folder, name)).st_size
        if files > MAX_COPY_FILES or size > MAX_COPY_BYTES:
            raise InvalidComparison(
                f"{source} is too big to copy once per pane (over {MAX_COPY_FILES:,} files or "
                f"{MAX_COPY_BYTES // 2**20} MB); compare agents on a smaller folder."
            )
    out = []

    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(names) - set(kept(folder, names))

    for i, spec in enumerate(specs, 1):
        slug = "".join(c if c.isalnum() or c in "-._" else "-" for c in spec.model)[:60]
        target = root / f"{i}-{slug}"
        try:
            shutil.copytree(source, target, symlinks=True, ignore=ignore)
        except (OSError, shutil.Error) as exc:
            shutil.rmtree(root, ignore_errors=True)
            first = exc.args[0][0] if isinstance(exc, shutil.Error) and exc.args[0] else None
            why = first[2] if isinstance(first, tuple) and len(first) == 3 else exc
            raise InvalidComparison(f"Could not copy {source} for pane {i}: {why}.") from None
        out.append(str(target))
    return out


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as stored: trimmed, lower case, no blanks or repeats, in the order given."""
    out: list[str] = []
    for tag in tags:
        tag = " ".join(str(tag).split()).lower()
        if not tag:
            continue
        if len(tag) > 40:
            raise InvalidComparison(f"The tag {tag[:40]!r}... is longer than 40 characters.")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidComparison(f"At most {MAX_TAGS} tags per comparison.")
    return out


PaneStatus = Literal["idle", "waiting", "streaming", "done", "aborted", "error"]

# Comparison-wide events (session events of the panes are forwarded with their own types).
PANE_UPDATED = (
    "compare.pane_updated"  # a pane changed without a session event (e.g. cancelled while queued)
)
COMPARE_DONE = "compare.done"  # every pane's turn has ended; fastest marks are set

_STATUS_OF_REPLY: dict[str, PaneStatus] = {
    "complete": "done",
    "aborted": "aborted",
    "interrupted": "aborted",
    "error": "error",
    "streaming": "streaming",
}


class InvalidComparison(CopilotTuiError):
    """A comparison was asked for with too few or too many panes, or two identical ones."""


class ComparisonNotFound(CopilotTuiError):
    """open_comparison() of a group id the store does not know (or whose panes were all deleted)."""


@dataclass(slots=True, frozen=True)
class PaneSpec:
    """What a pane runs: a model, and optionally its own system message."""

    model: str
    system_message: str | None = None


@dataclass(slots=True, frozen=True)
class CompareEvent:
    """One event of a comparison: a pane session's event, or a comparison-wide one.

    ``index`` is the pane (None for ``COMPARE_DONE``); ``event`` is the session's own event when
    there is one, so a view can drive all its panes from a single subscription.
    """

    type: str
    index: int | None
    event: ev.SessionEvent | None = None


CompareHandler = Callable[[CompareEvent], Any]


@dataclass(eq=False)
class Pane:
    """One column of a comparison: its session, and the status of its current (or last) turn.

    While a turn runs, the pane's text and figures are the turn's own (see :class:`Turn`); once
    it ends they are the reply's final ones, the same the store keeps.
    """

    index: int
    session: Session
    status: PaneStatus = "idle"
    status_note: str | None = (
        None  # the session's note: "waiting: too many requests...", "retrying in 3 s"
    )
    error: str | None = None
    label: str = ""  # the model, told apart by its system message when the model repeats
    _outstanding: set[str] = field(default_factory=set)
    _turn: Turn | None = None  # the session's turn while it runs
    _text: str = ""
    _stats: ReplyStats = field(default_factory=ReplyStats)
    tool_calls: int = 0  # an agent pane's tool calls in its current (or last) turn

    @property
    def text(self) -> str:
        """The current (or last) reply, as streamed so far."""
        return self._turn.text if self._turn is not None else self._text

    @property
    def stats(self) -> ReplyStats:
        """Live figures while a turn runs; the reply's final ones once it ends."""
        return self._turn.progress() if self._turn is not None else self._stats

    @stats.setter
    def stats(self, value: ReplyStats) -> None:
        self._stats = value

    @property
    def queued(self) -> float:
        """Seconds the current (or last) turn waited for a provider slot."""
        return self.stats.queued or 0.0

    @property
    def model(self) -> str:
        return self.session.model

    @property
    def system_message(self) -> str | None:
        return self.session.info.system_message

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def busy(self) -> bool:
        """True until every turn sent to this pane has ended."""
        return bool(self._outstanding) or self.session.busy

    @property
    def answered(self) -> bool:
        return self.status == "done"

    @property
    def ttft(self) -> float | None:
        return self.stats.ttft

    @property
    def output_tokens(self) -> int | None:
        return self.stats.output_tokens

    @property
    def tokens_estimated(self) -> bool:
        return self.stats.tokens_estimated

    @property
    def duration(self) -> float | None:
        return self.stats.duration

    @property
    def tokens_per_second(self) -> float | None:
        stats = self.stats
        duration, ttft, tokens = stats.duration, stats.ttft, stats.output_tokens
        if not tokens or duration is None or ttft is None:
            return None
        gen = duration - ttft
        return tokens / gen if gen > 0 else None

    def stats_dict(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "ttft": stats.ttft,
            "duration": stats.duration,
            "output_tokens": stats.output_tokens,
            "tokens_estimated": stats.tokens_estimated,
            "tokens_per_second": self.tokens_per_second,
            "queued": stats.queued or 0.0,
            "tool_calls": self.tool_calls,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "model": self.model,
            "label": self.label,
            "system_message": self.system_message,
            "session_id": self.session_id,
            "mode": self.session.mode,
            "cwd": self.session.cwd,
            "status": self.status,
            "answer": self.text,
            "error": self.error,
            "stats": self.stats_dict(),
        }

    # -- driven by the comparison ----------------------------------------------------------

    def _expect(self, turn_id: str) -> None:
        """A prompt was queued for this pane: show it as waiting until its turn starts."""
        self._outstanding.add(turn_id)
        if self.status not in ("waiting", "streaming"):
            self._reset()
            self.status = "waiting"

    def _reset(self) -> None:
        self._turn = None
        self.tool_calls = 0
        self._text, self.error, self.status_note = "", None, None
        self._stats = ReplyStats()

    def _follow(self, turn: Turn | None) -> None:
        """Show a running turn of the session (a new one, or one under way when reopened)."""
        self._reset()
        self._turn = turn

    def _apply(self, event: ev.SessionEvent) -> bool:
        """Update from one session event; return True when a turn of this pane just ended."""
        data = event.data
        if event.type == ev.TURN_START:
            self._follow(self.session.turn)
            self.status = "waiting"
        elif event.type == ev.SESSION_STATUS:
            state = data.get("state")
            self.status_note = data.get("status")
            if state in ("waiting", "streaming"):
                self.status = state
        elif event.type == ev.MESSAGE_DELTA:
            self.status = "streaming"
        elif event.type == ev.TOOL_START:
            self.tool_calls += 1
        elif event.type == ev.SESSION_ERROR:
            self.error = data.get("message")
        elif event.type == ev.SESSION_IDLE:
            turn = self._turn
            if turn is not None:  # its final text and figures, as saved
                self._text, self._stats, self._turn = turn.text, turn.reply.stats, None
            if data.get("aborted"):
                self.status = "aborted"
            else:
                status = data.get("status")
                self.status = _STATUS_OF_REPLY.get(status or "", "error" if self.error else "done")
            self.status_note = None
            self._outstanding.discard(data.get("turn_id"))
            return True
        return False

    def _load(self, reply: Message | None) -> None:
        """Show a stored reply (a reopened comparison)."""
        self._reset()
        if reply is None:
            return
        self._text = reply.content
        self.error = reply.error
        self._stats = reply.stats
        self.status = _STATUS_OF_REPLY.get(reply.status, "done")


class Comparison:
    """Several sessions sent the same prompts side by side; see :func:`start_comparison`."""

    def __init__(self, runtime: Runtime, group: GroupInfo, sessions: Sequence[Session]) -> None:
        self._rt = runtime
        self.group_id = group.group_id
        self.title = group.title
        self.created_at = group.created_at
        self.panes: list[Pane] = [Pane(i, s) for i, s in enumerate(sessions)]
        self.last_prompt: str | None = None
        self.letters = group.letters  # blind: pane i is shown as letters[i] until a vote
        self.tags: list[str] = list(group.tags)
        self.voted: set[int] = set(group.voted_turns)  # prompts (1-based) a verdict was given on
        self._events: EventBus[CompareEvent] = EventBus(f"comparison {group.group_id}")
        self._changed = asyncio.Event()
        self._round_open = False
        self._label_panes()
        self._unsubscribe = [
            s.on(self._forward(p)) for p, s in zip(self.panes, sessions, strict=True)
        ]
        for pane in self.panes:  # a session already running (reopened mid-turn) shows as such
            if pane.session.busy:
                pane.status = "streaming" if pane.session.state == "streaming" else "waiting"
                pane._follow(pane.session.turn)
                self._round_open = True
        runtime.comparisons[self.group_id] = self  # reopening it returns it, live state and all

    def __repr__(self) -> str:
        return f"<Comparison {self.group_id} {[p.model for p in self.panes]}>"

    def __len__(self) -> int:
        return len(self.panes)

    async def vote(
        self,
        *,
        winner: str | None = None,
        ranking: Sequence[Sequence[str]] | None = None,
        tie: bool = False,
        all_bad: bool = False,
        turn: int | None = None,
    ) -> Vote:
        """Record or change the verdict on a prompt (the latest by default); see ``votes``."""
        return await cast_vote(
            self._rt,
            self.group_id,
            winner=winner,
            ranking_names=ranking,
            tie=tie,
            all_bad=all_bad,
            turn=turn,
        )

    @property
    def blind(self) -> bool:
        return bool(self.letters)

    @property
    def hidden(self) -> bool:
        """Model names are hidden: a blind comparison nobody has voted on yet."""
        return self.blind and not self.voted

    def name_of(self, pane: Pane) -> str:
        """What a view calls a pane: its letter while hidden, its model otherwise."""
        if not self.blind:
            return pane.label
        letter = self.letters[pane.index]
        return letter if self.hidden else f"{letter} · {pane.label}"

    @property
    def shown_order(self) -> list[Pane]:
        """Panes in the order a view shows them: by letter when blind, else as created."""
        if not self.blind:
            return list(self.panes)
        return sorted(self.panes, key=lambda p: self.letters[p.index])

    def _label_panes(self) -> None:
        counts: dict[str, int] = {}
        for pane in self.panes:
            counts[pane.model] = counts.get(pane.model, 0) + 1
        for pane in self.panes:
            label = pane.model
            if counts[pane.model] > 1:
                system = " ".join((pane.system_message or "").split())
                label += (
                    f" ({system[:24] + '…' if len(system) > 25 else system or 'no system message'})"
                )
            pane.label = label

    # -- events ----------------------------------------------------------------------------

    def on(self, handler: CompareHandler) -> Callable[[], None]:
        """Subscribe to the events of every pane; returns the unsubscribe function."""
        return self._events.on(handler)

    def _emit(self, event: CompareEvent) -> None:
        self._events.emit(event)  # a view's bug is logged and never stops the other panes

    def _forward(self, pane: Pane) -> Callable[[ev.SessionEvent], None]:
        def handle(event: ev.SessionEvent) -> None:
            ended = pane._apply(event)
            self._emit(CompareEvent(event.type, pane.index, event))
            if ended:
                self._turn_ended(pane)

        return handle

    def _turn_ended(self, pane: Pane) -> None:
        self._changed.set()
        if self._round_open and not any(p.busy for p in self.panes):
            self._round_open = False
            self._emit(CompareEvent(COMPARE_DONE, None))

    # -- operations ------------------------------------------------------------------------

    async def send(self, prompt: str, *, max_tokens: int | None = None) -> list[str]:
        """Send the prompt to every pane at once; each pane answers with its own history.

        Returns the turn id of each pane. The turns run in the panes' own tasks: await
        :meth:`wait` (or watch :data:`COMPARE_DONE`) for the end.
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise CopilotTuiError("The prompt is empty.")
        if not self.panes:
            raise CopilotTuiError("This comparison has no panes left.")
        self.last_prompt = prompt
        self._round_open = True
        turn_ids: list[str] = []
        for pane in self.panes:
            turn_id = await pane.session.send(prompt, max_tokens=max_tokens)
            pane._expect(turn_id)
            turn_ids.append(turn_id)
        return turn_ids

    async def abort(self, index: int) -> None:
        """Cancel one pane: its running reply is kept (marked aborted), its queued prompts dropped."""
        pane = self.pane(index)
        await pane.session.cancel_all()
        if pane._outstanding or pane.status in ("waiting", "streaming"):
            # the turn was cancelled before it began, so the session had nothing to report
            pane._outstanding.clear()
            pane.status, pane.status_note = "aborted", None
            self._emit(CompareEvent(PANE_UPDATED, index))
            self._turn_ended(pane)

    async def abort_all(self) -> None:
        """Cancel every pane at once."""
        await asyncio.gather(*(self.abort(p.index) for p in self.panes))

    async def wait(self, timeout: float | None = None) -> None:
        """Return when every pane's turns have ended (done, aborted or failed)."""

        async def settle() -> None:
            while True:
                self._changed.clear()
                if not any(p.busy for p in self.panes):
                    break
                await self._changed.wait()

        await asyncio.wait_for(settle(), timeout)

    def pane(self, index: int) -> Pane:
        if not 0 <= index < len(self.panes):
            raise CopilotTuiError(
                f"No pane {index}: this comparison has {len(self.panes)} (0 to {len(self.panes) - 1})."
            )
        return self.panes[index]

    @property
    def busy(self) -> bool:
        return any(p.busy for p in self.panes)

    @property
    def models(self) -> list[str]:
        return [p.model for p in self.panes]

    # -- verdict ---------------------------------------------------------------------------

    def _fastest(self, key: Callable[[Pane], float | None]) -> int | None:
        if self.busy:
            return None
        timed = [
            (value, p.index) for p in self.panes if p.answered and (value := key(p)) is not None
        ]
        return min(timed)[1] if timed else None

    @property
    def fastest_ttft(self) -> int | None:
        """The pane that answered with the earliest first token, once every pane has ended."""
        return self._fastest(lambda p: p.ttft)

    @property
    def fastest_total(self) -> int | None:
        """The pane whose complete answer took the least time, once every pane has ended."""
        return self._fastest(lambda p: p.duration)

    @property
    def answered(self) -> list[Pane]:
        return [p for p in self.panes if p.answered]

    def to_dict(self) -> dict[str, Any]:
        """A machine-readable summary (the CLI's ``--json``); a hidden comparison names no model."""
        panes = []
        for pane in self.shown_order:
            data = pane.to_dict()
            if self.blind:
                data["letter"] = self.letters[pane.index]
            if self.hidden:  # the order panes were given in, token counts: all tell the model
                for key in ("index", "model", "label", "system_message", "session_id"):
                    data.pop(key, None)
                data["stats"] = {k: v for k, v in data["stats"].items() if k in TIMING}
            panes.append(data)
        return {
            "group_id": self.group_id,
            "title": self.title,
            "prompt": self.last_prompt,
            "models": None if self.hidden else self.models,
            "blind": self.blind,
            "tags": self.tags,
            "panes": panes,
            "fastest_ttft": self.fastest_ttft,
            "fastest_total": self.fastest_total,
            "answered": len(self.answered),
        }

    @property
    def closed(self) -> bool:
        return self._rt.comparisons.get(self.group_id) is not self

    def close(self) -> None:
        """Stop listening to the panes' sessions (the sessions themselves keep running)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._events.clear()
        if not self.closed:
            del self._rt.comparisons[self.group_id]


class SessionsAPI(Protocol):
    """What building and opening comparisons needs of the client (its public API)."""

    @property
    def runtime(self) -> Runtime: ...

    async def create_session(
        self,
        model: str | None = ...,
        session_id: str | None = ...,
        system_message: str | None = ...,
        *,
        title: str = ...,
        group_id: str | None = ...,
        mode: SessionMode = ...,
        cwd: str | os.PathLike[str] | None = ...,
        on_permission_request: PermissionHandler | None = ...,
    ) -> Session: ...

    async def resume_session(self, session_id: str) -> Session: ...

    async def delete_session(self, session_id: str) -> None: ...

    async def list_groups(self) -> list[GroupInfo]: ...


# -- building comparisons ---------------------------------------------------------------------


def _specs(models: Iterable[str | PaneSpec], system_message: str | None) -> list[PaneSpec]:
    specs: list[PaneSpec] = []
    for item in models:
        if isinstance(item, PaneSpec):
            spec = item
        elif isinstance(item, str):
            spec = PaneSpec(item)
        else:
            raise InvalidComparison(
                f"A pane is a model name or a PaneSpec, not {type(item).__name__}."
            )
        if not spec.model or not spec.model.strip():
            raise InvalidComparison(f"Pane {len(specs) + 1} has no model.")
        system = (
            spec.system_message
            if spec.system_message and spec.system_message.strip()
            else system_message
        )
        specs.append(PaneSpec(spec.model.strip(), system or None))
    if not MIN_PANES <= len(specs) <= MAX_PANES:
        raise InvalidComparison(
            f"A comparison needs {MIN_PANES} to {MAX_PANES} models; {len(specs)} given."
        )
    return specs


async def start_comparison(
    client: SessionsAPI,
    models: Iterable[str | PaneSpec],
    prompt: str,
    *,
    system_message: str | None = None,
    title: str | None = None,
    max_tokens: int | None = None,
    blind: bool = False,
    tags: Sequence[str] = (),
    mode: SessionMode = "chat",
    cwd: str | os.PathLike[str] | None = None,
    on_permission_request: PermissionHandler | None = None,
) -> Comparison:
    """Create a comparison (a group and one session per pane) and send the prompt to every pane.

    Everything is checked before anything is stored, so a typo in the third model leaves no
    half-made comparison behind.
    """
    rt = client.runtime  # raises unless the client is started
    specs = _specs(models, system_message)
    if not isinstance(prompt, str) or not prompt.strip():
        raise CopilotTuiError("The prompt is empty.")
    refs = await asyncio.gather(*(rt.providers.check_model(s.model) for s in specs))
    specs = [PaneSpec(ref, s.system_message) for ref, s in zip(refs, specs, strict=True)]
    seen: dict[PaneSpec, int] = {}
    for i, spec in enumerate(specs, 1):
        if spec in seen:
            raise InvalidComparison(
                f"Pane {i} repeats pane {seen[spec]} ({spec.model}, "
                f"{'same system message' if spec.system_message else 'no system message either'}); "
                "give one of them another model or system message."
            )
        seen[spec] = i

    group_id = uuid.uuid4().hex[:12]
    group_title = " ".join((title or "").split()) or auto_title(prompt)
    now = time.time()
    letters = ""
    if blind:
        order = list(LETTERS[: len(specs)])
        random.SystemRandom().shuffle(order)
        letters = "".join(order)
    tag_list = clean_tags(tags)
    await rt.store.create_group(group_id, group_title, now, letters=letters, tags=tag_list)
    sessions: list[Session] = []
    workdirs: list[str | None] = [None] * len(specs)
    try:
        if mode == "agent":  # each pane works on its own copy, so they do not trample each other
            source = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
            workdirs = list(
                await asyncio.to_thread(
                    copy_workdirs,
                    source,
                    rt.store.path.parent / "agent-copies" / group_id,
                    specs,
                    data_dir=rt.store.path.parent,
                )
            )
        for spec, workdir in zip(specs, workdirs, strict=True):
            sessions.append(
                await client.create_session(
                    spec.model,
                    system_message=spec.system_message,
                    group_id=group_id,
                    mode=mode,
                    cwd=workdir,
                    on_permission_request=on_permission_request,
                )
            )
    except BaseException:
        for session in sessions:
            with contextlib.suppress(Exception):
                await client.delete_session(session.session_id)
        with contextlib.suppress(Exception):
            await rt.store.delete_group(group_id)
        if mode == "agent":
            await asyncio.to_thread(
                shutil.rmtree, rt.store.path.parent / "agent-copies" / group_id, True
            )
        raise
    group = GroupInfo(
        group_id, group_title, now, [s.session_id for s in sessions], letters, tag_list
    )
    comparison = Comparison(rt, group, sessions)
    await comparison.send(prompt, max_tokens=max_tokens)
    return comparison


async def list_comparisons(client: SessionsAPI) -> list[GroupInfo]:
    """Stored comparisons, newest first; groups whose panes were all deleted are left out."""
    return [g for g in await client.list_groups() if g.session_ids]


async def open_comparison(client: SessionsAPI, group_id: str) -> Comparison:
    """Rebuild a comparison from the store: its panes, in order, each with its last reply.

    A comparison still open in this client is returned as it is, live state and all.
    """
    rt = client.runtime  # raises unless the client is started
    live = rt.comparisons.get(group_id)
    if live is not None:
        return live
    group = next((g for g in await client.list_groups() if g.group_id == group_id), None)
    if group is None or not group.session_ids:
        raise ComparisonNotFound(f"No comparison with id {group_id!r}.")
    sessions: list[Session] = []
    for sid in group.session_ids:
        try:
            sessions.append(await client.resume_session(sid))
        except SessionNotFound:
            continue  # deleted meanwhile
    if not sessions:
        raise ComparisonNotFound(f"No comparison with id {group_id!r}.")
    comparison = Comparison(rt, group, sessions)
    for pane in comparison.panes:
        messages = await pane.session.get_messages(limit=4)
        reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), None)
        if pane.session.state == "idle":
            pane._load(reply)
        if prompt and comparison.last_prompt is None:
            comparison.last_prompt = prompt
    return comparison


async def delete_comparison(client: SessionsAPI, group_id: str, *, sessions: bool = False) -> None:
    """Forget a comparison; its sessions stay as ordinary conversations unless ``sessions``."""
    rt = client.runtime  # raises unless the client is started
    group = next((g for g in await client.list_groups() if g.group_id == group_id), None)
    if group is None:
        raise ComparisonNotFound(f"No comparison with id {group_id!r}.")
    live = rt.comparisons.get(group_id)
    if live is not None:
        live.close()
    if sessions:
        for sid in group.session_ids:
            with contextlib.suppress(SessionNotFound):
                await client.delete_session(sid)
        # the agents' copies of their working folder go with their sessions
        copies = rt.store.path.parent / "agent-copies" / group_id
        await asyncio.to_thread(shutil.rmtree, copies, True)
    await rt.store.delete_group(group_id)
