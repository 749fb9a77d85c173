"""``copilot-tui compare --prompts FILE``: many prompts, each its own comparison, a few at once."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field

from ..service import CopilotClient
from ..service.agent import PermissionHandler
from ..service.compare import MAX_PANES, Comparison, InvalidComparison, PaneSpec
from . import permissions
from .common import EXIT_ERROR, EXIT_OK, UsageError, error, safe_writer, table

MAX_PROMPTS = 10_000


@dataclass(slots=True)
class BatchPrompt:
    line: int
    prompt: str
    title: str | None = None
    system: str | None = None
    tags: list[str] = field(default_factory=list)


def parse_prompts(text: str, source: str) -> list[BatchPrompt]:
    """One prompt per line, or JSON Lines objects with ``prompt`` (and optional ``title``,
    ``system``, ``tags``). Blank lines and lines starting with ``#`` are skipped. Every line is
    checked before anything runs, so a typo on line 30 costs nothing."""
    out: list[BatchPrompt] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("{"):
            out.append(BatchPrompt(number, line))
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source}, line {number}: not valid JSON ({exc.msg}).") from None
        except ValueError:
            raise UsageError(f"{source}, line {number}: not valid JSON.") from None
        prompt = data.get("prompt") if isinstance(data, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            raise UsageError(f'{source}, line {number}: needs a non-empty "prompt" string.')
        tags = data.get("tags", [])
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise UsageError(f'{source}, line {number}: "tags" must be a list of strings.')
        title, system = data.get("title"), data.get("system")
        for key, value in (("title", title), ("system", system)):
            if value is not None and not isinstance(value, str):
                raise UsageError(f'{source}, line {number}: "{key}" must be a string.')
        out.append(BatchPrompt(number, prompt, title, system, tags))
    if not out:
        raise UsageError(f"{source} has no prompts.")
    if len(out) > MAX_PROMPTS:
        raise UsageError(f"{source} has {len(out)} prompts; at most {MAX_PROMPTS} at a time.")
    return out


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(64 * 1024 * 1024)
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from None


async def run_batch(
    client: CopilotClient,
    args: argparse.Namespace,
    specs: list[PaneSpec],
    ask: PermissionHandler | None = None,
) -> int:
    if not 1 <= args.jobs <= MAX_PANES:
        raise UsageError(f"--jobs must be between 1 and {MAX_PANES}.")
    prompts = parse_prompts(_read(args.prompts), "stdin" if args.prompts == "-" else args.prompts)
    slots = asyncio.Semaphore(args.jobs)
    done: dict[int, Comparison] = {}
    failed: dict[int, str] = {}
    running: set[Comparison] = set()
    progress = sys.stderr.isatty()

    async def one(item: BatchPrompt) -> None:
        async with slots:
            try:
                comparison = await client.compare(
                    specs,
                    item.prompt,
                    system_message=item.system or args.system,
                    title=item.title or args.title,
                    max_tokens=args.max_tokens,
                    blind=args.blind,
                    tags=[*args.tags, *item.tags],
                    mode=permissions.mode_of(args),
                    cwd=args.cwd,
                    on_permission_request=ask,
                )
            except InvalidComparison as exc:
                failed[item.line] = str(exc)
                return
            running.add(comparison)
            try:
                await comparison.wait()
            finally:
                running.discard(comparison)
                comparison.close()
            done[item.line] = comparison
            if progress:
                print(f"[{len(done) + len(failed)}/{len(prompts)}]", file=sys.stderr, flush=True)

    # the first prompt alone: a wrong model is one message, not one per prompt
    tasks: list[asyncio.Task[None]] = []
    try:
        await one(prompts[0])
        if prompts[0].line in failed:
            raise UsageError(failed[prompts[0].line])
        tasks = [asyncio.create_task(one(item)) for item in prompts[1:]]
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        for comparison in list(running):
            await comparison.abort_all()
        raise

    write = safe_writer(sys.stdout)
    if args.json:
        docs = [
            {"line": item.line, **done[item.line].to_dict()}
            if item.line in done
            else {"line": item.line, "error": failed[item.line]}
            for item in prompts
        ]
        write(json.dumps(docs, indent=2) + "\n")
    else:
        rows = []
        for item in prompts:
            c = done.get(item.line)
            if c is None:
                rows.append([str(item.line), "-", "failed", failed[item.line]])
            else:
                answered = f"{len(c.answered)}/{len(c.panes)}"
                rows.append([str(item.line), c.group_id, answered, c.title])
        write(table(rows, ["LINE", "COMPARISON", "ANSWERED", "TITLE"]) + "\n")
        if args.blind:
            print(
                "vote on each in the TUI (f9: the leaderboard lists those waiting for a vote) or with "
                "copilot-tui vote ID --winner LETTER",
                file=sys.stderr,
            )
    if failed:
        error(f"{len(failed)} of {len(prompts)} prompts could not be compared")
        return EXIT_ERROR
    return EXIT_OK
