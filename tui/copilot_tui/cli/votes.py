"""``copilot-tui vote``, ``leaderboard`` and ``votes``: verdicts on comparisons and what they add up to."""

from __future__ import annotations

import argparse
import json
import sys

from ..service import CopilotClient
from ..service.votes import BY, InvalidVote, Leaderboard, export_line, parse_ranking
from .common import EXIT_OK, UsageError, run_with_client, safe_writer, table, write_file


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser(
        "vote",
        help="record or change your verdict on a comparison",
        description="Record or change your verdict on a comparison's latest prompt (or --prompt N). "
        "Name panes by letter (blind comparisons), by number, or by model as given to -m.",
    )
    v.add_argument("id", metavar="COMPARISON_ID")
    verdict = v.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--winner", metavar="PANE", help="the best answer")
    verdict.add_argument(
        "--rank",
        metavar="PANES",
        help="a ranking, best first: 'B,A,C'; '=' ties panes in one place: 'B=A,C'",
    )
    verdict.add_argument("--tie", action="store_true", help="all answers equally good")
    verdict.add_argument("--all-bad", action="store_true", help="no answer was good")
    v.add_argument(
        "--prompt", type=int, metavar="N", help="vote on the Nth prompt (default: latest)"
    )
    v.set_defaults(handler=lambda a: run_with_client(_vote, a))

    lb = sub.add_parser("leaderboard", help="which models (or prompts) won your votes")
    lb.add_argument("--tag", metavar="TAG", help="only comparisons with this tag")
    lb.add_argument(
        "--by",
        choices=BY,
        default="model",
        help="rank models, or each model with its system message (prompt A/B tests)",
    )
    lb.add_argument("--json", action="store_true", help="machine-readable output")
    lb.set_defaults(handler=lambda a: run_with_client(_leaderboard, a))

    vs = sub.add_parser("votes", help="export votes, or list comparisons waiting for a vote")
    vs_sub = vs.add_subparsers(
        dest="action", metavar="ACTION", parser_class=type(vs), required=True
    )
    ex = vs_sub.add_parser("export", help="every vote as JSON Lines")
    ex.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    ex.set_defaults(handler=lambda a: run_with_client(_export, a))
    q = vs_sub.add_parser("queue", help="comparisons nobody has voted on yet, oldest first")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(handler=lambda a: run_with_client(_queue, a))


def _tiers(text: str) -> list[list[str]]:
    tiers = parse_ranking(text)
    if tiers is None:
        raise UsageError(f"--rank {text!r}: list panes best first, e.g. 'B,A,C' or 'B=A,C'.")
    return tiers


async def _vote(client: CopilotClient, args: argparse.Namespace) -> int:
    ranking = _tiers(args.rank) if args.rank is not None else None
    try:
        vote = await client.vote(
            args.id,
            winner=args.winner,
            ranking=ranking,
            tie=args.tie,
            all_bad=args.all_bad,
            turn=args.prompt,
        )
    except InvalidVote as exc:
        raise UsageError(str(exc)) from None
    panes = vote.record["panes"]
    placed = {i: place for place, tier in enumerate(vote.ranking, 1) for i in tier}
    verdict = {"tie": "a tie", "all_bad": "all bad"}.get(vote.verdict, "ranked")
    print(f"Vote recorded on prompt {vote.turn} of {args.id}: {verdict}.")
    rows = []
    for i in sorted(range(len(panes)), key=lambda i: (placed.get(i, 99), panes[i]["letter"])):
        p = panes[i]
        system = " ".join((p.get("system_message") or "").split())
        place = "" if vote.verdict != "ranked" else str(placed.get(i, "-"))
        rows.append([p["letter"], p["model"] + (f" ({system[:30]})" if system else ""), place])
    print(table(rows, ["PANE", "MODEL", "PLACE"]))
    return EXIT_OK


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def render_leaderboard(board: Leaderboard) -> str:
    if not board.rows:
        where = f" on comparisons tagged {board.tag!r}" if board.tag else ""
        return (
            f"No votes yet{where}. Compare models (copilot-tui compare), then vote on the answers."
        )
    rows = [
        [
            str(n),
            r.name,
            f"{r.strength:.0f}",
            f"{r.low:.0f}..{r.high:.0f}",
            f"{r.wins}/{r.losses}/{r.ties}",
            _number(None if r.win_rate is None else r.win_rate * 100, ".0f") + "%",
            str(r.votes),
            _number(r.ttft, ".2f") + (" s" if r.ttft is not None else ""),
            _number(r.tokens_per_second, ".1f"),
        ]
        for n, r in enumerate(board.rows, 1)
    ]
    head = ["#", "PROMPT" if board.by == "prompt" else "MODEL", "STRENGTH", "95% INTERVAL"]
    head += ["W/L/T", "WIN RATE", "VOTES", "FIRST TOKEN", "TOKENS/S"]
    note = f"{board.votes} vote{'s' if board.votes != 1 else ''}"
    note += f" tagged {board.tag!r}" if board.tag else ""
    return table(rows, head) + f"\n{note}; strength on the Elo scale (1000 = even)"


async def _leaderboard(client: CopilotClient, args: argparse.Namespace) -> int:
    tag = " ".join(args.tag.split()).lower() if args.tag else None
    board = await client.leaderboard(by=args.by, tag=tag)
    write = safe_writer(sys.stdout)
    write(
        json.dumps(board.to_dict(), indent=2) + "\n"
        if args.json
        else render_leaderboard(board) + "\n"
    )
    return EXIT_OK


async def _export(client: CopilotClient, args: argparse.Namespace) -> int:
    lines = "".join(
        json.dumps(export_line(v), ensure_ascii=False) + "\n" for v in await client.list_votes()
    )
    if args.output:
        write_file(args.output, lines)
    else:
        safe_writer(sys.stdout)(lines)
    return EXIT_OK


async def _queue(client: CopilotClient, args: argparse.Namespace) -> int:
    groups = await client.unvoted_comparisons()
    write = safe_writer(sys.stdout)
    if args.json:
        docs = [
            {"id": g.group_id, "title": g.title, "blind": bool(g.letters), "tags": g.tags}
            for g in groups
        ]
        write(json.dumps(docs, indent=2) + "\n")
        return EXIT_OK
    if not groups:
        write("No comparison is waiting for a vote.\n")
        return EXIT_OK
    rows = [[g.group_id, "blind" if g.letters else "", ",".join(g.tags), g.title] for g in groups]
    write(table(rows, ["COMPARISON", "MODE", "TAGS", "TITLE"]) + "\n")
    return EXIT_OK
