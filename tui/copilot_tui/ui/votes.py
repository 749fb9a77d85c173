"""A verdict as the UI collects it, before the service records it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VoteChoice:
    """What the person chose: ``ranking`` tiers of pane names, or a tie, or all bad."""

    ranking: list[list[str]] | None = None
    tie: bool = False
    all_bad: bool = False


def parse_ranking(text: str) -> list[list[str]] | None:
    """'B,A,C' (best first) with '=' tying panes: 'B=A,C'; None if malformed."""
    tiers = [[n.strip() for n in part.split("=") if n.strip()] for part in text.split(",")]
    return tiers if tiers and all(tiers) else None
