"""Reward programs served to a training worker by workers of their own.

The local executor trains the K candidates of one synthesis iteration together in one
sandbox worker (a population: their networks batched, so K candidates cost about one
run). If their programs ran inside that worker, candidate A's code, however it got out
of its reward function, could write candidate B's folder: all K train under the
worker's one writable folder. So they do not run there. The parent starts each
untrusted program in a serving worker of its own (``program_worker.serve``: a view with
no folder of the run in it) and hands the training worker only the two pipe ends and
the key of each (``ProgramServers``). In the training worker, ``install`` records them,
and the loader then answers each of those programs with a ``ServedReward`` and refuses
to run any other untrusted program in-process.

The training worker itself runs only agentgym's code (the learner, the env, the
bookkeeping) and writes each member's folder; no candidate's code can write anything
of the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agentgym.rewards.base import RewardInput, RewardOutput
from agentgym.sandbox.codes import Code
from agentgym.sandbox.program_worker import (
    DEFAULT_CALL_TIMEOUT_S,
    TIMEOUT_VAR,
    ProgramChannel,
    SandboxedRewardError,
    Server,
    launch_server,
    stop_server,
)

START_TIMEOUT_S = 300.0


def _call_timeout_s() -> float:
    return float(os.environ.get(TIMEOUT_VAR, DEFAULT_CALL_TIMEOUT_S))


class ProgramServers:
    """The parent's side: one serving worker per program file, started together.

    ``handoff`` (JSON, aligned with the programs) is what the training worker gets as its
    ``served`` argument, ``fds`` the descriptors to keep open in it, ``readable`` the
    servers' folders (their sealed exit records, read-only in the training worker's
    view). The servers are launched, not waited for: a program that fails to load fails
    its member at its first batch, with its code. One the vetter rejects
    (``state_names`` are the task's, for ``UNKNOWN_STATE``) is never started: its handoff
    carries the code and message instead of pipes. ``close`` stops every server (use it
    as a context manager).
    """

    def __init__(self, programs: list[Path], state_names: list[str] | None = None) -> None:
        from agentgym.sandbox.static import static_check

        self.handoff: list[dict[str, Any]] = []
        self._servers: list[Server] = []
        try:
            for program in programs:
                origin = str(program)
                source = Path(program).read_text()
                verdict = static_check(source, state_names)
                if not verdict.ok:  # vetted before anything of it runs, as everywhere
                    self.handoff.append({"code": str(verdict.code), "message": verdict.message})
                    continue
                # Not waited for here: the servers import torch while the training worker
                # starts, and the first batch of each reads its start-up answers.
                server = launch_server(source, origin)
                self._servers.append(server)
                assert server.worker.proc.stdin is not None
                self.handoff.append(
                    {
                        "request_fd": server.worker.proc.stdin.fileno(),
                        "response_fd": server.response_fd,
                        "key": server.key.hex(),
                        "run_dir": str(server.run_dir),
                    }
                )
        except BaseException:
            self.close()
            raise

    @property
    def fds(self) -> list[int]:
        """The descriptors the training worker must keep (two per served program)."""
        return [
            fd for h in self.handoff if "key" in h for fd in (h["request_fd"], h["response_fd"])
        ]

    @property
    def pids(self) -> list[int]:
        """The serving workers' processes (bubblewrap's, where it confines them)."""
        return [s.worker.proc.pid for s in self._servers]

    @property
    def readable(self) -> list[Path]:
        """The servers' folders, for the training worker's read-only view."""
        return [s.run_dir for s in self._servers]

    def close(self) -> None:
        # Every request pipe first, so that all servers wind down at once.
        for server in self._servers:
            if server.worker.proc.stdin is not None:
                try:
                    server.worker.proc.stdin.close()
                except OSError:
                    pass  # the worker already exited and closed its end
        for server in self._servers:
            stop_server(server)
        self._servers = []

    def __enter__(self) -> ProgramServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServedReward:
    """The training worker's side: a program served over pipes it was handed."""

    needs_frames = False
    scores_rollouts = True
    """A PPO population scores it over whole rollouts (``ProgramOverRollout``): one round
    trip per rollout instead of one per step."""

    def __init__(self, handle: dict[str, Any], origin: str, name: str) -> None:
        self.origin = origin
        self.name = name
        self._handle = handle
        self._failed: SandboxedRewardError | None = None
        self._channel: ProgramChannel | None = None
        if "key" not in handle:
            code = Code(handle["code"]) if handle.get("code") in Code.__members__ else None
            code = code or Code.WORKER_ERROR
            message = str(handle.get("message", "the program's worker did not start"))
            self._failed = SandboxedRewardError(code, f"{origin}: {code}: {message}")
        else:
            self._channel = ProgramChannel(
                int(handle["request_fd"]),
                int(handle["response_fd"]),
                bytes.fromhex(handle["key"]),
                origin,
                _call_timeout_s(),
            )
        self._started = False

    def __call__(self, batch: RewardInput) -> RewardOutput:
        self.send(batch)
        return self.receive()

    def send(self, batch: RewardInput) -> None:
        """Hand a batch to the program's worker and return at once (``receive`` collects
        the answer): a population sends all its members' batches before it waits."""
        if self._failed is not None:
            raise self._failed
        assert self._channel is not None
        try:
            if not self._started:
                self._channel.await_start(START_TIMEOUT_S, self._channel.call_timeout_s)
                self._started = True
            self._channel.send(batch)
        except EOFError:
            self._failed = self._gone()
            raise self._failed from None
        except SandboxedRewardError as err:
            self._failed = SandboxedRewardError(err.code, f"{self.origin}: {err.code}: {err}")
            raise self._failed from None

    def receive(self) -> RewardOutput:
        """The answer to the last ``send``."""
        if self._failed is not None:
            raise self._failed
        assert self._channel is not None
        try:
            return self._channel.receive()
        except EOFError:
            self._failed = self._gone()
        except SandboxedRewardError as err:
            self._failed = SandboxedRewardError(err.code, f"{self.origin}: {err.code}: {err}")
        raise self._failed

    def _gone(self) -> SandboxedRewardError:
        """The serving worker ended: its own sealed record says why where it wrote one
        (the parent owns the process, so its exit status is not known here)."""
        from agentgym.sandbox import channel

        assert self._channel is not None
        try:
            raw = (Path(self._handle["run_dir"]) / "result.json").read_bytes()
            record = channel.open_sealed(raw, self._channel.key)
        except (OSError, ValueError):
            record = {}
        code = record.get("code")
        if record.get("ok") is False and code in Code.__members__:
            message = str(record.get("message", ""))
            return SandboxedRewardError(Code(code), f"{self.origin}: {code}: {message}")
        return SandboxedRewardError(
            Code.WORKER_ERROR,
            f"{self.origin}: WORKER_ERROR: the program's worker ended (killed by a limit or "
            "crashed); the run's log has its exit status",
        )

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            f"{self.origin}: a served reward program is bound to this worker's pipes and "
            "cannot be copied into another process"
        )


_installed: dict[str, dict[str, Any]] | None = None


def install(programs: list[str], handoff: list[dict[str, Any]]) -> None:
    """Record, in a training worker, the programs served to it (aligned lists). From then
    on every untrusted program this process loads must be one of them."""
    global _installed
    if len(programs) != len(handoff):
        raise ValueError(
            f"served: {len(handoff)} handles for {len(programs)} programs; expected one each"
        )
    _installed = {str(Path(p).resolve()): h for p, h in zip(programs, handoff, strict=True)}


def active() -> bool:
    """Whether this process was handed served programs (``install``)."""
    return _installed is not None


def reward_for(origin: str, name: str) -> ServedReward:
    """The served reward of the program file ``origin``; an untrusted program this worker
    was not handed is refused (it would run beside the others' code)."""
    assert _installed is not None
    handle = _installed.get(str(Path(origin).resolve()))
    if handle is None:
        from agentgym.rewards.program import RewardProgramError

        raise RewardProgramError(
            f"{origin}: this training worker serves its candidates' programs from workers of "
            "their own and was not handed this one; an untrusted program does not run here"
        )
    return ServedReward(handle, origin, name)
