"""``copilot-tui send``: one prompt, the reply streamed to stdout."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from .. import events as ev
from ..errors import CopilotTuiError, SessionNotFound
from ..service import CopilotClient, Session
from ..service.attachments import read_attachments
from ..text import strip_controls
from ..types import SessionMode
from . import permissions
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    OutputError,
    UsageError,
    error,
    read_prompt,
    run_with_client,
    safe_writer,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send", help="send a prompt and stream the reply to stdout")
    p.add_argument(
        "--session", metavar="ID", help="session to continue (created if it does not exist)"
    )
    p.add_argument(
        "--model",
        metavar="PROVIDER/MODEL",
        help="model (default: the session's, else default_model)",
    )
    p.add_argument("--system", metavar="TEXT", help="system message for a new session")
    p.add_argument("--max-tokens", type=int, metavar="N", help="cap the reply length")
    p.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="PATH",
        help="send a file with the prompt: text or code as context, or an image (repeatable)",
    )
    p.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0-2")
    p.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling, 0-1")
    p.add_argument("--seed", type=int, metavar="N", help="seed, for repeatable replies")
    p.add_argument(
        "--context-size", type=int, metavar="N", help="a local model's context window (Ollama)"
    )
    permissions.add_arguments(p)
    p.add_argument("prompt", help="the prompt, or - to read it from standard input")
    p.set_defaults(handler=lambda args: run_with_client(_send, args))


async def _send(client: CopilotClient, args: argparse.Namespace) -> int:
    prompt = read_prompt(args.prompt)
    files = read_attachments(args.attach)  # a file that cannot go is said before anything runs
    created = False
    mode: SessionMode = permissions.mode_of(args)
    if args.session:
        try:
            session = await client.resume_session(args.session)
            if args.agent and session.mode != "agent":
                raise UsageError(
                    f"Session {args.session!r} is a chat; a session is made an agent when it "
                    "is created (use a new --session id with --agent)."
                )
            if args.model:
                await session.set_model(args.model)
        except SessionNotFound:
            session = await client.create_session(
                model=args.model,
                session_id=args.session,
                system_message=args.system,
                mode=mode,
                cwd=args.cwd,
            )
            created = True
            error(f"note: no session {args.session!r} yet, so it was created (on {session.model})")
    else:
        session = await client.create_session(
            model=args.model, system_message=args.system, mode=mode, cwd=args.cwd
        )
        created = True
    params = {
        "temperature": args.temperature,
        "top_p": args.top_p,
        "max_tokens": args.max_tokens,
        "seed": args.seed,
        "context_size": args.context_size,
    }
    if any(v is not None for v in params.values()):  # kept with the session for its next turns
        try:
            await session.set_params(**{k: v for k, v in params.items() if v is not None})
        except CopilotTuiError as exc:
            raise UsageError(str(exc)) from None
    session.on_permission_request = permissions.terminal_handler(args, error)
    return await stream_turn(
        session,
        lambda: session.send(prompt, max_tokens=args.max_tokens, attachments=files),
        new_id=session.session_id if created and not args.session else None,
    )


async def stream_turn(
    session: Session, start: Callable[[], Awaitable[str]], *, new_id: str | None = None
) -> int:
    """Run one turn (a send, a regenerate), its reply streamed to stdout; errors on stderr."""
    write = safe_writer(sys.stdout)
    done: asyncio.Future[ev.SessionEvent] = asyncio.get_running_loop().create_future()
    failures: list[str] = []
    tail = [""]  # the last character written; empty while nothing was
    notes: list[str] = []
    broken: list[OutputError] = []
    stopping: list[asyncio.Future[None]] = []

    def on_event(event: ev.SessionEvent) -> None:
        if event.type == ev.MESSAGE_DELTA:
            if broken:
                return
            try:
                write(event.data.delta_content)
            except OutputError as exc:  # stop the turn (its reply is saved) and say why once
                broken.append(exc)
                stopping.append(asyncio.ensure_future(session.abort()))
                return
            tail[0] = event.data.delta_content[-1:]
        elif event.type == ev.SESSION_STATUS and event.data.get("status") and sys.stderr.isatty():
            if event.data.status not in notes:
                notes.append(event.data.status)
                print(f"[{event.data.status}]", file=sys.stderr, flush=True)
        elif event.type == ev.TOOL_START and sys.stderr.isatty():
            tool = event.data.tool
            print(f"[{strip_controls(tool.title or tool.name)}]", file=sys.stderr, flush=True)
        elif event.type == ev.SESSION_ERROR:
            failures.append(event.data.message)
        elif event.type == ev.SESSION_IDLE and not done.done():
            done.set_result(event)

    session.on(on_event)
    await start()
    try:
        idle = await done
    except asyncio.CancelledError:
        await session.abort()
        raise
    if broken:
        raise broken[0]
    if tail[0] and tail[0] != "\n":
        write("\n")
    if new_id is not None:
        print(f"session: {new_id}", file=sys.stderr)
    if failures:
        error(failures[0])
        return EXIT_ERROR
    if idle.data.get("aborted"):
        error("the reply was aborted")
        return EXIT_ERROR
    return EXIT_OK
