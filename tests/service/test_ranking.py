"""The leaderboard's statistics against results worked out by hand."""

from __future__ import annotations

import math

import pytest

from copilot_tui.service import ranking
from copilot_tui.service.votes import standings
from copilot_tui.types import Vote

ELO = 400 / math.log(10)


def test_pairs_of_a_winner_a_ranking_a_tie() -> None:
    # one winner of three: it beats both others, who are not ordered among themselves
    assert sorted(ranking.pairs([[2]], 3)) == [(2, 0, 1.0), (2, 1, 1.0)]
    # a tier of two ties; the pane left out ranks below both
    assert sorted(ranking.pairs([[1, 2]], 3)) == [(1, 0, 1.0), (1, 2, 0.5), (2, 0, 1.0)]
    assert sorted(ranking.pairs([[0], [2], [1]], 3)) == [(0, 1, 1.0), (0, 2, 1.0), (2, 1, 1.0)]
    assert ranking.pairs([[0, 1]], 2) == [(0, 1, 0.5)]


def test_two_models_fit_their_win_ratio() -> None:
    # maximum likelihood for two players: p_A / p_B = wins_A / wins_B = 3, so 400*log10(3) apart
    s = ranking.fit([("a", "b", 1.0)] * 3 + [("a", "b", 0.0)], prior=0)
    assert s["a"] - s["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert s["a"] + s["b"] == pytest.approx(2000)  # centred on the anchor
    # ties count half a win each way: 1 win + 2 ties = 2 : 1
    s = ranking.fit([("a", "b", 1.0), ("a", "b", 0.5), ("a", "b", 0.5)], prior=0)
    assert s["a"] - s["b"] == pytest.approx(400 * math.log10(2), abs=1e-6)


def test_a_cycle_is_a_draw() -> None:
    s = ranking.fit([("a", "b", 1.0), ("b", "c", 1.0), ("c", "a", 1.0)], prior=0)
    assert all(v == pytest.approx(1000) for v in s.values())


def test_the_prior_keeps_an_unbeaten_model_finite() -> None:
    # A beat B once; each also tied the anchor (strength 1) once. By symmetry p_B = 1/p_A = 1/x
    # with x^2/(x^2+1) + x/(x+1) = 1.5, whose root is x = 2.1305 (checked by substitution).
    s = ranking.fit([("a", "b", 1.0)])
    x = 10 ** ((s["a"] - 1000) / 400)
    assert x**2 / (x**2 + 1) + x / (x + 1) == pytest.approx(1.5, abs=1e-9)
    assert x == pytest.approx(2.1305, abs=1e-3)
    assert s["a"] + s["b"] == pytest.approx(2000)


def test_the_fit_satisfies_the_score_equations() -> None:
    """At the optimum each entity's expected score equals its actual score (prior included)."""
    outcomes = [("a", "b", 1.0), ("a", "b", 1.0), ("b", "a", 1.0), ("b", "c", 1.0)]
    outcomes += [("c", "a", 0.5), ("a", "c", 1.0), ("c", "b", 1.0), ("d", "a", 0.0)]
    s = ranking.fit(outcomes)
    p = {k: math.exp((v - 1000) / ELO) for k, v in s.items()}
    for name in p:
        actual = 0.5 + sum(sc if a == name else 1 - sc for a, b, sc in outcomes if name in (a, b))
        expected = p[name] / (p[name] + 1) + sum(
            p[name] / (p[name] + p[b if a == name else a]) for a, b, _ in outcomes if name in (a, b)
        )
        assert expected == pytest.approx(actual, abs=1e-6), name


def test_bootstrap_is_repeatable_and_brackets_the_fit() -> None:
    votes = [[("a", "b", 1.0)]] * 8 + [[("b", "a", 1.0)]] * 2
    one = ranking.bootstrap(votes, rounds=100, seed=3)
    two = ranking.bootstrap(votes, rounds=100, seed=3)
    assert one == two
    fit = ranking.fit([o for v in votes for o in v])
    assert one["a"].low <= fit["a"] <= one["a"].high
    assert one["b"].low <= fit["b"] <= one["b"].high
    assert one["a"].low > one["b"].low and one["a"].high > one["b"].high
    assert one["a"].high > one["a"].low


def _vote(
    winner: int | None,
    models: list[str],
    *,
    tags: list[str] = (),
    verdict: str = "ranked",
    systems: list[str | None] | None = None,
    ttft: float = 0.5,
) -> Vote:
    panes = [
        {
            "model": m,
            "system_message": (systems or [None] * len(models))[i],
            "status": "complete",
            "reply": "x",
            "stats": {
                "ttft": ttft * (i + 1),
                "duration": ttft * (i + 1) + 1.0,
                "output_tokens": 50,
            },
        }
        for i, m in enumerate(models)
    ]
    tiers = [[winner]] if winner is not None else [list(range(len(models)))]
    record = {"prompt": "p", "tags": list(tags), "panes": panes}
    return Vote("g", 1, verdict, tiers, record, 0.0, 0.0)


def test_standings_count_wins_losses_ties_and_speed() -> None:
    m = ["x/one", "x/two", "x/three"]
    votes = [_vote(0, m, tags=["code"]), _vote(0, m), _vote(1, m, tags=["code"])]
    votes.append(_vote(None, m, verdict="tie"))
    votes.append(_vote(None, m, verdict="all_bad"))
    board = standings(votes, rounds=50)
    rows = {r.name: r for r in board.rows}
    assert board.rows[0].name == "x/one" and board.votes == 5
    assert (rows["x/one"].wins, rows["x/one"].losses, rows["x/one"].ties) == (4, 1, 4)
    assert (rows["x/two"].wins, rows["x/two"].losses, rows["x/two"].ties) == (2, 2, 4)
    assert (rows["x/three"].wins, rows["x/three"].losses, rows["x/three"].ties) == (0, 3, 4)
    assert rows["x/one"].win_rate == pytest.approx((4 + 2) / 9)
    assert rows["x/one"].all_bad == 1 and rows["x/one"].votes == 5
    assert rows["x/one"].ttft == pytest.approx(0.5) and rows["x/two"].ttft == pytest.approx(1.0)
    assert rows["x/one"].tokens_per_second == pytest.approx(50.0)
    for r in board.rows:
        assert r.low <= r.strength <= r.high

    tagged = standings(votes, tag="code", rounds=50)
    assert tagged.votes == 2
    assert {r.name: r.wins for r in tagged.rows} == {"x/one": 2, "x/two": 2, "x/three": 0}


def test_standings_by_prompt_rank_system_messages_of_one_model() -> None:
    m = ["x/one", "x/one"]
    systems = ["Be brief.", "Explain   step by step."]
    board = standings([_vote(1, m, systems=systems)] * 3, by="prompt", rounds=20)
    assert [r.name for r in board.rows] == ["x/one · Explain step by step.", "x/one · Be brief."]
    assert board.rows[0].wins == 3
    # by model the same votes say nothing: one model against itself
    assert [
        (r.name, r.games) for r in standings([_vote(1, m, systems=systems)], rounds=5).rows
    ] == [("x/one", 0)]
