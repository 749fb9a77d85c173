"""``copilot-tui compare``: one prompt to several models at once, answers and a stats table."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from .. import events as ev
from ..service import CopilotClient
from ..service.agent import PermissionHandler
from ..service.compare import (
    COMPARE_DONE,
    MAX_PANES,
    MIN_PANES,
    PANE_UPDATED,
    CompareEvent,
    Comparison,
    InvalidComparison,
    Pane,
    PaneSpec,
)
from ..types import PermissionDecision, PermissionRequest
from . import permissions
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    UsageError,
    error,
    read_prompt,
    run_with_client,
    safe_writer,
    table,
)
from .compare_batch import run_batch

FASTEST = "*"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="send one prompt to several models at once and compare the answers",
        description=f"Send one prompt to {MIN_PANES} to {MAX_PANES} models at once; print each answer, then a stats table.",
    )
    p.add_argument(
        "-m",
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="PROVIDER/MODEL[::SYSTEM]",
        help=f"a model to compare; repeat it ({MIN_PANES} to {MAX_PANES} models). "
        "'::' gives that pane its own system message, e.g. -m 'local/smollm2::Answer in French'",
    )
    p.add_argument("--system", metavar="TEXT", help="system message for every model")
    p.add_argument(
        "--title", metavar="TEXT", help="title of the comparison (default: from the prompt)"
    )
    p.add_argument("--max-tokens", type=int, metavar="N", help="cap each reply's length")
    p.add_argument(
        "--blind",
        action="store_true",
        help="label the answers A, B, C... in random order and hide the models until you vote "
        "(copilot-tui vote ID --winner LETTER)",
    )
    p.add_argument(
        "--tag",
        dest="tags",
        action="append",
        default=[],
        metavar="TAG",
        help="tag the comparison (repeatable); the leaderboard can be filtered by tag",
    )
    p.add_argument(
        "--prompts",
        metavar="FILE",
        help="run every prompt of FILE (one per line, or JSON Lines with a 'prompt' field) "
        "as its own comparison; - reads standard input",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=2,
        metavar="N",
        help="with --prompts: comparisons running at once (default 2)",
    )
    permissions.add_arguments(p)
    p.add_argument("--json", action="store_true", help="print one machine-readable document")
    p.add_argument("prompt", nargs="?", help="the prompt, or - to read it from standard input")
    p.set_defaults(handler=lambda args: run_with_client(_compare, args))


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _tokens(pane: Pane) -> str:
    if pane.output_tokens is None or (not pane.output_tokens and not pane.answered):
        return "-"
    return f"~{pane.output_tokens}" if pane.tokens_estimated else str(pane.output_tokens)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def stats_table(comparison: Comparison) -> str:
    """The per-model table; the fastest first token and fastest total are starred."""
    fastest_ttft, fastest_total = comparison.fastest_ttft, comparison.fastest_total
    rows = []
    hidden = comparison.hidden
    agents = any(p.session.mode == "agent" for p in comparison.panes)
    for pane in comparison.shown_order:
        ttft = _seconds(pane.ttft)
        total = _seconds(pane.duration)
        if pane.index == fastest_ttft:
            ttft += f" {FASTEST}"
        if pane.index == fastest_total:
            total += f" {FASTEST}"
        row = [comparison.name_of(pane), pane.status, ttft, _tokens(pane)]
        row = row[:3] + ([] if hidden else row[3:]) + [_rate(pane.tokens_per_second), total]
        rows.append(row + ([str(pane.tool_calls)] if agents else []))
    headers = ["PANE" if hidden else "MODEL", "STATUS", "FIRST TOKEN"]
    headers += ([] if hidden else ["TOKENS"]) + ["TOKENS/S", "TOTAL"]
    headers += ["TOOL CALLS"] if agents else []
    text = table(rows, headers)
    if fastest_ttft is not None or fastest_total is not None:
        text += f"\n{FASTEST} fastest"
    return text


def _pane_spec(value: str) -> PaneSpec:
    """``MODEL`` or ``MODEL::SYSTEM``: the same model twice needs two different system messages."""
    model, sep, system = value.partition("::")
    return PaneSpec(model.strip(), system.strip() or None) if sep else PaneSpec(value.strip())


async def _compare(client: CopilotClient, args: argparse.Namespace) -> int:
    if not MIN_PANES <= len(args.models) <= MAX_PANES:
        raise UsageError(
            f"compare needs {MIN_PANES} to {MAX_PANES} models (-m MODEL, repeated); {len(args.models)} given."
        )
    if args.prompts is not None:
        if args.prompt is not None:
            raise UsageError("Give a prompt or --prompts FILE, not both.")
        return await run_batch(
            client, args, [_pane_spec(m) for m in args.models], one_question_at_a_time(args)
        )
    if args.prompt is None:
        raise UsageError("compare needs a prompt (or --prompts FILE).")
    prompt = read_prompt(args.prompt)
    try:
        comparison = await client.compare(
            [_pane_spec(m) for m in args.models],
            prompt,
            system_message=args.system,
            title=args.title,
            max_tokens=args.max_tokens,
            blind=args.blind,
            tags=args.tags,
            mode=permissions.mode_of(args),
            cwd=args.cwd,
            on_permission_request=one_question_at_a_time(args),
        )
    except InvalidComparison as exc:
        raise UsageError(str(exc)) from None

    changed = asyncio.Event()
    notes: set[tuple[int, str]] = set()
    progress = sys.stderr.isatty()

    def on_event(event: CompareEvent) -> None:
        if event.type in (ev.SESSION_IDLE, PANE_UPDATED, COMPARE_DONE):
            changed.set()
        elif (
            progress and event.type == ev.SESSION_STATUS and event.index is not None and event.event
        ):
            note = event.event.data.get("status")
            if note and (event.index, note) not in notes:
                notes.add((event.index, note))
                name = comparison.name_of(comparison.panes[event.index])
                print(f"[{name}: {note}]", file=sys.stderr, flush=True)

    comparison.on(on_event)
    write = safe_writer(sys.stdout)
    try:
        # answers appear in pane order, each as soon as it and the ones before it have ended
        for pane in comparison.shown_order:
            while pane.busy:
                changed.clear()
                await changed.wait()
            if not args.json:
                write(_answer(comparison, pane))
        await comparison.wait()
    except asyncio.CancelledError:
        await comparison.abort_all()
        raise
    finally:
        comparison.close()

    if args.json:
        write(json.dumps(comparison.to_dict(), indent=2) + "\n")
    else:
        write(stats_table(comparison) + "\n")
        print(f"comparison: {comparison.group_id}", file=sys.stderr)
        for pane in comparison.shown_order:
            if pane.session.cwd and not comparison.hidden:
                print(f"{comparison.name_of(pane)} worked in {pane.session.cwd}", file=sys.stderr)
        if comparison.blind:
            print(
                f"vote to see the models: copilot-tui vote {comparison.group_id} --winner LETTER "
                "(or --tie, --all-bad)",
                file=sys.stderr,
            )
    if not comparison.answered:
        error("no model answered")
        return EXIT_ERROR
    return EXIT_OK


def one_question_at_a_time(args: argparse.Namespace) -> PermissionHandler:
    """The terminal's permission handler, shared by every pane: one question at a time."""
    ask = permissions.terminal_handler(args, error)
    lock = asyncio.Lock()

    async def decide(request: PermissionRequest) -> PermissionDecision:
        async with lock:
            return await ask(request)

    return decide


def _answer(comparison: Comparison, pane: Pane) -> str:
    mark = "" if pane.status == "done" else f" ({pane.status})"
    name = comparison.name_of(pane)
    head = f"[{name}]" if comparison.hidden else f"[{pane.index + 1}] {name}"
    text = f"== {head}{mark} ==\n"
    if pane.text:
        text += pane.text.rstrip("\n") + "\n"
    if pane.error:
        text += f"error: {pane.error}\n"
    return text + "\n"
