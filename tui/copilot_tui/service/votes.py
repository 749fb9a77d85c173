"""Votes on comparisons and the leaderboard they add up to.

A vote is a person's verdict on one prompt of a comparison (its turn): a ranking of the panes,
a tie, or "all bad". It is stored with a snapshot of what was judged (prompt, models, system
messages, replies, stats), so the leaderboard does not change when a session is edited later.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CopilotTuiError
from ..types import GroupInfo, Message, ReplyStats, Vote
from . import ranking
from .runtime import Runtime

VERDICTS = ("ranked", "tie", "all_bad")
BY = ("model", "prompt")


class InvalidVote(CopilotTuiError):
    """A vote that names no pane of the comparison, or a comparison still answering."""


def parse_ranking(text: str) -> list[list[str]] | None:
    """'B,A,C' (best first) with '=' tying panes: 'B=A,C'; None if malformed."""
    tiers = [[n.strip() for n in part.split("=") if n.strip()] for part in text.split(",")]
    return tiers if tiers and all(tiers) else None


def letter_of(group: GroupInfo, index: int) -> str:
    return group.letters[index] if group.letters else str(index + 1)


@dataclass(slots=True)
class Standing:
    """One row of the leaderboard."""

    name: str  # the model, or "model · system message" when ranking prompts
    model: str
    system_message: str | None
    wins: int = 0
    losses: int = 0
    ties: int = 0
    all_bad: int = 0
    votes: int = 0  # votes it took part in
    strength: float = ranking.ANCHOR
    low: float = ranking.ANCHOR
    high: float = ranking.ANCHOR
    ttft: float | None = None  # median seconds to the first token in the judged replies
    tokens_per_second: float | None = None
    _ttfts: list[float] = field(default_factory=list)
    _rates: list[float] = field(default_factory=list)

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float | None:
        """Wins per pairwise game, ties counting half."""
        return (self.wins + self.ties / 2) / self.games if self.games else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "system_message": self.system_message,
            "wins": self.wins,
            "losses": self.losses,
            "ties": self.ties,
            "all_bad": self.all_bad,
            "votes": self.votes,
            "games": self.games,
            "win_rate": self.win_rate,
            "strength": round(self.strength, 1),
            "interval": [round(self.low, 1), round(self.high, 1)],
            "median_ttft": self.ttft,
            "median_tokens_per_second": self.tokens_per_second,
        }


@dataclass(slots=True)
class Leaderboard:
    rows: list[Standing]
    votes: int
    by: str
    tag: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "tag": self.tag,
            "votes": self.votes,
            "rows": [r.to_dict() for r in self.rows],
        }


# -- casting a vote ----------------------------------------------------------------------


def _turns(messages: Sequence[Message]) -> list[tuple[Message, Message | None]]:
    """Each prompt of a session with the reply that followed it."""
    out: list[tuple[Message, Message | None]] = []
    for m in messages:
        if m.role == "user":
            out.append((m, None))
        elif m.role == "assistant" and out and out[-1][1] is None:
            out[-1] = (out[-1][0], m)
    return out


async def _group(rt: Runtime, group_id: str) -> GroupInfo:
    group = next((g for g in await rt.store.list_groups() if g.group_id == group_id), None)
    if group is None or not group.session_ids:
        raise InvalidVote(f"No comparison with id {group_id!r}.")
    return group


def pane_index(rt: Runtime, group: GroupInfo, models: Sequence[str], name: str) -> int:
    """A pane as a person names it: its letter (blind), its number, or its model as given."""
    text = name.strip()
    if group.letters and len(text) == 1 and text.upper() in group.letters:
        return group.letters.index(text.upper())
    if text.isdigit() and 1 <= int(text) <= len(models):
        return int(text) - 1
    candidates = {text}
    try:
        provider, model = rt.providers.resolve_model(text)
        candidates.add(f"{provider}/{model}")
    except CopilotTuiError:
        pass
    found = [i for i, m in enumerate(models) if m in candidates]
    if len(found) == 1:
        return found[0]
    if group.letters:
        names = ", ".join(sorted(group.letters))
    else:
        names = ", ".join(f"{i + 1} ({m})" for i, m in enumerate(models))
    if len(found) > 1:
        raise InvalidVote(f"{text!r} is in several panes; name one by number: {names}.")
    raise InvalidVote(f"{text!r} is not a pane of this comparison; its panes are {names}.")


async def cast_vote(
    rt: Runtime,
    group_id: str,
    *,
    winner: str | None = None,
    ranking_names: Sequence[Sequence[str]] | None = None,
    tie: bool = False,
    all_bad: bool = False,
    turn: int | None = None,
) -> Vote:
    """Record (or change) the verdict on one prompt of a comparison; the latest by default.
    ``winner`` is a ranking of one pane."""
    if winner is not None:
        if ranking_names:
            raise InvalidVote("Give one verdict: a winner (or a ranking), a tie, or all bad.")
        ranking_names = [[winner]]
    if sum((bool(ranking_names), tie, all_bad)) != 1:
        raise InvalidVote("Give one verdict: a winner (or a ranking), a tie, or all bad.")
    group = await _group(rt, group_id)
    live = rt.comparisons.get(group_id)
    if live is not None and live.busy:
        raise InvalidVote("Wait until every pane has finished answering, then vote.")
    sessions = [await rt.store.get_session(sid) for sid in group.session_ids]
    if any(s is None for s in sessions):
        raise InvalidVote(f"No comparison with id {group_id!r}.")
    models = [s.model for s in sessions if s is not None]
    histories = [_turns(await rt.store.get_messages(sid)) for sid in group.session_ids]
    count = min(len(h) for h in histories)
    if count == 0:
        raise InvalidVote("This comparison has no answered prompt to vote on yet.")
    turn = count if turn is None else turn
    if not 1 <= turn <= count:
        raise InvalidVote(f"Prompt {turn} does not exist; this comparison has {count}.")
    replies = [h[turn - 1][1] for h in histories]
    if any(r is not None and r.status == "streaming" for r in replies):
        raise InvalidVote("Wait until every pane has finished answering, then vote.")

    if tie or all_bad:
        tiers = [list(range(len(models)))]
    else:
        tiers = []
        seen: set[int] = set()
        for names in ranking_names or []:
            tier = []
            for name in names:
                i = pane_index(rt, group, models, name)
                if i in seen:
                    raise InvalidVote(f"Pane {letter_of(group, i)} is named twice.")
                seen.add(i)
                tier.append(i)
            tiers.append(tier)
    verdict = "tie" if tie else "all_bad" if all_bad else "ranked"
    panes = []
    for i, (session, history) in enumerate(zip(sessions, histories, strict=True)):
        assert session is not None
        prompt, reply = history[turn - 1]
        panes.append(
            {
                "letter": letter_of(group, i),
                "model": session.model,
                "system_message": session.system_message,
                "session_id": session.session_id,
                "reply": reply.content if reply else "",
                "status": reply.status if reply else "missing",
                "stats": reply.stats.to_dict() if reply else {},
            }
        )
    record = {
        "title": group.title,
        "prompt": histories[0][turn - 1][0].content,
        "tags": group.tags,
        "blind": bool(group.letters),
        "panes": panes,
    }
    earlier = next((v for v in await rt.store.list_votes(group_id) if v.turn == turn), None)
    now = time.time()
    vote = Vote(group_id, turn, verdict, tiers, record, earlier.created_at if earlier else now, now)
    await rt.store.put_vote(vote)
    if live is not None:
        live.voted.add(turn)  # a comparison open in a view reveals its models
    return vote


# -- the leaderboard ---------------------------------------------------------------------


def _name(pane: dict[str, Any], by: str) -> str:
    if by == "prompt":
        system = " ".join((pane.get("system_message") or "").split()) or "no system message"
        return f"{pane['model']} · {system}"
    return str(pane["model"])


def standings(
    votes: Sequence[Vote],
    *,
    by: str = "model",
    tag: str | None = None,
    rounds: int = 200,
    seed: int = 0,
) -> Leaderboard:
    """Wins, losses, ties, strength with a bootstrap interval, and median speed per entity."""
    if by not in BY:
        raise InvalidVote(f"Rank by one of {', '.join(BY)}, not {by!r}.")
    chosen = [v for v in votes if tag is None or tag in v.record.get("tags", [])]
    rows: dict[str, Standing] = {}
    per_vote: list[list[ranking.Outcome]] = []
    for vote in chosen:
        panes = vote.record.get("panes", [])
        names = [_name(p, by) for p in panes]
        for p, name in zip(panes, names, strict=True):
            row = rows.get(name)
            if row is None:
                row = rows[name] = Standing(name, p["model"], p.get("system_message"))
            row.votes += 1
            row.all_bad += vote.verdict == "all_bad"
            stats = p.get("stats") or {}
            if p.get("status") == "complete" and stats.get("ttft") is not None:
                row._ttfts.append(float(stats["ttft"]))
            rate = ReplyStats.from_dict(stats).tokens_per_second
            if p.get("status") == "complete" and rate is not None:
                row._rates.append(rate)
        outcomes: list[ranking.Outcome] = []
        for a, b, score in ranking.pairs(vote.ranking, len(panes)):
            if names[a] == names[b]:
                continue  # the same entity twice in one comparison says nothing about it
            outcomes.append((names[a], names[b], score))
            if score == 0.5:
                rows[names[a]].ties += 1
                rows[names[b]].ties += 1
            else:
                rows[names[a]].wins += 1
                rows[names[b]].losses += 1
        per_vote.append(outcomes)
    strengths = ranking.fit([o for outcomes in per_vote for o in outcomes])
    intervals = ranking.bootstrap(per_vote, rounds=rounds, seed=seed)
    for name, row in rows.items():
        row.strength = strengths.get(name, ranking.ANCHOR)
        interval = intervals.get(name)
        row.low, row.high = (interval.low, interval.high) if interval else (row.strength,) * 2
        row.ttft = ranking.median(row._ttfts)
        row.tokens_per_second = ranking.median(row._rates)
    ordered = sorted(rows.values(), key=lambda r: (-r.strength, -(r.win_rate or 0.0), r.name))
    return Leaderboard(ordered, len(chosen), by, tag)


def export_line(vote: Vote) -> dict[str, Any]:
    """One vote as a JSON Lines record."""
    return {
        "comparison": vote.group_id,
        "turn": vote.turn,
        "verdict": vote.verdict,
        "ranking": [[vote.record["panes"][i]["model"] for i in tier] for tier in vote.ranking],
        "created_at": vote.created_at,
        "updated_at": vote.updated_at,
        **vote.record,
    }
