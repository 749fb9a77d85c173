"""Blind comparisons, votes and the leaderboard through the client, on a real SQLite file."""

from __future__ import annotations

import pytest

from copilot_tui import CopilotClient
from copilot_tui.service.compare import InvalidComparison
from copilot_tui.service.votes import InvalidVote
from tests.servers.openai_server import FakeOpenAI, Script

A, B, C = "lab/gpt-4o-mini", "lab/slow", "lab/fail"


def _answers(fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", Script(text="mini says hi"))
    fake.script("slow", Script(text="slow says hi"))
    fake.script("fail", Script(text="third says hi"))


async def test_a_blind_comparison_hides_the_models_until_a_vote(
    client: CopilotClient, fake: FakeOpenAI
) -> None:
    _answers(fake)
    comparison = await client.compare([A, B, C], "Say hi", blind=True, tags=["Code", "code", " "])
    await comparison.wait(timeout=20)
    assert comparison.blind and comparison.hidden
    assert sorted(comparison.letters) == ["A", "B", "C"] and comparison.tags == ["code"]
    shown = comparison.to_dict()
    assert shown["models"] is None and "lab/" not in str(shown)
    assert [p["letter"] for p in shown["panes"]] == ["A", "B", "C"]  # shown in letter order
    assert [comparison.name_of(p) for p in comparison.shown_order] == ["A", "B", "C"]
    assert all(
        set(p["stats"]) <= {"ttft", "duration", "tokens_per_second", "queued"}
        for p in shown["panes"]
    )
    assert all("index" not in p for p in shown["panes"])
    assert {p["answer"] for p in shown["panes"]} == {
        "mini says hi",
        "slow says hi",
        "third says hi",
    }

    slow_letter = comparison.letters[1]
    vote = await client.vote(comparison.group_id, winner=slow_letter)
    assert vote.verdict == "ranked" and vote.ranking == [[1]] and vote.turn == 1
    assert vote.record["prompt"] == "Say hi" and vote.record["blind"] is True
    assert [p["model"] for p in vote.record["panes"]] == [A, B, C]
    assert vote.record["panes"][1]["reply"] == "slow says hi"
    assert not comparison.hidden  # revealed
    assert comparison.name_of(comparison.panes[1]) == f"{slow_letter} · {B}"
    assert comparison.to_dict()["models"] == [A, B, C]

    # changing the vote keeps one vote for that prompt, with its first time
    changed = await client.vote(comparison.group_id, tie=True)
    votes = await client.list_votes(comparison.group_id)
    assert len(votes) == 1 and votes[0].verdict == "tie" and votes[0].ranking == [[0, 1, 2]]
    assert changed.created_at == vote.created_at and changed.updated_at >= vote.updated_at

    # reopened from the store (a new process): still blind, revealed, tagged
    comparison.close()
    reopened = await client.open_comparison(comparison.group_id)
    assert reopened.letters == comparison.letters and not reopened.hidden
    assert reopened.tags == ["code"]


async def test_votes_by_model_and_the_leaderboard(client: CopilotClient, fake: FakeOpenAI) -> None:
    ids = []
    for _ in range(3):
        _answers(fake)
        comparison = await client.compare([A, B, C], "Which?", tags=["writing"] if ids else [])
        await comparison.wait(timeout=20)
        ids.append(comparison.group_id)
    assert [g.group_id for g in await client.unvoted_comparisons()] == ids  # oldest first

    await client.vote(ids[0], winner="gpt-4o-mini")  # the model as given to -m, provider implied
    await client.vote(ids[1], winner=A)
    await client.vote(ids[2], ranking=[["3"], ["slow"]])  # by number, then by model
    assert await client.unvoted_comparisons() == []

    board = await client.leaderboard(rounds=50)
    rows = {r.name: r for r in board.rows}
    assert board.votes == 3 and board.rows[0].name == A
    assert (rows[A].wins, rows[A].losses) == (4, 2)
    assert (rows[C].wins, rows[C].losses) == (2, 2)
    assert (rows[B].wins, rows[B].losses) == (1, 3)
    assert rows[A].ttft is not None and rows[A].low <= rows[A].strength <= rows[A].high
    assert (await client.leaderboard(tag="writing", rounds=10)).votes == 2

    await client.delete_comparison(ids[0], sessions=True)
    assert len(await client.list_votes()) == 2


async def test_bad_votes_are_one_sentence(client: CopilotClient, fake: FakeOpenAI) -> None:
    _answers(fake)
    comparison = await client.compare([A, B], "Hi")
    await comparison.wait(timeout=20)
    gid = comparison.group_id
    cases = [
        (dict(winner="nope"), "is not a pane of this comparison"),
        (dict(winner="9"), "is not a pane"),
        (dict(winner=A, tie=True), "Give one verdict"),
        (dict(), "Give one verdict"),
        (dict(ranking=[[A], [A]]), "named twice"),
        (dict(winner=A, turn=2), "Prompt 2 does not exist"),
    ]
    for kwargs, words in cases:
        with pytest.raises(InvalidVote, match=words):
            await client.vote(gid, **kwargs)
    with pytest.raises(InvalidVote, match="No comparison with id"):
        await client.vote("nothing", tie=True)
    with pytest.raises(InvalidComparison, match="longer than 40"):
        await client.compare([A, B], "Hi", tags=["x" * 41])
    assert await client.list_votes() == []


async def test_no_vote_while_a_pane_is_answering(client: CopilotClient, fake: FakeOpenAI) -> None:
    fake.script("gpt-4o-mini", Script(text="quick"))
    fake.script("slow", Script(text="slow " * 50, first_delay=0.1, delay=0.05))
    comparison = await client.compare([A, B], "Hi")
    with pytest.raises(InvalidVote, match="Wait until every pane has finished"):
        await client.vote(comparison.group_id, winner=A)
    await comparison.wait(timeout=20)
    await client.vote(comparison.group_id, all_bad=True)
    assert (await client.list_votes())[0].verdict == "all_bad"
    assert await client.tag_comparison(comparison.group_id, ["Later", "later"]) == ["later"]
    assert comparison.tags == ["later"]
