"""The embedded server's runtime: a virtual environment in the cache folder holding the
``cyllama`` wheel (llama.cpp compiled for linux x86_64, no dependencies), and the server
process started from it on loopback.

Why cyllama in its own environment: PyPI has no binary wheel of llama-cpp-python (building
it takes ~12 minutes on 2 cores); of the packages that ship llama.cpp compiled, cyllama's
wheel installs in about a second and runs this model (docs/llm.md has what was tried). Its
own environment keeps its pins away from the project's, and the server script
(``openai_server.py``) needs nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from agentgym.llm.embedded.model import DEFAULT_MODEL, EmbeddedModel, llm_cache_dir, pull

RUNTIME_REQUIREMENT = "cyllama==0.2.18"
"""The measured version: its Python server API (``cyllama.api.LLM``) changed in later ones."""
SERVER_SCRIPT = Path(__file__).with_name("openai_server.py")
REQUEST_TIMEOUT_S = 1800
"""Seconds the client waits for one request: 3 choices of ~150 tokens took 150 s at
2-3 tokens/s with the machine's load at 10-20."""


def runtime_dir(cache: Path | None = None) -> Path:
    return (cache or llm_cache_dir()) / f"runtime-{RUNTIME_REQUIREMENT.replace('==', '-')}"


def runtime_python(cache: Path | None = None) -> Path:
    return runtime_dir(cache) / "bin" / "python"


def ensure_runtime(
    cache: Path | None = None, *, on_progress: Callable[[str], None] | None = None
) -> Path:
    """Create the server's environment once (``python -m venv`` + ``pip install`` of a
    binary wheel, never a source build); returns its python."""
    root = runtime_dir(cache)
    python = runtime_python(cache)
    done = root / ".installed"
    if done.is_file() and python.is_file():
        return python
    say = on_progress or (lambda step: None)
    say(f"creating {root}")
    _run([sys.executable, "-m", "venv", "--clear", str(root)], "python -m venv")
    say(f"installing {RUNTIME_REQUIREMENT} (binary wheel)")
    _run(
        [str(python), "-m", "pip", "install", "-q", "--only-binary=:all:", RUNTIME_REQUIREMENT],
        f"pip install {RUNTIME_REQUIREMENT}",
    )
    done.write_text(RUNTIME_REQUIREMENT + "\n")
    return python


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")


class EmbeddedServer:
    """The OpenAI-compatible server over a GGUF file, as a child process on loopback.

    ``start`` returns the base URL once ``/v1/models`` answers; ``stop`` (or leaving the
    ``with`` block) ends the process. ``on_reply(tokens, seconds, prompt_tokens)`` is called
    for every generated choice (seconds include reading the prompt). The server's stderr (llama.cpp's log) goes to ``log_path``.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        name: str = DEFAULT_MODEL.name,
        python: Path | None = None,
        port: int = 0,
        n_ctx: int = 8192,
        log_path: Path | None = None,
        on_reply: Callable[[int, float, int], None] | None = None,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in [0, 65535] (0: a free one), got {port}")
        self.model_path = Path(model_path)
        self.name = name
        self.python = python or runtime_python()
        self.port = port
        self.n_ctx = n_ctx
        self.log_path = log_path or llm_cache_dir() / "server.log"
        self.on_reply = on_reply
        self.process: subprocess.Popen[str] | None = None
        self.base_url: str | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def spec(self) -> str:
        """The agentgym LLM spec that reaches this server: one request at a time (it
        generates one at a time) and a timeout that outlasts a request for several
        choices on a busy 2-core CPU (the default 120 s made the client give up and ask
        again while the server was still busy with the first request)."""
        if self.base_url is None:
            raise RuntimeError("the server is not started")
        return f"openai:{self.name}@{self.base_url};timeout={REQUEST_TIMEOUT_S};concurrency=1"

    def start(self, timeout: float = 180.0) -> str:
        if not self.model_path.is_file():
            raise FileNotFoundError(
                f"model file {self.model_path} does not exist (agentgym llm pull)"
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        cmd = [str(self.python), str(SERVER_SCRIPT), "--model", str(self.model_path)]
        cmd += ["--name", self.name, "--port", str(self.port), "--n-ctx", str(self.n_ctx)]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
        )
        log.close()
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                code = self.process.poll()
                self.stop()
                why = f"exited with {code}" if code is not None else f"not ready in {timeout:.0f} s"
                raise RuntimeError(f"the LLM server {why}; its log:\n{self._log_tail()}")
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        with urllib.request.urlopen(f"{self.base_url}/models", timeout=30) as answer:
            json.load(answer)
        return self.base_url

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                event: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "ready":
                self.port = int(event["port"])
                self._ready.set()
            elif event.get("event") == "reply" and self.on_reply is not None:
                self.on_reply(
                    int(event["tokens"]), float(event["seconds"]), int(event["prompt_tokens"])
                )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.base_url = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_embedded(
    model: EmbeddedModel = DEFAULT_MODEL,
    cache: Path | None = None,
    *,
    port: int = 0,
    on_pull: Callable[[str, int, int], None] | None = None,
    on_runtime: Callable[[str], None] | None = None,
    on_reply: Callable[[int, float, int], None] | None = None,
) -> EmbeddedServer:
    """Pull the model and the runtime when missing, start the server; returns it started
    (the caller stops it)."""
    path = pull(model, cache, on_progress=on_pull)
    python = ensure_runtime(cache, on_progress=on_runtime)
    server = EmbeddedServer(
        path,
        name=model.name,
        python=python,
        port=port,
        log_path=(cache or llm_cache_dir()) / "server.log",
        on_reply=on_reply,
    )
    server.start()
    return server
