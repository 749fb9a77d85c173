"""Statistics of votes: pairwise outcomes, a Bradley-Terry fit and bootstrap intervals.

Pure functions over plain data, so the numbers can be checked by hand. Strengths are on the
Elo scale the public arenas use (400 points: 10-to-1 odds), each entity also playing one
virtual tie against an anchor of strength 1000: a model that won every vote gets a large but
finite strength instead of infinity, and a model seen once stays near the anchor.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

ANCHOR = 1000.0
SCALE = 400.0 / math.log(10.0)  # Elo points per unit of log-strength

Outcome = tuple[str, str, float]  # (a, b, score of a): 1 win, 0.5 tie, 0 loss


def pairs(ranking: Sequence[Sequence[int]], panes: int) -> list[tuple[int, int, float]]:
    """Pairwise results of one vote.

    ``ranking`` lists tiers of pane indices, best first; several panes in one tier tie.
    Panes not listed rank below every listed one and are not ordered among themselves
    (a vote for one winner of three says nothing about the other two).
    """
    listed = [list(tier) for tier in ranking if tier]
    seen = {i for tier in listed for i in tier}
    rest = [i for i in range(panes) if i not in seen]
    out: list[tuple[int, int, float]] = []
    for t, tier in enumerate(listed):
        for x, a in enumerate(tier):
            out.extend((a, b, 0.5) for b in tier[x + 1 :])
        below = [b for lower in listed[t + 1 :] for b in lower] + rest
        out.extend((a, b, 1.0) for a in tier for b in below)
    return out


def fit(
    outcomes: Sequence[Outcome],
    *,
    prior: float = 1.0,
    tolerance: float = 1e-10,
    start: dict[str, float] | None = None,
) -> dict[str, float]:
    """Bradley-Terry strengths (Elo scale): the maximum of the likelihood, by Newton's method
    on log-strengths (a few steps where the classic minorise-maximise iteration takes
    thousands when strengths are close).

    Ties count half a win each way. ``prior`` is the number of virtual ties each entity plays
    against the anchor; with ``prior=0`` it is the plain maximum-likelihood fit, centred so the
    geometric mean is the anchor (it exists only when every entity has won and lost something).
    ``start`` (strengths from an earlier fit) only saves steps.
    """
    names = sorted({a for a, _, _ in outcomes} | {b for _, b, _ in outcomes})
    if not names:
        return {}
    index = {n: i for i, n in enumerate(names)}
    k = len(names)
    wins = [prior * 0.5] * k
    games: dict[tuple[int, int], float] = {}
    for a, b, score in outcomes:
        i, j = index[a], index[b]
        wins[i] += score
        wins[j] += 1.0 - score
        key = (min(i, j), max(i, j))
        games[key] = games.get(key, 0.0) + 1.0
    theta = [(start[n] - ANCHOR) / SCALE if start and n in start else 0.0 for n in names]
    free = k if prior > 0 else k - 1  # without the anchor one strength is fixed: only ratios count
    for _ in range(200):
        grad = [wins[i] for i in range(k)]
        hess = [[0.0] * k for _ in range(k)]  # minus the Hessian: positive definite
        for i in range(k):
            if prior:
                p = _sigmoid(theta[i])
                grad[i] -= prior * p
                hess[i][i] += prior * p * (1.0 - p)
        for (i, j), n in games.items():
            p = _sigmoid(theta[i] - theta[j])
            grad[i] -= n * p
            grad[j] -= n * (1.0 - p)
            w = n * p * (1.0 - p)
            hess[i][i] += w
            hess[j][j] += w
            hess[i][j] -= w
            hess[j][i] -= w
        step = _solve([row[:free] for row in hess[:free]], grad[:free])
        if step is None:
            break
        for i in range(free):
            theta[i] = min(30.0, max(-30.0, theta[i] + step[i]))
        if max((abs(x) for x in step), default=0.0) < tolerance:
            break
    if prior == 0:
        mean = sum(theta) / k
        theta = [t - mean for t in theta]
    return {n: ANCHOR + SCALE * theta[index[n]] for n in names}


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when the system is singular."""
    n = len(rhs)
    m = [row[:] + [rhs[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            factor = m[r][col] / m[col][col]
            if factor:
                for c in range(col, n + 1):
                    m[r][c] -= factor * m[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (m[r][n] - sum(m[r][c] * out[c] for c in range(r + 1, n))) / m[r][r]
    return out


@dataclass(slots=True, frozen=True)
class Interval:
    low: float
    high: float


def bootstrap(
    votes: Sequence[Sequence[Outcome]],
    *,
    rounds: int = 200,
    seed: int = 0,
    prior: float = 1.0,
    level: float = 0.95,
) -> dict[str, Interval]:
    """Percentile intervals of each strength over fits to votes drawn with replacement.

    Whole votes are drawn (not pairs), since the pairs of one vote come from one judgement.
    Seeded, so the same votes always give the same table.
    """
    if not votes:
        return {}
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {}
    centre = fit([o for v in votes for o in v], prior=prior)
    for _ in range(rounds):
        drawn = [o for _ in votes for o in votes[rng.randrange(len(votes))]]
        for name, strength in fit(drawn, prior=prior, tolerance=1e-8, start=centre).items():
            samples.setdefault(name, []).append(strength)
    tail = (1.0 - level) / 2.0
    return {
        name: Interval(_quantile(values, tail), _quantile(values, 1.0 - tail))
        for name, values in samples.items()
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float | None:
    return _quantile(list(values), 0.5) if values else None
