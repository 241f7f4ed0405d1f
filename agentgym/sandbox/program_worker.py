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


def _shutdown(worker: Launched, response_fd: int, run_dir: Path, owner: int) -> None:
    if os.getpid() != owner:
        return  # a forked copy exiting: the worker is its parent's
    try:
        if worker.proc.stdin is not None:
            worker.proc.stdin.close()
        # The closed request pipe ends serve(); give it a moment before the kill.
        worker.proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass
    worker.reap()
    try:
        os.close(response_fd)
    except OSError:
        pass
    shutil.rmtree(run_dir, ignore_errors=True)


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
        self._pid = os.getpid()
        self._seq = 0
        self._key = b""
        self._response_fd = -1
        self._run_dir: Path | None = None
        self._finalizer: Any = None
        self._failed: SandboxedRewardError | None = None
        self._names: dict[str, str] = {}

    # -- the worker ---------------------------------------------------------------------
    def _start(self) -> None:
        self._run_dir = Path(tempfile.mkdtemp(prefix="agentgym-reward-"))
        # mkdtemp makes it 0700: the worker's unprivileged uid must reach it.
        os.chmod(self._run_dir, 0o755)
        self._key = channel.new_key()
        response_r, response_w = os.pipe()
        try:
            self._worker = launch(
                "agentgym.sandbox.program_worker:serve",
                {"source": self.source, "origin": self.origin},
                run_dir=self._run_dir,
                limits=serving_limits(),
                key=self._key,
                stream_fd=response_w,
            )
        finally:
            os.close(response_w)
        self._response_fd = response_r
        self.isolation = self._worker.label
        self._finalizer = weakref.finalize(
            self, _shutdown, self._worker, response_r, self._run_dir, os.getpid()
        )
        self._answer(-1, self.start_timeout_s)
        self._answer(0, self.call_timeout_s)

    def _fail(self, code: Code, message: str) -> SandboxedRewardError:
        self._failed = SandboxedRewardError(code, f"{self.origin}: {code}: {message}")
        self.close()
        return self._failed

    def _worker_gone(self) -> SandboxedRewardError:
        assert self._worker is not None and self._run_dir is not None
        self._worker.reap()
        try:
            # _child seals how serve() ended (OUTPUT_LIMIT, a SystemExit, ...).
            record = channel.open_sealed((self._run_dir / "result.json").read_bytes(), self._key)
        except (OSError, ValueError):
            record = {}
        if record.get("ok") is False and record.get("code") in Code.__members__:
            return self._fail(
                Code(record["code"]), clean(str(record.get("message", "")), MESSAGE_CHARS)
            )
        stderr = tail_text(self._run_dir / "stderr.log")
        code, message = diagnose_exit(
            self._worker.proc.returncode, self._worker.isolation, serving_limits(), stderr
        )
        return self._fail(code, message)

    def _answer(self, seq: int, timeout_s: float) -> tuple[dict[str, Any], bytes]:
        try:
            meta, body = channel.read_frame(self._response_fd, self._key, timeout_s)
        except TimeoutError:
            raise self._fail(
                Code.TIMEOUT, f"no reward within {timeout_s:g} s; the worker was stopped"
            ) from None
        except EOFError:
            raise self._worker_gone() from None
        except channel.ForgedRecord as err:
            raise self._fail(Code.WORKER_ERROR, f"an answer not from the worker ({err})") from None
        if meta.get("seq") != seq:
            raise self._fail(
                Code.WORKER_ERROR, f"an answer to request {meta.get('seq')!r}, not {seq}"
            )
        if meta.get("ok") is not True:
            code = meta.get("code")
            raise self._fail(
                Code(code) if code in Code.__members__ else Code.WORKER_ERROR,
                clean(str(meta.get("message", "")), MESSAGE_CHARS),
            )
        return meta, body

    # -- RewardModel --------------------------------------------------------------------
    def __call__(self, batch: RewardInput) -> RewardOutput:
        if self._failed is not None:
            raise self._failed
        if self._pid != os.getpid():
            # A forked copy must not talk over its parent's pipes: it gets its own worker.
            self._reset()
        if self._worker is None:
            self._start()
        assert self._worker is not None and self._worker.proc.stdin is not None
        self._seq += 1
        meta, body = _encode_request(self._seq, batch)
        try:
            channel.write_all(self._worker.proc.stdin.fileno(), channel.frame(meta, body))
        except (BrokenPipeError, OSError):
            raise self._worker_gone() from None
        answer, data = self._answer(self._seq, self.call_timeout_s)
        n, names = batch.num_envs, answer.get("terms")
        if not (
            answer.get("n") == n
            and isinstance(names, list)
            and all(isinstance(k, str) for k in names)
            and len(data) == 4 * n * (1 + len(names))
        ):
            raise self._fail(Code.WORKER_ERROR, "an answer of the wrong shape")
        values = torch.from_numpy(
            np.frombuffer(data, np.float32).reshape(1 + len(names), n).copy()
        ).to(batch.env_reward.device)
        terms = {self._clean_name(k): values[i + 1] for i, k in enumerate(names)}
        return RewardOutput(values[0], terms)

    def _clean_name(self, name: str) -> str:
        # The names repeat every batch; cleaning scans the environment for secrets.
        if name not in self._names:
            self._names[name] = clean(name, NAME_CHARS)
        return self._names[name]

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
