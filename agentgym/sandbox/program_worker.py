"""A reward program served by a long-lived sandbox worker: batches in, rewards out.

``SandboxedReward`` is a ``RewardModel`` whose program never runs in this process. On
its first call it starts one confined worker (``agentgym.sandbox.worker.launch``: the
same bubblewrap, uid drop, scrubbed environment and limits as every worker) running
``serve``, which loads the program and then answers batches for the life of the model.
A batch costs one round trip over two pipes, not a worker start: the parent writes the
state variables and the action (never the env's reward or the success flag, which
programs may not read) as raw arrays; the worker answers the total and the named
terms as float32 arrays.

The answer pipe is one the program could name (``/proc/self/fd/N``), so each answer is
sealed with the run's channel key and carries the request's sequence number
(``agentgym.sandbox.channel`` frames): a forged or replayed answer ends the model with
``WORKER_ERROR`` instead of being believed. Term names and error messages pass through
``sanitize.clean`` before anything here keeps them.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentgym.rewards.base import RewardInput, RewardOutput
from agentgym.rewards.program import RewardProgramError
from agentgym.sandbox import channel
from agentgym.sandbox.codes import Code
from agentgym.sandbox.sanitize import clean
from agentgym.sandbox.worker import Launched, Limits, diagnose_exit, launch, tail_text

log = logging.getLogger(__name__)

NAME_CHARS = 80
DEFAULT_CALL_TIMEOUT_S = 60.0
TIMEOUT_VAR = "AGENTGYM_REWARD_TIMEOUT_S"
"""Seconds one batch may take in the worker (default 60): a program that hangs ends
training with TIMEOUT rather than stalling it."""
MESSAGE_CHARS = 500


class SandboxedRewardError(RewardProgramError):
    """The sandboxed program failed a batch, or its worker did; ``code`` says how."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


def serving_limits() -> Limits:
    """A serving worker lives as long as training: no CPU-time cap (the per-batch
    deadline bounds a runaway call), small files, one thread (batches are small)."""
    return Limits(
        memory_mb=4096,
        cpu_s=10_000_000,
        max_processes=32,
        file_size_mb=16,
        open_files=256,
        output_chars=100_000,
        threads=1,
    )


def _encode_request(seq: int, batch: RewardInput) -> tuple[dict[str, Any], bytes]:
    arrays: list[list[Any]] = []
    text: dict[str, list[str]] = {}
    chunks: list[bytes] = []
    items = [*batch.state.items(), ("\0action", batch.action)]
    for name, value in items:
        if isinstance(value, torch.Tensor):
            arr = np.ascontiguousarray(value.detach().cpu().numpy())
            arrays.append([name, arr.dtype.str, list(arr.shape)])
            chunks.append(arr.tobytes())
        else:
            text[name] = [str(v) for v in value]
    return {"seq": seq, "n": batch.num_envs, "arrays": arrays, "text": text}, b"".join(chunks)


def _decode_request(meta: dict[str, Any], body: bytes) -> RewardInput:
    state: dict[str, Any] = {}
    offset = 0
    action = torch.zeros(0)
    for name, dtype, shape in meta["arrays"]:
        dt = np.dtype(dtype)
        if dt.kind not in "biuf":
            raise ValueError(f"array {name!r} has dtype {dtype!r}: not a number")
        size = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        tensor = torch.from_numpy(
            np.frombuffer(body, dt, count=size // dt.itemsize, offset=offset).reshape(shape).copy()
        )
        offset += size
        if name == "\0action":
            action = tensor
        else:
            state[name] = tensor
    state.update({k: list(v) for k, v in meta["text"].items()})
    n = int(meta["n"])
    return RewardInput(state, action, torch.zeros(n), {}, torch.zeros(n, dtype=torch.bool))


def _failure_code(err: BaseException, state_names: list[str]) -> Code:
    """The code of a failed batch, as the dry run would name it."""
    from agentgym.rewards.base import RewardError

    cause = err.__cause__
    if isinstance(cause, KeyError) and cause.args and cause.args[0] not in state_names:
        return Code.UNKNOWN_STATE  # a computed key (state["succ" + "ess"]) the vetter missed
    if isinstance(err, MemoryError) or isinstance(cause, MemoryError):
        return Code.MEMORY
    if isinstance(cause, RuntimeError) and any(
        text in str(cause).lower() for text in ("can't allocate memory", "out of memory")
    ):
        return Code.MEMORY  # torch's allocator under RLIMIT_AS
    if isinstance(cause, RecursionError):
        return Code.RUNTIME_ERROR
    if isinstance(cause, RewardError) or cause is None:
        # check_output's own wording (agentgym.rewards.base), not the program's.
        text = str(err)
        if "floating point" in text:
            return Code.BAD_DTYPE
        if "must have shape" in text:
            return Code.BAD_SHAPE
        return Code.BAD_RETURN
    return Code.RUNTIME_ERROR


def serve(source: str, origin: str, request_fd: int, response_fd: int) -> str:
    """The worker's loop (a ``run_in_worker``-style target): load, then answer batches
    until the parent closes the request pipe."""
    from agentgym.rewards.program import ProgramReward

    key = channel.installed_key()
    # Started (torch imported) before the program loads: the parent then gives the
    # program's own import the per-batch deadline, not the start-up one.
    channel.write_all(response_fd, channel.frame({"seq": -1, "ok": True}, key=key))
    seq = 0
    try:
        # Confined: this is the worker, and the parent vetted the source before it came.
        program = ProgramReward(source, name=Path(origin).stem, origin=origin, trusted=True)
    except Exception as err:  # noqa: BLE001 - any load failure is the program's
        message = f"the program failed to load: {type(err).__name__}: {err}"
        channel.write_all(
            response_fd,
            channel.frame(
                {"seq": 0, "ok": False, "code": "RUNTIME_ERROR", "message": message}, key=key
            ),
        )
        return "load failed"
    channel.write_all(response_fd, channel.frame({"seq": 0, "ok": True}, key=key))
    while True:
        try:
            meta, body = channel.read_frame(request_fd)
        except EOFError:
            return "closed"
        seq = int(meta["seq"])
        batch: RewardInput | None = None
        try:
            batch = _decode_request(meta, body)
            out = program(batch)
        except Exception as err:  # noqa: BLE001 - reported to the parent as a code
            message = str(err).removeprefix(f"{origin}: ")
            answer = {
                "seq": seq,
                "ok": False,
                "code": str(_failure_code(err, list(batch.state) if batch else [])),
                "message": message,
            }
            channel.write_all(response_fd, channel.frame(answer, key=key))
            continue
        names = list(out.terms)
        stacked = torch.stack([out.reward, *(out.terms[k] for k in names)]).to(torch.float32)
        answer = {"seq": seq, "ok": True, "terms": names, "n": int(out.reward.shape[0])}
        channel.write_all(
            response_fd, channel.frame(answer, stacked.cpu().numpy().tobytes(), key=key)
        )


def stop_server(server: Server, owner: int | None = None) -> None:
    """Close a serving worker's pipes, wait briefly, kill what is left, remove its folder
    (only in the process ``owner`` that started it: a forked copy exiting leaves it
    alone)."""
    if owner is not None and os.getpid() != owner:
        return
    worker = server.worker
    try:
        if worker.proc.stdin is not None:
            worker.proc.stdin.close()
        # The closed request pipe ends serve(); give it a moment before the kill.
        worker.proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass  # no clean exit in time: reap() below kills it
    worker.reap()
    try:
        os.close(server.response_fd)
    except OSError:
        pass  # already closed
    shutil.rmtree(server.run_dir, ignore_errors=True)


class ProgramChannel:
    """The caller's end of a serving worker's pipes: one batch out, one sealed answer
    back, checked for its sequence number and shape. Owns no process: whoever started
    the worker (``SandboxedReward`` here, the synthesis parent for a training worker's
    ``ServedReward``) says what a closed pipe means."""

    def __init__(
        self, request_fd: int, response_fd: int, key: bytes, origin: str, call_timeout_s: float
    ) -> None:
        self.request_fd = request_fd
        self.response_fd = response_fd
        self.key = key
        self.origin = origin
        self.call_timeout_s = call_timeout_s
        self.seq = 0
        self._names: dict[str, str] = {}
        self._pending: tuple[int, torch.device] | None = None

    def answer(self, seq: int, timeout_s: float) -> tuple[dict[str, Any], bytes]:
        """The answer to request ``seq``: ``SandboxedRewardError`` for a failure, a
        forgery or a timeout; ``EOFError`` when the worker closed its end."""
        try:
            meta, body = channel.read_frame(self.response_fd, self.key, timeout_s)
        except TimeoutError:
            raise SandboxedRewardError(
                Code.TIMEOUT, f"no reward within {timeout_s:g} s; the worker was stopped"
            ) from None
        except channel.ForgedRecord as err:
            raise SandboxedRewardError(
                Code.WORKER_ERROR, f"an answer not from the worker ({err})"
            ) from None
        if meta.get("seq") != seq:
            raise SandboxedRewardError(
                Code.WORKER_ERROR, f"an answer to request {meta.get('seq')!r}, not {seq}"
            )
        if meta.get("ok") is not True:
            code = meta.get("code")
            raise SandboxedRewardError(
                Code(code) if code in Code.__members__ else Code.WORKER_ERROR,
                clean(str(meta.get("message", "")), MESSAGE_CHARS),
            )
        return meta, body

    def await_start(self, start_timeout_s: float, load_timeout_s: float) -> None:
        """Read the server's start-up answers: torch imported (-1) within
        ``start_timeout_s``, the program loaded (0) within ``load_timeout_s`` (a hanging
        module-level loop must not stretch the start's allowance)."""
        self.answer(-1, start_timeout_s)
        self.answer(0, load_timeout_s)

    def call(self, batch: RewardInput) -> RewardOutput:
        """Score one batch (``EOFError`` when the worker is gone)."""
        self.send(batch)
        return self.receive()

    def send(self, batch: RewardInput) -> None:
        """Write one batch; ``receive`` reads its answer (one batch in flight at a time)."""
        if self._pending is not None:
            raise RuntimeError(f"{self.origin}: a batch is already waiting for its answer")
        self.seq += 1
        meta, body = _encode_request(self.seq, batch)
        try:
            channel.write_all(self.request_fd, channel.frame(meta, body))
        except (BrokenPipeError, OSError):
            raise EOFError("the serving worker closed its request pipe") from None
        self._pending = (batch.num_envs, batch.env_reward.device)

    def receive(self) -> RewardOutput:
        """The answer to the batch ``send`` wrote (``EOFError`` when the worker is gone)."""
        if self._pending is None:
            raise RuntimeError(f"{self.origin}: no batch was sent")
        n, device = self._pending
        self._pending = None
        answer, data = self.answer(self.seq, self.call_timeout_s)
        names = answer.get("terms")
        if not (
            answer.get("n") == n
            and isinstance(names, list)
            and all(isinstance(k, str) for k in names)
            and len(data) == 4 * n * (1 + len(names))
        ):
            raise SandboxedRewardError(Code.WORKER_ERROR, "an answer of the wrong shape")
        values = torch.from_numpy(
            np.frombuffer(data, np.float32).reshape(1 + len(names), n).copy()
        ).to(device)
        terms = {self._clean_name(k): values[i + 1] for i, k in enumerate(names)}
        return RewardOutput(values[0], terms)

    def _clean_name(self, name: str) -> str:
        # The names repeat every batch; cleaning scans the environment for secrets.
        if name not in self._names:
            self._names[name] = clean(name, NAME_CHARS)
        return self._names[name]


@dataclass
class Server:
    """A serving worker as its starter holds it: the process (its stdin is the request
    pipe), the read end of its answers, its key and its run folder."""

    worker: Launched
    response_fd: int
    key: bytes
    run_dir: Path


def launch_server(source: str, origin: str) -> Server:
    """Start a worker serving ``source`` (vetted) without waiting for it (see
    ``await_server``), so that several can import torch at the same time."""
    run_dir = Path(tempfile.mkdtemp(prefix="agentgym-reward-"))
    # mkdtemp makes it 0700: the worker's unprivileged uid must reach it.
    os.chmod(run_dir, 0o755)
    key = channel.new_key()
    response_r, response_w = os.pipe()
    try:
        worker = launch(
            "agentgym.sandbox.program_worker:serve",
            {"source": source, "origin": origin},
            run_dir=run_dir,
            limits=serving_limits(),
            key=key,
            stream_fd=response_w,
        )
    finally:
        os.close(response_w)
    return Server(worker, response_r, key, run_dir)


def await_server(
    server: Server, origin: str, start_timeout_s: float, load_timeout_s: float
) -> None:
    """Wait until a launched server is up (``start_timeout_s``) and its program loaded
    (``load_timeout_s``: a hanging module-level loop must not stretch the start's
    allowance). Raises ``SandboxedRewardError`` when it does not; the server is then
    already stopped."""
    assert server.worker.proc.stdin is not None
    probe = ProgramChannel(
        server.worker.proc.stdin.fileno(), server.response_fd, server.key, origin, start_timeout_s
    )
    try:
        probe.await_start(start_timeout_s, load_timeout_s)
    except EOFError:
        code, message = worker_gone(server.worker, server.run_dir, server.key)
        stop_server(server)
        raise SandboxedRewardError(code, message) from None
    except SandboxedRewardError:
        stop_server(server)
        raise


def worker_gone(worker: Launched, run_dir: Path, key: bytes) -> tuple[Code, str]:
    """Why a serving worker ended early: its sealed record, else its exit status."""
    worker.reap()
    try:
        # _child seals how serve() ended (OUTPUT_LIMIT, a SystemExit, ...).
        record = channel.open_sealed((run_dir / "result.json").read_bytes(), key)
    except (OSError, ValueError):
        record = {}
    if record.get("ok") is False and record.get("code") in Code.__members__:
        return Code(record["code"]), clean(str(record.get("message", "")), MESSAGE_CHARS)
    stderr = tail_text(run_dir / "stderr.log")
    return diagnose_exit(worker.proc.returncode, worker.isolation, serving_limits(), stderr)


class SandboxedReward:
    """A reward program (vetted source) run in its own long-lived sandbox worker.

    Pickles as its source: an unpickled copy (a subprocess env) starts its own worker
    on its first call.
    """

    needs_frames = False

    def __init__(
        self,
        source: str,
        *,
        name: str = "program",
        origin: str = "<program>",
        call_timeout_s: float | None = None,
        start_timeout_s: float = 300.0,
    ) -> None:
        self.source = source
        self.name = name
        self.origin = origin
        self.call_timeout_s = (
            float(os.environ.get(TIMEOUT_VAR, DEFAULT_CALL_TIMEOUT_S))
            if call_timeout_s is None
            else call_timeout_s
        )
        self.start_timeout_s = start_timeout_s
        self.isolation: str | None = None
        """What confines the worker, once started ("bwrap", ...; see WorkerResult.isolation)."""
        self._reset()

    def _reset(self) -> None:
        self._worker: Launched | None = None
        self._channel: ProgramChannel | None = None
        self._pid = os.getpid()
        self._run_dir: Path | None = None
        self._finalizer: Any = None
        self._failed: SandboxedRewardError | None = None

    # -- the worker ---------------------------------------------------------------------
    def _start(self) -> None:
        server = launch_server(self.source, self.origin)
        self.isolation = server.worker.label  # said even when the program fails to load
        try:
            await_server(server, self.origin, self.start_timeout_s, self.call_timeout_s)
        except SandboxedRewardError as err:
            self._failed = SandboxedRewardError(err.code, f"{self.origin}: {err.code}: {err}")
            raise self._failed from None
        self._worker, self._run_dir = server.worker, server.run_dir
        assert server.worker.proc.stdin is not None
        self._channel = ProgramChannel(
            server.worker.proc.stdin.fileno(),
            server.response_fd,
            server.key,
            self.origin,
            self.call_timeout_s,
        )
        self._finalizer = weakref.finalize(self, stop_server, server, os.getpid())

    def _fail(self, code: Code, message: str) -> SandboxedRewardError:
        self._failed = SandboxedRewardError(code, f"{self.origin}: {code}: {message}")
        self.close()
        return self._failed

    # -- RewardModel --------------------------------------------------------------------
    def __call__(self, batch: RewardInput) -> RewardOutput:
        if self._failed is not None:
            raise self._failed
        if self._pid != os.getpid():
            # A forked copy must not talk over its parent's pipes: it gets its own worker.
            self._reset()
        if self._worker is None:
            self._start()
        assert self._channel is not None and self._worker is not None
        try:
            return self._channel.call(batch)
        except EOFError:
            assert self._run_dir is not None
            raise self._fail(*worker_gone(self._worker, self._run_dir, self._channel.key)) from None
        except SandboxedRewardError as err:
            raise self._fail(err.code, str(err)) from None

    def close(self) -> None:
        """Stop the worker (also done when the model is garbage-collected or at exit)."""
        if self._finalizer is not None:
            self._finalizer()
        self._worker = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("source", "name", "origin", "call_timeout_s", "start_timeout_s")
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.isolation = None
        self._reset()

    def __repr__(self) -> str:
        return f"SandboxedReward({self.origin!r}, isolation={self.isolation!r})"
