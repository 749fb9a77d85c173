"""Blind comparisons from the shell, votes, the queue, the leaderboard and the export."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.servers.openai_server import FakeOpenAI

MODELS = ["-m", "lab/gpt-4o-mini", "-m", "lab/demo", "-m", "lab/other"]


def test_blind_batch_vote_and_leaderboard(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, tmp_path: Path
) -> None:
    r = run(
        config_path, data_dir, "compare", "--blind", "--tag", "code", *MODELS, "Say hi", "--json"
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["blind"] and doc["models"] is None and "lab/" not in r.stdout
    assert [p["letter"] for p in doc["panes"]] == ["A", "B", "C"]
    first = doc["group_id"]

    prompts = tmp_path / "prompts.txt"
    prompts.write_text(
        'What is 2+2?\n# skipped\n\n{"prompt": "Name a colour", "tags": ["writing"]}\n'
    )
    r = run(config_path, data_dir, "compare", "--blind", "--prompts", str(prompts), *MODELS)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["LINE", "COMPARISON", "ANSWERED", "TITLE"]
    assert [ln.split()[0] for ln in lines[2:]] == ["1", "4"] and "3/3" in lines[2]
    assert "lab/" not in r.stdout

    r = run(config_path, data_dir, "votes", "queue", "--json")
    queue = json.loads(r.stdout)
    assert [q["id"] for q in queue][0] == first and len(queue) == 3
    assert [q["tags"] for q in queue] == [["code"], [], ["writing"]]

    r = run(config_path, data_dir, "vote", first, "--winner", "b")  # a letter, any case
    assert r.returncode == 0, r.stderr
    assert "Vote recorded on prompt 1" in r.stdout and "lab/" in r.stdout  # revealed
    for gid in (q["id"] for q in queue[1:]):
        r = run(config_path, data_dir, "vote", gid, "--rank", "lab/gpt-4o-mini,lab/demo=lab/other")
        assert r.returncode == 0, r.stderr

    r = run(config_path, data_dir, "vote", first, "--winner", "Z")
    assert (
        r.returncode == 2
        and "'Z' is not a pane of this comparison; its panes are A, B, C." in r.stderr
    )
    assert "Traceback" not in r.stderr and r.stdout == ""
    r = run(config_path, data_dir, "vote", first, "--rank", "A,,B")
    assert r.returncode == 2 and "list panes best first" in r.stderr

    r = run(config_path, data_dir, "leaderboard", "--json")
    board = json.loads(r.stdout)
    assert board["votes"] == 3
    rows = {row["model"]: row for row in board["rows"]}
    assert rows["lab/gpt-4o-mini"]["wins"] >= 4 and board["rows"][0]["model"] == "lab/gpt-4o-mini"
    assert all(row["interval"][0] <= row["strength"] <= row["interval"][1] for row in board["rows"])
    r = run(config_path, data_dir, "leaderboard", "--tag", "writing")
    assert r.returncode == 0 and "1 vote tagged 'writing'" in r.stdout

    out = tmp_path / "votes.jsonl"
    r = run(config_path, data_dir, "votes", "export", "-o", str(out))
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and records[0]["comparison"] == first
    assert records[0]["prompt"] == "Say hi" and len(records[0]["panes"]) == 3


def test_a_bad_prompt_file_runs_nothing(
    config_path: Path, data_dir: Path, fake: FakeOpenAI, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"prompt": 3}\n')
    r = run(config_path, data_dir, "compare", "--prompts", str(bad), *MODELS)
    assert r.returncode == 2
    assert r.stderr.strip().endswith('line 2: needs a non-empty "prompt" string.')
    assert fake.requests_for("gpt-4o-mini") == []
    r = run(config_path, data_dir, "leaderboard")
    assert r.returncode == 0 and r.stdout.startswith("No votes yet.")
