"""``copilot-tui sessions``: list, show, rename, delete and export stored sessions."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..export import export_json, export_markdown
from ..service import CopilotClient
from ..text import one_line
from .common import EXIT_OK, UsageError, jsonable, run_with_client, safe_writer, table, write_file
from .send import stream_turn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sessions", help="list, show, rename, delete or export sessions")
    p.set_defaults(handler=lambda a: run_with_client(_list, a), json=False)  # no action: the list
    ss = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    ls = ss.add_parser("list", help="all sessions, most recent first")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=lambda a: run_with_client(_list, a))
    show = ss.add_parser("show", help="print a session's messages")
    show.add_argument("id")
    show.set_defaults(handler=lambda a: run_with_client(_show, a))
    ren = ss.add_parser("rename", help="set a session's title")
    ren.add_argument("id")
    ren.add_argument("title")
    ren.set_defaults(handler=lambda a: run_with_client(_rename, a))
    rm = ss.add_parser("delete", help="delete a session and its messages permanently")
    rm.add_argument("id")
    rm.set_defaults(handler=lambda a: run_with_client(_delete, a))
    ex = ss.add_parser("export", help="export a session as Markdown or JSON")
    ex.add_argument("id")
    ex.add_argument("--format", choices=("md", "json"), default="md")
    ex.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    ex.set_defaults(handler=lambda a: run_with_client(_export, a))
    rg = ss.add_parser(
        "regenerate", help="answer the last prompt again (the earlier reply stays a version)"
    )
    rg.add_argument("id")
    rg.add_argument("--max-tokens", type=int, metavar="N", help="cap the reply length")
    rg.set_defaults(handler=lambda a: run_with_client(_regenerate, a))
    fk = ss.add_parser("fork", help="copy a session (up to a message) into a new session")
    fk.add_argument("id")
    fk.add_argument("--at", type=int, metavar="N", help="keep the first N messages (default: all)")
    fk.add_argument("--model", metavar="PROVIDER/MODEL", help="the new session's model")
    fk.add_argument("--id", dest="new_id", metavar="NEW_ID", help="the new session's id")
    fk.set_defaults(handler=lambda a: run_with_client(_fork, a))


def _ago(ts: float) -> str:
    delta = max(0, time.time() - ts)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if delta >= size:
            return f"{int(delta // size)}{unit} ago"
    return "just now"


async def _list(client: CopilotClient, args: argparse.Namespace) -> int:
    infos = await client.list_sessions()
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2, default=jsonable))
        return EXIT_OK
    if not infos:
        print('No sessions yet. Start one with: copilot-tui send "Hello"')
        return EXIT_OK
    rows = [
        [
            i.session_id,
            one_line(i.title or "(untitled)", 50),
            i.model,
            i.mode,
            str(i.message_count),
            _ago(i.updated_at),
        ]
        for i in infos
    ]
    print(table(rows, ["ID", "TITLE", "MODEL", "MODE", "MESSAGES", "UPDATED"]))
    return EXIT_OK


async def _show(client: CopilotClient, args: argparse.Namespace) -> int:
    info = await client.get_session_info(args.id)
    session = await client.resume_session(args.id)
    write = safe_writer(sys.stdout)
    params = f" · {info.params.describe()}" if info.params.to_dict() else ""
    write(f"# {info.title or '(untitled)'}\n{info.session_id} · {info.model}{params}\n")
    if info.system_message:
        write(f"\n[system] {info.system_message}\n")
    for m in await session.get_messages():
        mark = "" if m.status == "complete" else f" ({m.status})"
        write(f"\n[{m.role}{mark}]\n{m.content}\n")
        if m.error:
            write(f"! {m.error}\n")
    others = await session.count_branches() - 1
    if others:
        write(f"\n({others} other branch{'es' if others > 1 else ''} not shown)\n")
    return EXIT_OK


async def _regenerate(client: CopilotClient, args: argparse.Namespace) -> int:
    session = await client.resume_session(args.id)
    return await stream_turn(session, lambda: session.regenerate(max_tokens=args.max_tokens))


async def _fork(client: CopilotClient, args: argparse.Namespace) -> int:
    await client.get_session_info(args.id)
    if args.at is not None and args.at < 0:
        raise UsageError(f"--at counts the messages to keep, from 0 (got {args.at}).")
    fork = await client.fork_session(
        args.id, at=args.at, model=args.model, new_session_id=args.new_id
    )
    kept = fork.info.message_count
    print(
        f"Forked {args.id} into {fork.session_id} ({kept} message{'s' if kept != 1 else ''}, {fork.model})."
    )
    return EXIT_OK


async def _rename(client: CopilotClient, args: argparse.Namespace) -> int:
    await client.get_session_info(args.id)
    if not args.title.strip():
        raise UsageError("The title is empty.")
    await client.rename_session(args.id, args.title)
    print(f"Renamed session {args.id} to {one_line(args.title, 80)!r}.")
    return EXIT_OK


async def _delete(client: CopilotClient, args: argparse.Namespace) -> int:
    await client.delete_session(args.id)
    print(f"Deleted session {args.id}.")
    return EXIT_OK


async def _export(client: CopilotClient, args: argparse.Namespace) -> int:
    info = await client.get_session_info(args.id)
    session = await client.resume_session(args.id)
    if args.format == "md":
        text = export_markdown(info, await session.get_messages())
    else:
        text = export_json(info, await session.get_messages(), await session.get_tree())
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)  # exports keep the text verbatim
    return EXIT_OK
