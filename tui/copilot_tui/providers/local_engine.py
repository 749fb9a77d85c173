"""The local model engine: a child process that owns one llama.cpp model.

The app runs this file as a script, ``python local_engine.py MODEL.gguf --n-ctx N --threads T``,
so a native crash in llama.cpp ends this process and never the app. It depends on nothing but
the standard library and llama-cpp-python, so any interpreter with that package can run it.

One JSON object per line on stdin (commands) and stdout (events)::

    -> {"op": "generate", "id": "1", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 256}
    -> {"op": "cancel", "id": "1"}
    <- {"ev": "ready", "n_ctx": 4096, "n_ctx_train": 8192, "load_seconds": 0.1}
    <- {"ev": "text", "id": "1", "text": "Hel"}
    <- {"ev": "done", "id": "1", "finish_reason": "stop", "prompt_tokens": 31, "completion_tokens": 9}
    <- {"ev": "error", "id": "1", "kind": "context", "message": "...", "prompt_tokens": 5000, "n_ctx": 4096}

Generations run one at a time, in order: one ``Llama`` object must never run two at once. A
cancel is checked between tokens. End of stdin cancels the running generation and exits.
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
import re  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any, TextIO  # noqa: E402

_OVERFLOW = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


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


def load(args: argparse.Namespace, chan: Channel) -> Any:
    """Import llama-cpp-python and load the model; report and return None on failure."""
    try:
        from llama_cpp import Llama
    except ModuleNotFoundError as exc:
        chan.send("error", kind="missing_package", message=str(exc))
        return None
    except Exception as exc:  # the package is there but its native library is not loadable
        chan.send("error", kind="broken_package", message=f"{type(exc).__name__}: {exc}")
        return None
    started = time.monotonic()
    try:
        llm = Llama(
            model_path=args.model,
            n_ctx=args.n_ctx,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            verbose=False,
        )
    except Exception as exc:
        chan.send("error", kind="load", message=str(exc) or type(exc).__name__)
        return None
    chan.send(
        "ready",
        n_ctx=llm.n_ctx(),
        n_ctx_train=trained_context(llm),
        load_seconds=round(time.monotonic() - started, 3),
        pid=os.getpid(),
    )
    return llm


def trained_context(llm: Any) -> int | None:
    """The context length the model was trained with, from its metadata."""
    meta = getattr(llm, "metadata", None) or {}
    value = meta.get(f"{meta.get('general.architecture')}.context_length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Counter:
    """Wraps ``Llama.generate`` (which every completion calls with the prompt's tokens) to count
    prompt and reply tokens, which the stream does not report, and to stop between tokens."""

    def __init__(self, llm: Any, stop: Any) -> None:
        self.prompt: int | None = None
        self.sampled = 0
        self.last: int | None = None
        self._generate = llm.generate
        self._stop = stop

    def __call__(self, tokens: Any, *args: Any, **kwargs: Any) -> Any:
        self.prompt = len(tokens)
        for token in self._generate(tokens, *args, **kwargs):
            self.sampled += 1
            self.last = token
            yield token
            if self._stop():
                return


def generate(llm: Any, job: dict[str, Any], chan: Channel, cmds: Commands) -> None:
    """Stream one chat completion; stop between tokens when cancelled."""
    rid = str(job.get("id"))
    if cmds.cancelled(rid):
        chan.send("done", id=rid, finish_reason="cancelled", prompt_tokens=None, completion_tokens=0)
        return
    counter = Counter(llm, lambda: cmds.cancelled(rid))
    llm.generate = counter
    parts: list[str] = []
    finish: str | None = None
    stream = None
    try:
        stream = llm.create_chat_completion(
            messages=job.get("messages") or [],
            max_tokens=int(job.get("max_tokens") or 512),
            stream=True,
        )
        for chunk in stream:
            choice = (chunk.get("choices") or [{}])[0]
            text = (choice.get("delta") or {}).get("content")
            if text:
                parts.append(text)
                chan.send("text", id=rid, text=text)
            finish = choice.get("finish_reason") or finish
            if cmds.cancelled(rid):
                break
    except ValueError as exc:
        match = _OVERFLOW.search(str(exc))
        if match:
            chan.send(
                "error", id=rid, kind="context", message=str(exc),
                prompt_tokens=int(match.group(1)), n_ctx=int(match.group(2)),
            )
        else:
            chan.send("error", id=rid, kind="generation", message=str(exc))
        return
    except Exception as exc:
        chan.send("error", id=rid, kind="generation", message=f"{type(exc).__name__}: {exc}")
        return
    finally:
        if stream is not None:
            stream.close()
        del llm.generate
    if cmds.cancelled(rid):
        finish = "cancelled"
    if counter.sampled:
        completion = counter.sampled - (counter.last == llm.token_eos())
    else:  # a llama-cpp-python that no longer goes through generate(): count the text
        text = "".join(parts)
        completion = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0
    chan.send(
        "done", id=rid, finish_reason=finish or "stop",
        prompt_tokens=counter.prompt, completion_tokens=completion,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one GGUF model, driven by JSON lines.")
    parser.add_argument("model")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C belongs to the app, which stops us
    chan = Channel()
    cmds = Commands(sys.stdin)
    threading.Thread(target=cmds.run, name="commands", daemon=True).start()
    llm = load(args, chan)
    if llm is None:
        return 2
    while (job := cmds.jobs.get()) is not None:
        generate(llm, job, chan, cmds)
        cmds.forget(str(job.get("id")))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skip native finalizers: they have nothing to save and can crash at exit
