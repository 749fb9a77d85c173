"""A verdict as the UI collects it, before the service records it."""

from __future__ import annotations

from dataclasses import dataclass

from ..service.votes import parse_ranking


@dataclass(frozen=True, slots=True)
class VoteChoice:
    """What the person chose: ``ranking`` tiers of pane names, or a tie, or all bad."""

    ranking: list[list[str]] | None = None
    tie: bool = False
    all_bad: bool = False


__all__ = ["VoteChoice", "parse_ranking"]
