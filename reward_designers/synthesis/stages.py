"""The stages a synthesised program passes after extraction, up to a finished candidate.

    vet (sandbox checks; the constant and trajectory-preference filters) -> [critic] ->
    train (population learner, one sandbox worker per iteration) -> score (the env's
    success rate, never the generated reward)

``CandidateStages`` runs them for one synthesis run (``loop.py`` drives the
iterations): each stage takes the pending sample indices of an iteration, records a
rejected or trained sample's ``result.json`` (``record``), and returns those that go on.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.reward_designers.synthesis.candidates import (
    FAILED,
    REJECTED,
    TRAINED,
    Candidate,
    iteration_dir,
    sample_dir,
    write_json,
)

if TYPE_CHECKING:
    from agentgym.executors import Executor
    from agentgym.reward_designers.critique import RewardCritic
    from agentgym.reward_designers.synthesis.config import SynthesisConfig
    from agentgym.sandbox.trajectories import Outcomes
    from agentgym.spec import TaskSpec

CALIBRATED = "set by the designer: "
"""The prefix of a candidate's note that records a number the designer changed."""
TRAIN_TARGET = "agentgym.reward_designers.synthesis.training:train_candidates"


def _last_row_with(path: Path, prefix: str) -> dict[str, Any]:
    from agentgym.learners.logger import read_metrics

    rows = (
        [r for r in read_metrics(path) if any(k.startswith(prefix) for k in r)]
        if path.is_file()
        else []
    )
    return rows[-1] if rows else {}


def constant_verdict(verdict: Any, task: TaskSpec, expert_judges: bool = False) -> tuple[Any, str]:
    """``(verdict, note)``: ``verdict`` rejected with code CONSTANT when it passed but its
    total reward takes one value on every recorded state and that value carries no signal;
    ``note`` a warning for a constant whose use vetting cannot judge ("" otherwise).

    One value on a random policy's states is not always a constant: a goal bonus (sparse
    reward) that a random policy never earns looks the same. Where no expert's episodes
    can show the difference (``expert_judges`` False: the task has none, or the filter is
    off), the program's values on those states spread about their mean
    (``VetResult.spread``) do: a program that changes there passes, with a note.

    A constant reward still teaches through the episode's end (``task.termination``): +1
    per step on an env whose episodes end on failure is CartPole's alive bonus, -1 per
    step on one whose episodes end on success is MountainCar's time cost. It carries no
    signal when it is zero, or when episodes never end early (every policy then earns the
    same return): those are rejected. Where the sign is the one that teaches to end the
    episode the wrong way, or the env does not declare how it ends, it passes with a note.
    """
    from agentgym.sandbox import Code
    from agentgym.sandbox.dryrun import SPREADS, is_constant

    total = verdict.stats.get("reward") if verdict.ok else None
    if not total or not is_constant(total):
        return verdict, ""
    value, ends = total["mean"], task.termination
    seen = f"the total reward is {value:.4g} on every recorded state of a random policy"
    spread = verdict.spread.get("stats", {}).get("reward")
    if not expert_judges and spread and not is_constant(spread):
        factors = " and ".join(f"{f:g}x" for f in SPREADS)
        return verdict, (
            f"{seen}, but not on the same states spread {factors} about their mean (from "
            f"{spread['min']:.4g} to {spread['max']:.4g} there): a sparse reward, which no "
            f"expert of {task.name} can judge: trained anyway"
        )
    # returns of the labelled episodes (vet_many(trajectories=...)) that do not differ:
    # the expert's successful episodes earn what a random policy earns
    expert_too = bool(verdict.returns) and not _varies(verdict.returns)
    if expert_too:
        seen += ", and every recorded episode, the expert's successful ones included, earns it"
    if abs(value) <= 1e-12 and expert_too:
        why = (
            "zero everywhere, even where the expert succeeds, so it gives PPO nothing to "
            "learn from. A condition no recorded state meets (a bonus for a distance under "
            "a threshold the expert never gets under) or a clamp that cuts off every value "
            "pays nothing: reward the distance itself (a tolerance or exp term of it) or "
            "widen the threshold"
        )
    elif abs(value) <= 1e-12:
        why = "zero everywhere, it gives PPO nothing to learn from"
    elif ends == "never":
        why = (
            f"{task.name}'s episodes never end early (they only truncate), so every policy "
            "earns the same return and PPO has nothing to learn from"
        )
    else:
        good = {"failure": value > 0, "success": value < 0}.get(ends)
        if good:
            return verdict, ""
        if good is None:
            note = (
                f"{seen}; it can only teach through when episodes end, and "
                f"{task.name} does not say whether they end on success or on failure "
                f"(termination {ends or 'undeclared'}): trained anyway"
            )
        else:
            note = (
                f"{seen}; {task.name}'s episodes end early on {ends}, so a "
                f"{'positive' if value > 0 else 'negative'} constant teaches the policy to "
                f"{'avoid' if ends == 'success' else 'seek'} that end: trained anyway"
            )
        return verdict, note
    return (
        dataclasses.replace(
            verdict,
            ok=False,
            code=Code.CONSTANT,
            message=(
                f"{seen}: {why}; make it change with how close the state is to success "
                "(e.g. a negative distance to the goal)"
            ),
        ),
        "",
    )


def _collect(member: Path, train: Path) -> None:
    """Move a member's folder out of the worker's reach to ``train``, keeping only folders
    and regular files: a link the worker left (to /etc/shadow, to another run) would make
    the parent read what the program chose when it reads the member's logs as data."""
    if train.exists():
        shutil.rmtree(train)
    if not member.is_dir() or member.is_symlink():
        return
    for root, folders, files in os.walk(member):
        for name in folders + files:
            path = Path(root) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                path.unlink()
    os.replace(member, train)


def _varies(returns: list[float]) -> bool:
    """Whether a program's episode returns differ (beyond rounding) across the recording."""
    return bool(returns) and max(returns) - min(returns) > 1e-6 * (1.0 + max(map(abs, returns)))


class CandidateStages:
    """Vetting, critique, training and scoring of one synthesis run's samples."""

    def __init__(
        self,
        path: Path,
        config: SynthesisConfig,
        task: TaskSpec,
        critic: RewardCritic | None,
        emit: Callable[..., None],
        executor: Executor | None = None,
    ) -> None:
        from agentgym.executors.local import LocalExecutor

        self.executor: Executor = executor or LocalExecutor()
        """Where training jobs run (``--executor``): this machine by default."""
        self.path = path
        self.config = config
        self.task = task
        self.critic = critic
        self.emit = emit
        # A library program is a person's: only an LLM's is held to this
        self.reject_constant = config.reject_constant and config.designer != "library"
        self.filter_preferences = config.trajectory_filter and config.designer != "library"
        self.aucs: dict[tuple[int, int], float] = {}
        """(iteration, sample) -> the trajectory filter's AUC of its program (record)."""
        self.repairs: dict[tuple[int, int], int] = {}
        """(iteration, sample) -> repair rounds its program went through (loop.py)."""
        self.notes: dict[tuple[int, int], list[str]] = {}
        """(iteration, sample) -> warnings of vetting that did not reject it (record)."""
        self.salvaged: dict[tuple[int, int], str] = {}
        """(iteration, sample) -> the note of a program made of the passing part of a
        rejected reply (``Program.salvage``; record adds it to the notes)."""
        self.calibrator: Callable[..., dict[int, Any]] | None = None
        """The designer's ``calibrate`` (``Designer.calibrate``): programs it changes after
        their first vetting, each vetted again before anything trains (the loop sets it)."""
        self.videos = False
        """Record one evaluation video per trained candidate (``sample_KK/train/videos/``;
        envs that render): the icpl designer's ranking page shows them."""

    def record(self, candidate: Candidate) -> Candidate:
        """Write ``candidate`` as its sample's result.json: the sample is finished."""
        fixes = self.repairs.get((candidate.iteration, candidate.index), 0)
        if fixes:
            candidate = dataclasses.replace(candidate, repairs=fixes)
        notes = self.notes.get((candidate.iteration, candidate.index))
        salvaged = self.salvaged.get((candidate.iteration, candidate.index))
        if salvaged:
            notes = [salvaged, *(notes or [])]
        if notes:
            candidate = dataclasses.replace(candidate, notes=[*candidate.notes, *notes])
        auc = self.aucs.get((candidate.iteration, candidate.index))
        if auc is not None:
            candidate = dataclasses.replace(candidate, preference_auc=auc)
        write_json(
            sample_dir(self.path, candidate.iteration, candidate.index) / "result.json",
            candidate.to_dict(),
        )
        return candidate

    def check(self, it: int, pending: list[int], sources: dict[int, str]) -> dict[int, Any]:
        """Sandbox-check the pending programs together; each verdict goes to its vet.json."""
        if not pending:
            return {}
        checked = self.vet_sources(
            iteration_dir(self.path, it) / "vet",
            [sources[i] for i in pending],
            [sample_dir(self.path, it, i) / "vet.json" for i in pending],
        )
        checks = dict(zip(pending, checked, strict=True))
        if self.calibrator is not None:
            checks.update(self._calibrate(it, {i: sources[i] for i in pending}, checks, sources))
        out = {}
        for i, (verdict, notes, auc) in checks.items():
            if notes:
                self.notes[(it, i)] = notes
            if auc is not None:
                self.aucs[(it, i)] = auc
            out[i] = verdict
        return out

    def _calibrate(
        self,
        it: int,
        programs: dict[int, str],
        checks: dict[int, tuple[Any, list[str], float | None]],
        sources: dict[int, str],
    ) -> dict[int, tuple[Any, list[str], float | None]]:
        """Let the designer change the vetted programs (``self.calibrator``); each changed
        one replaces its sample's ``reward.py`` (the program as written stays as
        ``reward_llm.py``, the steps in ``calibration.json``) and in ``sources``, with the
        verdict of its last recheck and a note per change."""
        rechecked: dict[tuple[str, int], tuple[Any, list[str], float | None]] = {}

        def recheck(new: dict[int, str], stage: str) -> dict[int, Any]:
            order = sorted(new)
            got = self.vet_sources(
                iteration_dir(self.path, it) / f"vet_{stage}",
                [new[i] for i in order],
                [sample_dir(self.path, it, i) / f"vet_{stage}.json" for i in order],
            )
            rechecked.update({(stage, i): g for i, g in zip(order, got, strict=True)})
            return {i: g[0] for i, g in zip(order, got, strict=True)}

        _, outcomes = self._trajectories()
        changed = self.calibrator(programs, {i: c[0] for i, c in checks.items()}, recheck, outcomes)
        out = {}
        for i, cal in changed.items():
            folder = sample_dir(self.path, it, i)
            (folder / "reward_llm.py").write_text(programs[i])
            (folder / "reward.py").write_text(cal.source)
            write_json(folder / "calibration.json", {**cal.record, "changes": cal.changes})
            sources[i] = cal.source
            verdict, notes, auc = rechecked[(cal.stage, i)]
            out[i] = (verdict, [*(CALIBRATED + c for c in cal.changes), *notes], auc)
        if changed:
            self.emit("calibrated", iteration=it, changed=len(changed))
        return out

    def vet_sources(
        self, folder: Path, sources: list[str], records: list[Path]
    ) -> list[tuple[Any, list[str], float | None]]:
        """Vet ``sources`` together in ``folder`` (the constant check and the trajectory
        filter included); each verdict is written to its path in ``records``. Returns
        (verdict, notes, the filter's AUC or None) per source."""
        from agentgym.reward_designers.synthesis.preference import preference_verdict
        from agentgym.sandbox import vet_many

        # A killed run leaves its workers' progress files behind; vetting starts clean.
        shutil.rmtree(folder, ignore_errors=True)
        trajectories, outcomes = self._trajectories()
        judged = outcomes is not None and outcomes.judgeable
        verdicts = vet_many(
            sources,
            self.config.env_id,
            run_dir=folder,
            timeout_s=self.config.vet_timeout_s,
            trajectories=trajectories if judged else None,
        )
        out = []
        for record_path, verdict in zip(records, verdicts, strict=True):
            notes = []
            if self.reject_constant:
                checked, note = constant_verdict(verdict, self.task, expert_judges=judged)
                if not checked.ok and _varies(verdict.returns):
                    # Constant where a random policy goes, not where the expert goes: a
                    # sparse goal bonus. The labelled episodes judge it (the filter below).
                    note = (
                        f"{checked.message.split(':')[0]}, but its returns differ across "
                        "the recorded expert, random and perturbed episodes (a sparse "
                        "reward): judged by the trajectory filter instead"
                    )
                else:
                    verdict = checked
                notes += [note] if note else []
            auc = None
            if judged:
                verdict, auc = preference_verdict(verdict, outcomes, self.config.filter_auc)
            elif outcomes is not None and verdict.ok:
                notes.append(
                    f"trajectory filter skipped: the recording of {self.config.env_id} holds "
                    f"{outcomes.counts()}, so no ranking of them can be judged"
                )
            record = verdict.to_dict()
            if auc is not None:
                record["preference_auc"] = auc
            write_json(record_path, record)
            out.append((verdict, notes, auc))
        return out

    def _trajectories(self) -> tuple[Path | None, Outcomes | None]:
        """The trajectory filter's labelled recording and its outcomes; (None, None) when
        the filter is off or the env has no scripted expert."""
        from agentgym.catalog import expert_policy
        from agentgym.sandbox.trajectories import load_outcomes, record_trajectories

        if not self.filter_preferences or expert_policy(self.config.env_id) is None:
            return None, None
        path = record_trajectories(self.config.env_id)
        return path, load_outcomes(path)

    def reject(self, it: int, i: int, code: str, message: str, origin: str) -> Candidate:
        """Record sample ``i`` as rejected before training, with its code and message."""
        return self.record(Candidate(it, i, REJECTED, code, message, origin=origin))

    def criticise(
        self,
        it: int,
        pending: list[int],
        sources: dict[int, str],
        origins: dict[int, str],
        done: dict[int, Candidate],
    ) -> list[int]:
        """The reward critic's review (``--critic``) of each pending program, if any."""
        from agentgym.reward_designers.critique import CRITIC

        if self.critic is None:
            return pending
        passed = []
        for i in pending:
            verdict = self.critic.review(self.task, sources[i])
            write_json(sample_dir(self.path, it, i) / "critic.json", verdict.to_dict())
            if verdict.ok:
                passed.append(i)
            else:
                done[i] = self.record(
                    Candidate(
                        it,
                        i,
                        REJECTED,
                        CRITIC,
                        f"a reward critic found problems: {verdict.problems}",
                        origin=origins[i],
                    )
                )
        self.emit(
            "criticised", iteration=it, passed=len(passed), rejected=len(pending) - len(passed)
        )
        return passed

    train_target = TRAIN_TARGET
    """The worker's ``module:function`` (``training.train_candidates``)."""

    def train_limits(self, learner: str, settings: dict[str, Any], members: int) -> Any:
        """The training worker's ``Limits`` for ``members`` members of ``learner`` with
        ``settings`` (files it writes: at most ``file_size_mb`` each; room for the
        learner's replay buffers and checkpoints, ``Limits.for_training``)."""
        from agentgym.learners.checkpoint import replay_mb
        from agentgym.sandbox import Limits

        replay = replay_mb(learner, self.config.env_id, settings)
        return Limits.for_training(replay, members, threads=1)

    def train(
        self, it: int, pending: list[int], origins: dict[int, str], done: dict[int, Candidate]
    ) -> None:
        """Train the pending programs with the run's executor and record each one's score
        as soon as its job ends."""
        if not pending:
            return

        def record(n: int, final: dict[str, Any]) -> None:
            i = pending[n]
            metrics = sample_dir(self.path, it, i) / "train" / "logs" / "metrics.jsonl"
            done[i] = self.record(self.score(it, i, final, origins[i], metrics))

        self.train_programs(
            iteration_dir(self.path, it),
            [sample_dir(self.path, it, i) / "reward.py" for i in pending],
            [sample_dir(self.path, it, i) / "train" for i in pending],
            it,
            on_member=record,
        )

    def train_programs(
        self,
        folder: Path,
        programs: list[Path],
        dirs: list[Path],
        it: int,
        on_member: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Train ``programs`` with the run's executor; each member's final metrics, or
        ``{"status": <code>, "error": ...}`` for the members of a job that failed.
        ``on_member(n, final)`` is called as soon as member ``n``'s job ends.

        The local executor trains them together in one sandbox worker (a population), the
        Ray executor one per task. Either way the worker may write only ``folder/worker/``
        (its whole writable view under bubblewrap, the only folder handed to its uid
        otherwise): the members train in ``worker/sample_KK/`` from copies of their
        programs, and each member's folder is moved to its entry of ``dirs`` once its job
        has ended. So a program, however it gets out of its reward function, cannot touch
        the manifest, the scores, the report or a sample recorded before (``result.json``,
        ``reward.py``, ``vet.json``).
        With several members in one worker (the local executor), each program runs in a
        serving worker of its own (``Job.served``, ``agentgym.sandbox.served``), so no
        candidate's code runs in the training worker at all.
        """
        from agentgym.executors import Job

        cfg = self.config
        workspace = folder / "worker"
        if workspace.exists():  # left by a killed run: train again from scratch
            shutil.rmtree(workspace)
        copies = [f"programs/sample_{n:02d}/reward.py" for n in range(len(programs))]
        for program, copy in zip(programs, copies, strict=True):
            (workspace / copy).parent.mkdir(parents=True)
            shutil.copyfile(program, workspace / copy)
        steps = cfg.search_steps()
        learner, settings = cfg.training_settings(steps)
        self.emit("training", iteration=it, training=len(programs), total_steps=steps)
        members = list(range(len(programs)))
        groups = self.executor.member_groups(members)
        from agentgym.catalog import renders

        videos = self.videos and renders(cfg.env_id)
        jobs = [
            Job(
                self.train_target,
                workspace,
                kwargs={
                    "env_id": cfg.env_id,
                    "seeds": [cfg.seed] * len(group),
                    "learner": learner,
                    "config": settings,
                    "trace_episodes": cfg.trace_episodes,
                    **({"videos": [True] * len(group)} if videos else {}),
                },
                path_kwargs={
                    "programs": [copies[n] for n in group],
                    "run_dirs": [f"sample_{n:02d}" for n in group],
                },
                inputs=tuple(copies[n] for n in group),
                # Siblings in one worker: each program is served from a worker of its own.
                served=(
                    tuple(copies[n] for n in group) if len(group) > 1 and cfg.serve_programs else ()
                ),
                outputs=tuple(f"sample_{n:02d}" for n in group),
                watch=tuple(f"sample_{n:02d}/logs/metrics.jsonl" for n in group),
                limits=self.train_limits(learner, settings, len(group)),
                deadline_s=cfg.train_deadline_s,
            )
            for group in groups
        ]
        finals: list[dict[str, Any] | None] = [None] * len(programs)

        def on_result(j: int, result: Any) -> None:
            for m, n in enumerate(groups[j]):
                _collect(workspace / f"sample_{n:02d}", dirs[n])
                final = (
                    dict(result.value[m])
                    if result.ok
                    else {"status": str(result.code), "error": f"training failed: {result.message}"}
                )
                finals[n] = final
                if on_member is not None:
                    on_member(n, final)
            show()  # a job that ended moves the display even between progress polls

        progress = dict.fromkeys(members, 0)

        def on_progress(j: int, reported: list[int]) -> None:
            progress.update(zip(groups[j], reported, strict=False))
            show()

        def show() -> None:
            running = [progress[n] for n in members if finals[n] is None] or [steps]
            self.emit("train_progress", iteration=it, step=min(running), total_steps=steps)

        self.executor.run(jobs, on_result, on_progress)
        return [f if f is not None else {"status": "FAILED", "error": "no result"} for f in finals]

    def score(
        self, it: int, i: int, final: dict[str, Any], origin: str, metrics: Path
    ) -> Candidate:
        """The candidate a member's final metrics (and its ``metrics`` file) make."""
        status = str(final.get("status", "DONE"))
        step = final.get("step")
        if status != "DONE":
            message = str(final.get("error") or f"training stopped with {status}")
            if status == "NONFINITE":
                message = (
                    f"the reward became NaN or infinite during training at step {step}: {message}"
                )
            return Candidate(it, i, FAILED, status, message, step=step, origin=origin)
        row = _last_row_with(metrics, "reward_terms/")
        components = {
            k[len("reward_terms/") :]: float(v)
            for k, v in row.items()
            if k.startswith("reward_terms/") and v is not None
        }
        return Candidate(
            it,
            i,
            TRAINED,
            None,
            "",
            success=final.get("eval/success_rate") or 0.0,
            fitness=final.get("eval/fitness"),
            mean_return=final.get("eval/mean_return"),
            episode_length=final.get("eval/mean_length"),
            step=step,
            components=components,
            origin=origin,
        )
