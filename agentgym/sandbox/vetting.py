"""Vetting a reward program: the static check, then a dry run in a confined worker.

``vet`` judges one program; ``vet_many`` judges the K candidates of an Eureka iteration
with one worker start-up for all of them (a worker costs seconds to import torch). When
a program takes its worker down (a kill at the deadline, a crash), it gets that verdict
and the programs after it go on in a fresh worker, so one bad candidate never costs the
others their verdict.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentgym.sandbox import channel
from agentgym.sandbox.codes import Code
from agentgym.sandbox.results import VetResult
from agentgym.sandbox.sanitize import clean
from agentgym.sandbox.states import record_states, state_names
from agentgym.sandbox.static import static_check
from agentgym.sandbox.worker import Limits, run_in_worker

log = logging.getLogger(__name__)

DRY_RUN_TARGET = "agentgym.sandbox.dryrun:dry_run_many"
BATCH = 64


def vet_limits(timeout_s: float) -> Limits:
    """Limits of a dry-run worker: one thread, 4 GiB, CPU time a little above the deadline,
    no process or program started (a dry run computes, it never needs one)."""
    return Limits(
        memory_mb=4096,
        cpu_s=int(max(30, 2 * timeout_s)),
        max_processes=32,
        file_size_mb=32,
        open_files=256,
        threads=1,
        spawn=False,
    )


def vet(
    source: str, env_id: str, *, run_dir: Path | None = None, timeout_s: float = 20.0
) -> VetResult:
    """Vet one program for ``env_id``: static checks, then a dry run on recorded states.

    ``timeout_s`` bounds the dry run's wall clock, worker start-up included; the program
    itself gets half of it.
    """
    return vet_many([source], env_id, run_dir=run_dir, timeout_s=timeout_s)[0]


def vet_many(
    sources: Sequence[str],
    env_id: str,
    *,
    run_dir: Path | None = None,
    timeout_s: float = 20.0,
    trajectories: Path | None = None,
) -> list[VetResult]:
    """Vet several programs for ``env_id``; one ``VetResult`` per source, in order.

    With ``trajectories`` (a ``record_trajectories`` file), each program that passes is
    also scored there, in the same worker: ``VetResult.returns``."""
    states = record_states(env_id)
    names = state_names(states)
    results: list[VetResult | None] = [static_check(s, names) for s in sources]
    pending = [i for i, r in enumerate(results) if r is not None and r.ok]
    if not pending:
        return [r for r in results if r is not None]
    owned = run_dir is None
    base = Path(tempfile.mkdtemp(prefix="agentgym-vet-")) if owned else Path(run_dir)
    base.mkdir(parents=True, exist_ok=True)
    per_program_s = timeout_s / 2
    try:
        attempt = 0
        while pending:
            folder = base / f"worker-{attempt}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(states, folder / "states.npz")
            extra = {}
            if trajectories is not None:
                shutil.copyfile(trajectories, folder / "trajectories.npz")
                extra["trajectories"] = "trajectories.npz"
            files = []
            for i in pending:
                (folder / f"program_{i}.py").write_text(sources[i])
                files.append(f"program_{i}.py")
            deadline = timeout_s + per_program_s * (len(pending) - 1)
            key = channel.new_key()  # per worker: a verdict of one never opens in another
            worker = run_in_worker(
                DRY_RUN_TARGET,
                {
                    "programs": files,
                    "states": "states.npz",
                    "batch": BATCH,
                    "per_program_s": per_program_s,
                    **extra,
                },
                run_dir=folder,
                limits=vet_limits(deadline),
                deadline_s=deadline,
                channel_key=key,
            )
            done = _read_progress(folder / "progress.jsonl", key, len(pending))
            for verdict in done:
                i = pending[verdict["index"]]
                results[i] = _from_verdict(verdict, worker.isolation, worker.wall_s)
            if worker.ok:
                pending = []
                break
            if worker.code == Code.WORKER_ERROR and not done:
                # The worker itself is broken (not a program): every pending one says so.
                for i in pending:
                    results[i] = VetResult(
                        ok=False,
                        code=Code.WORKER_ERROR,
                        message=worker.message,
                        detail=f"{worker.detail}\nstderr tail:\n{worker.stderr_tail}",
                        stage="dry_run",
                        isolation=worker.isolation,
                    )
                break
            # The program running when the worker went down takes the worker's verdict.
            culprit = pending[len(done)] if len(done) < len(pending) else None
            if culprit is None:
                log.warning("dry-run worker failed after all verdicts: %s", worker.message)
                pending = []
                break
            results[culprit] = VetResult(
                ok=False,
                code=worker.code or Code.WORKER_ERROR,
                message=worker.message,
                detail=f"{worker.detail}\nstdout tail:\n{worker.stdout_tail}",
                stage="dry_run",
                isolation=worker.isolation,
                wall_s=worker.wall_s,
            )
            pending = pending[len(done) + 1 :]
            attempt += 1
    finally:
        if owned:
            shutil.rmtree(base, ignore_errors=True)
    return [r for r in results if r is not None]


def _read_progress(path: Path, key: bytes, count: int) -> list[dict]:
    """The worker's sealed verdicts, in order; unsealed, replayed or cut-off lines are skipped."""
    if not path.is_file():
        return []
    verdicts: list[dict] = []
    with path.open("rb") as fh:
        for line in fh:
            try:
                verdict = channel.open_sealed(line, key)
            except (channel.ForgedRecord, ValueError):
                continue  # a line the program wrote, or one cut short by the kill
            # The worker writes verdict k as line k; a replayed line repeats an index.
            if verdict.get("index") == len(verdicts) and len(verdicts) < count:
                verdicts.append(verdict)
    return verdicts


def _spread(spread: Any) -> dict[str, Any]:
    """The worker's ``spread`` record, its program-chosen text cleaned like the rest."""
    if not isinstance(spread, dict):
        return {}
    if "error" in spread:
        return {"error": clean(str(spread["error"]), 300, newlines=False)}
    stats = spread.get("stats")
    if not isinstance(stats, dict):
        return {}
    return {"stats": {clean(k, 80, newlines=False): v for k, v in stats.items()}}


def _from_verdict(verdict: dict, isolation: str, wall_s: float) -> VetResult:
    code = verdict.get("code")
    return VetResult(
        ok=verdict.get("ok") is True,
        code=None if not code else Code(code),
        # Program-chosen text (exception messages, term names) leaves through here.
        message=clean(verdict.get("message", "")),
        detail=clean(verdict.get("detail", ""), 8000),
        terms=[clean(t, 80, newlines=False) for t in verdict.get("terms", [])],
        stage="dry_run",
        isolation=isolation,
        stats={clean(k, 80, newlines=False): v for k, v in dict(verdict.get("stats", {})).items()},
        returns=[float(r) for r in verdict.get("returns", [])],
        term_returns={
            clean(k, 80, newlines=False): [float(r) for r in v]
            for k, v in dict(verdict.get("term_returns", {})).items()
        },
        spread=_spread(verdict.get("spread")),
        wall_s=wall_s,
    )
