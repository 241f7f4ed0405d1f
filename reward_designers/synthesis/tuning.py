"""Tuning a trained program's numbers with an optimiser: optuna's TPE, K trials a round,
each round trained as one population.

After an iteration, the best trained program's tunable numbers (its designer says which:
a sketch's weights and scales, or the float literals ``numbers.py`` finds in free-form
code) get a log-uniform range of ``tune_range`` either side of their value. Each round asks
optuna for ``tune_trials`` settings at once, writes each as a program with the same
structure, vets them again (a tuned program is held to the same checks), trains those that
pass as ONE population batch (so K settings cost about one training run), and tells optuna
each one's score. The program as sampled is trial 0, told with the score it already has.

Why TPE and not botorch's GP-BO: the parameters are log-scaled and mixed in kind (a weight
of 0.01 beside a temperature of 2.0), which TPE handles natively per dimension; it costs
nothing next to a training run; it needs no dependency beyond optuna (botorch pulls
gpytorch); and ``constant_liar`` lets it propose a batch of K distinct points through
``ask`` before any of them is told, which is what one population batch needs.

The score told to optuna orders trials the way candidates are ranked: success first, the
task fitness only breaking ties (``objective``). TPE only compares trials, so squashing
fitness below one success step keeps the order without knowing its scale.

On disk, resumable round by round (a round is finished when its JSON exists)::

    <run>/iter_NN/tune/round_RR.json   the numbers, each trial's params, value and candidate
    <run>/iter_NN/tune/trial_TTT/      reward.py, vet.json, train/ of one trial
    <run>/iter_NN/tune/summary.json    the parent, the best trial, the reflection text
    <run>/iter_NN/sample_KK/           the best trial as a candidate (origin "tuned:..."),
                                       when it beat the program it was tuned from

A resumed run re-tells the finished rounds' trials to a fresh study (``add_trial``) and
trains only the rounds that never finished.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.reward_designers.synthesis.candidates import (
    REJECTED,
    TRAINED,
    Candidate,
    iteration_dir,
    read_json,
    sample_dir,
    write_json,
)

if TYPE_CHECKING:
    from agentgym.reward_designers.synthesis.config import SynthesisConfig
    from agentgym.reward_designers.synthesis.designers import Designer, IterationOutcome
    from agentgym.reward_designers.synthesis.numbers import Number
    from agentgym.reward_designers.synthesis.stages import CandidateStages

log = logging.getLogger(__name__)

TUNED = "tuned"
"""The origin prefix of a tuned candidate: ``tuned:iter_00/sample_01``."""


def objective(candidate: Candidate) -> float | None:
    """The value told to optuna: success + 0.01 * a squashed task fitness (the env's
    evaluation return where the task has no fitness); None for an untrained candidate.

    Success moves in steps of 1/eval_episodes (>= 0.01 for up to 100 episodes) and the
    fitness term stays within (-0.01, 0.01), so the order is ``Candidate.rank``'s."""
    if candidate.status != TRAINED:
        return None
    tie = candidate.fitness if candidate.fitness is not None else candidate.mean_return
    squashed = 0.0 if tie is None else math.atan(tie) * 2 / math.pi
    return (candidate.success or 0.0) + 0.01 * squashed * 0.999


class Tuner:
    """Tunes the numbers of each iteration's best program (see the module doc)."""

    def __init__(
        self,
        path: Path,
        config: SynthesisConfig,
        designer: Designer,
        stages: CandidateStages,
        emit: Callable[..., None],
    ) -> None:
        self.path = Path(path)
        self.config = config
        self.designer = designer
        self.stages = stages
        self.emit = emit

    def tune(self, it: int, outcome: IterationOutcome) -> Candidate | None:
        """Tune iteration ``it``'s best trained program; the best trial, when it beats that
        program, becomes a candidate of the iteration (added to ``outcome`` with its source
        and series) and is returned. ``outcome.tuning`` gets the text for the LLM."""
        folder = iteration_dir(self.path, it) / "tune"
        trained = outcome.trained()
        if not trained:
            return None
        parent = max(trained, key=lambda c: (c.rank, -c.index))
        source = outcome.sources[parent.index]
        numbers = self.designer.numbers(source, self.config.tune_params)
        if not numbers:
            text = (
                f"Tuning: {parent.folder_name} has no number to tune (no float weight, scale "
                "or temperature)."
            )
            write_json(folder / "summary.json", {"parent": parent.folder_name, "text": text})
            outcome.tuning = text
            return None
        trials = self._search(it, folder, parent, source, numbers)
        best = max(
            (t for t in trials if t["value"] is not None),
            key=lambda t: (Candidate.from_dict(t["candidate"]).rank, -t["number"]),
            default=None,
        )
        improved = best is not None and Candidate.from_dict(best["candidate"]).rank > parent.rank
        tuned = self._adopt(it, folder, parent, best) if improved else None
        text = self._reflection(parent, numbers, trials, best if improved else None)
        write_json(
            folder / "summary.json",
            {
                "parent": parent.folder_name,
                "parent_value": objective(parent),
                "numbers": [dataclasses.asdict(n) for n in numbers],
                "best_trial": best["number"] if improved else None,
                "candidate": tuned.folder_name if tuned else None,
                "text": text,
            },
        )
        outcome.tuning = text
        if tuned is not None:
            outcome.candidates.append(tuned)
            outcome.sources[tuned.index] = (
                sample_dir(self.path, it, tuned.index) / "reward.py"
            ).read_text()
        self.emit("tuned", iteration=it, parent=parent.folder_name, improved=improved, text=text)
        return tuned

    # -- the optuna study ---------------------------------------------------------------
    def _search(
        self, it: int, folder: Path, parent: Candidate, source: str, numbers: list[Number]
    ) -> list[dict[str, Any]]:
        """Run (or re-tell) every round; all trials, the parent's as trial 0."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cfg = self.config
        k = cfg.tune_trials
        distributions = {
            n.name: optuna.distributions.FloatDistribution(
                n.value / cfg.tune_range, n.value * cfg.tune_range, log=True
            )
            for n in numbers
        }
        with warnings.catch_warnings():
            # multivariate and constant_liar are flagged experimental; both are what a
            # batch of correlated weights needs
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=cfg.seed * 1000 + it,
                n_startup_trials=k,
                multivariate=True,
                constant_liar=True,
            )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        base = {
            "number": 0,
            "round": -1,
            "params": {n.name: n.value for n in numbers},
            "value": objective(parent),
            "candidate": parent.to_dict(),
        }
        study.add_trial(
            optuna.trial.create_trial(
                params=base["params"], distributions=distributions, value=base["value"]
            )
        )
        trials = [base]
        for r in range(cfg.tune_rounds):
            path = folder / f"round_{r:02d}.json"
            saved = read_json(path)
            if saved is None:
                saved = self._round(it, folder, r, study, distributions, source, numbers)
                write_json(path, saved)
            else:
                for t in saved["trials"]:
                    study.add_trial(_frozen(optuna, t, distributions))
            trials += saved["trials"]
        return trials

    def _round(
        self,
        it: int,
        folder: Path,
        r: int,
        study: Any,
        distributions: dict[str, Any],
        source: str,
        numbers: list[Number],
    ) -> dict[str, Any]:
        """Ask K trials, vet and train their programs as one batch, tell their values."""
        import optuna

        k = self.config.tune_trials
        asked = [study.ask(distributions) for _ in range(k)]
        numbers_of = [1 + r * k + j for j in range(k)]
        dirs = [folder / f"trial_{n:03d}" for n in numbers_of]
        sources = [self.designer.with_numbers(source, numbers, dict(t.params)) for t in asked]
        for d, s in zip(dirs, sources, strict=True):
            d.mkdir(parents=True, exist_ok=True)
            (d / "reward.py").write_text(s)
        self.emit("tuning", iteration=it, round=r, trials=k)
        verdicts = self.stages.vet_sources(folder / "vet", sources, [d / "vet.json" for d in dirs])
        passed = [j for j, (v, _, _) in enumerate(verdicts) if v.ok]
        finals = (
            self.stages.train_programs(
                folder,
                [dirs[j] / "reward.py" for j in passed],
                [dirs[j] / "train" for j in passed],
                it,
            )
            if passed
            else []
        )
        final_of = dict(zip(passed, finals, strict=True))
        records = []
        for j, trial in enumerate(asked):
            verdict, notes, auc = verdicts[j]
            origin = f"{TUNED}:trial_{numbers_of[j]:03d}"
            if j in final_of:
                metrics = dirs[j] / "train" / "logs" / "metrics.jsonl"
                cand = self.stages.score(it, numbers_of[j], final_of[j], origin, metrics)
            else:
                cand = Candidate(
                    it, numbers_of[j], REJECTED, str(verdict.code), verdict.message, origin=origin
                )
            cand = dataclasses.replace(cand, notes=[*cand.notes, *notes], preference_auc=auc)
            value = objective(cand)
            if value is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, value)
            records.append(
                {
                    "number": numbers_of[j],
                    "round": r,
                    "params": dict(trial.params),
                    "value": value,
                    "candidate": cand.to_dict(),
                }
            )
        return {
            "round": r,
            "numbers": [dataclasses.asdict(n) for n in numbers],
            "trials": records,
        }

    # -- the outcome ----------------------------------------------------------------------
    def _adopt(self, it: int, folder: Path, parent: Candidate, best: dict[str, Any]) -> Candidate:
        """Write the best trial as the iteration's candidate ``sample_<samples>``."""
        index = self.config.samples
        trial = folder / f"trial_{best['number']:03d}"
        target = sample_dir(self.path, it, index)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(trial / "reward.py", target / "reward.py")
        shutil.copyfile(trial / "vet.json", target / "vet.json")
        logs = target / "train" / "logs"
        if logs.exists():
            shutil.rmtree(logs)
        shutil.copytree(trial / "train" / "logs", logs)
        if (trial / "train" / "traces.json").is_file():
            shutil.copyfile(trial / "train" / "traces.json", target / "train" / "traces.json")
        data = {
            **best["candidate"],
            "iteration": it,
            "index": index,
            "origin": f"{TUNED}:{parent.folder_name}",
        }
        cand = Candidate.from_dict(data)
        write_json(target / "result.json", cand.to_dict())
        return cand

    def _reflection(
        self,
        parent: Candidate,
        numbers: list[Number],
        trials: list[dict[str, Any]],
        best: dict[str, Any] | None,
    ) -> str:
        """What tuning did, in the words the next prompt uses."""
        cfg = self.config
        tried = len(trials) - 1
        trained = sum(t["value"] is not None for t in trials[1:])
        head = (
            f"Tuning {parent.folder_name}'s numbers with an optimiser ({cfg.tune_rounds} "
            f"round{'s' if cfg.tune_rounds > 1 else ''} x {cfg.tune_trials} trials, each "
            f"trained like a sample; {trained} of {tried} trained)"
        )
        before = _result(parent)
        if best is None:
            return (
                f"{head}: no setting beat the numbers as written ({before}); the terms, not "
                "their weights, are what to change."
            )
        moved = []
        for n in numbers:
            new = best["params"][n.name]
            if abs(math.log(new / n.value)) > math.log(1.1):
                moved.append(f"{n.label} {n.value:.3g}→{new:.3g}")
        winner = Candidate.from_dict(best["candidate"])
        after = _result(winner)
        if after == before and None not in (parent.mean_return, winner.mean_return):
            # tied on success and fitness: the env's own return is what ranked it higher
            before += f", eval return {parent.mean_return:.6g}"
            after += f", eval return {winner.mean_return:.6g}"
        change = ", ".join(moved) if moved else "no number by more than 10%"
        return (
            f"{head}: moving {change} raised {before} to {after}; the program shown "
            "carries the tuned numbers."
        )


def _result(c: Candidate) -> str:
    text = f"success {c.success or 0:.2f}"
    if c.fitness is not None:
        text += f" (task fitness {c.fitness:.3g})"
    return text


def _frozen(optuna: Any, record: dict[str, Any], distributions: dict[str, Any]) -> Any:
    """A finished trial of a saved round, as optuna re-reads it."""
    if record["value"] is None:
        return optuna.trial.create_trial(
            params=record["params"],
            distributions=distributions,
            state=optuna.trial.TrialState.FAIL,
        )
    return optuna.trial.create_trial(
        params=record["params"], distributions=distributions, value=record["value"]
    )
