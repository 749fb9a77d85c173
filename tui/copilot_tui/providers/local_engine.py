"""The local model engine: a child process that owns one llama.cpp model.

The app runs this file as a script, ``python local_engine.py MODEL.gguf --n-ctx N --threads T``,
so a native crash in llama.cpp ends this process and never the app. It depends on nothing but
the standard library and ``xllamacpp`` (llama.cpp's server, prebuilt), so any interpreter with
that package can run it.

One JSON object per line on stdin (commands) and stdout (events)::

    -> {"op": "generate", "id": "1", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 256}
    -> {"op": "cancel", "id": "1"}
    <- {"ev": "ready", "n_ctx": 4096, "load_seconds": 0.1, "pid": 123}
    <- {"ev": "text", "id": "1", "text": "Hel"}
    <- {"ev": "done", "id": "1", "finish_reason": "stop", "prompt_tokens": 31, "completion_tokens": 9}
    <- {"ev": "error", "id": "1", "kind": "context", "message": "...", "prompt_tokens": 5000, "n_ctx": 4096}

Generations run one at a time, in order. A cancel is checked at every streamed token. End of
stdin cancels the running generation and exits.
"""

from __future__ import annotations

import os
import sys

# Run as a script, Python puts this file's folder first on sys.path, where http.py would
# shadow the standard library's http package.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any, TextIO  # noqa: E402


class Channel:
    """Events out on a private copy of stdout, so anything native code prints cannot corrupt them."""

    def __init__(self) -> None:
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._out = os.fdopen(fd, "w", encoding="utf-8")
        self._lock = threading.Lock()

    def send(self, ev: str, **data: Any) -> None:
        line = json.dumps({"ev": ev, **data}, ensure_ascii=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


class Commands:
    """Reads stdin in a thread so a cancel arrives while a generation runs."""

    def __init__(self, stream: TextIO) -> None:
        self.jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.closed = threading.Event()
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._stream = stream

    def run(self) -> None:
        for line in self._stream:
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            if not isinstance(cmd, dict):
                continue
            op = cmd.get("op")
            if op == "generate":
                self.jobs.put(cmd)
            elif op == "cancel":
                with self._lock:
                    self._cancelled.add(str(cmd.get("id")))
            elif op == "shutdown":
                break
        self.closed.set()
        self.jobs.put(None)

    def cancelled(self, rid: str) -> bool:
        if self.closed.is_set():
            return True
        with self._lock:
            return rid in self._cancelled

    def forget(self, rid: str) -> None:
        with self._lock:
            self._cancelled.discard(rid)


class Listener:
    """Where xllamacpp's built-in HTTP server listens, made unreachable.

    Creating a ``Server`` always opens an HTTP listener too. It gets a Unix socket in a
    directory only this user can enter, a random API key, and once the model is loaded the
    socket's name is removed, so no other process can connect to it at all; the engine itself
    calls the server in-process.
    """

    def __init__(self) -> None:
        self.key = secrets.token_urlsafe(32)
        self.folder = tempfile.mkdtemp(prefix="copilot-tui-engine-")
        self.path = os.path.join(self.folder, "http.sock")
        if len(self.path.encode()) > 100:  # over a Unix socket name's limit: a short private folder
            os.rmdir(self.folder)
            self.folder = tempfile.mkdtemp(prefix="ctui-", dir="/tmp")
            self.path = os.path.join(self.folder, "s")

    def close(self) -> None:
        for remove, path in ((os.unlink, self.path), (os.rmdir, self.folder)):
            try:
                remove(path)
            except OSError:
                pass


def load(args: argparse.Namespace, chan: Channel) -> Any:
    """Import xllamacpp and load the model; report and return None on failure."""
    try:
        import xllamacpp
    except ModuleNotFoundError as exc:
        chan.send("error", kind="missing_package", message=str(exc))
        return None
    except Exception as exc:  # the package is there but its native library is not loadable
        chan.send("error", kind="broken_package", message=f"{type(exc).__name__}: {exc}")
        return None
    started = time.monotonic()
    listener = Listener()
    try:
        params = xllamacpp.CommonParams()
        params.model.path = args.model
        params.n_ctx = args.n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
        params.warmup = False
        params.verbosity = -1
        params.hostnames = [listener.path]
        params.api_keys = [listener.key]
        server = xllamacpp.Server(params)
    except Exception as exc:
        chan.send("error", kind="load", message=str(exc) or type(exc).__name__)
        return None
    finally:
        listener.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # llama.cpp installed its own handler
    chan.send(
        "ready",
        n_ctx=args.n_ctx,
        load_seconds=round(time.monotonic() - started, 3),
        pid=os.getpid(),
    )
    return server


class Reply:
    """Turns the server's OpenAI-style chunks into events, and says when to stop."""

    def __init__(self, rid: str, chan: Channel, cmds: Commands) -> None:
        self.rid = rid
        self.chan = chan
        self.cmds = cmds
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self.pieces = 0
        self.error: dict[str, Any] | None = None

    def __call__(self, chunk: Any) -> bool:
        if isinstance(chunk, (str, bytes)):
            try:
                chunk = json.loads(chunk)
            except ValueError:
                return self.cmds.cancelled(self.rid)
        if not isinstance(chunk, dict):
            return self.cmds.cancelled(self.rid)
        if isinstance(chunk.get("error"), dict):
            self.error = chunk["error"]
            return True
        for choice in chunk.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                self.pieces += 1
                self.chan.send("text", id=self.rid, text=text)
            self.finish = choice.get("finish_reason") or self.finish
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        return self.cmds.cancelled(self.rid)


def generate(server: Any, job: dict[str, Any], chan: Channel, cmds: Commands) -> None:
    """Stream one chat completion; stop at the next token when cancelled."""
    rid = str(job.get("id"))
    if cmds.cancelled(rid):
        chan.send(
            "done", id=rid, finish_reason="cancelled", prompt_tokens=None, completion_tokens=0
        )
        return
    reply = Reply(rid, chan, cmds)
    body = {
        "messages": job.get("messages") or [],
        "max_tokens": int(job.get("max_tokens") or 512),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for key in ("temperature", "top_p", "seed"):  # llama.cpp's server takes OpenAI's names
        if isinstance(job.get(key), (int, float)):
            body[key] = job[key]
    try:
        server.handle_chat_completions(body, reply)
    except Exception as exc:
        chan.send("error", id=rid, kind="generation", message=f"{type(exc).__name__}: {exc}")
        return
    if reply.error is not None:
        err = reply.error
        if err.get("type") == "exceed_context_size_error":
            chan.send(
                "error",
                id=rid,
                kind="context",
                message=str(err.get("message") or ""),
                prompt_tokens=err.get("n_prompt_tokens"),
                n_ctx=err.get("n_ctx"),
            )
        else:
            chan.send("error", id=rid, kind="generation", message=str(err.get("message") or err))
        return
    cancelled = cmds.cancelled(rid)
    chan.send(
        "done",
        id=rid,
        finish_reason="cancelled" if cancelled else reply.finish or "stop",
        prompt_tokens=reply.usage.get("prompt_tokens"),
        completion_tokens=reply.usage.get("completion_tokens", reply.pieces),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one GGUF model, driven by JSON lines.")
    parser.add_argument("model")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C belongs to the app, which stops us
    chan = Channel()
    cmds = Commands(sys.stdin)
    threading.Thread(target=cmds.run, name="commands", daemon=True).start()
    server = load(args, chan)
    if server is None:
        return 2
    while (job := cmds.jobs.get()) is not None:
        generate(server, job, chan, cmds)
        cmds.forget(str(job.get("id")))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skip native finalizers: they have nothing to save and can crash at exit
