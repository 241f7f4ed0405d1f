"""What every registered learner offers the run code (``agentgym.runs.training``).

A learner class names its config dataclass and trains itself into a run folder given as
plain paths, so learners never import ``agentgym.runs`` and the run code needs no
per-learner branches: it looks the class up in ``agentgym.learners.LEARNERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

Callback = Callable[[dict[str, Any]], "bool | None"]
"""Receives each log row; returning False stops training."""


class Learner(Protocol):
    """The class-level contract of a learner registered under a ``--learner`` name."""

    config_class: ClassVar[type]
    """Its config dataclass (``PPOConfig``, ``AgentPPOConfig``); CLI values fill it."""
    default_reward: ClassVar[str]
    """The reward spec used when none is given (``env``, or ``sparse`` for agents)."""
    several_rewards: ClassVar[bool]
    """True when it trains one member per reward (``members/<k>`` sub-runs); such a
    learner also names ``member_learner``, the learner each member's folder records."""
    checkpoint_file: ClassVar[str]
    """The file in ``checkpoints/`` that ``--resume`` continues from."""

    @classmethod
    def check_request(cls, config: Any, rewards: Sequence[str]) -> None:
        """Raise (naming the field) for what would fail once training starts: an unknown
        env id, a reward spec the env cannot take, an env the learner cannot act in."""

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or, with ``request.resume``, continue from ``checkpoints/<checkpoint_file>``)
        in ``request.run_dir`` and return the final metrics. A learner with
        ``several_rewards`` trains one member per reward in ``request.member_dirs``; its
        result then carries ``member_results``, one final-metrics dict per member
        (``summarise_members``)."""
        ...


@dataclass(frozen=True)
class RunRequest:
    """What the run code hands a learner: its config and a run folder given as paths."""

    config: Any
    """The learner's own config dataclass (``config_class``)."""
    run_dir: Path
    rewards: Sequence[str]
    """The reward spec of each member (one for a single learner)."""
    seeds: Sequence[int]
    member_dirs: Sequence[Path] = ()
    """The members' run folders (``several_rewards`` learners; empty otherwise)."""
    resume: bool = False
    callback: Callback | None = None


def train_members_in_run(population_class: Any, request: RunRequest) -> dict[str, Any]:
    """``train_in_run`` of a population learner (``several_rewards``): build it from the
    request (or resume every member's checkpoint of the same step), train every member in
    its folder, and summarise (``summarise_members``)."""
    if request.resume:
        population = population_class.resume_all(request.member_dirs)
        population.continue_to(request.config.total_steps)  # a resume may have extended it
    else:
        population = population_class(
            request.config,
            list(request.rewards),
            list(request.seeds),
            list(request.member_dirs),
        )
    try:
        results = population.learn_all(request.callback)
    finally:
        population.close()
    return summarise_members(results, request.member_dirs)


def summarise_members(
    results: Sequence[dict[str, Any]], member_dirs: Sequence[Path]
) -> dict[str, Any]:
    """A population's final metrics: the best member's (by evaluation success), the step
    the healthy members reached, and every member's own result in ``member_results``."""
    best = max(range(len(results)), key=lambda i: results[i].get("eval/success_rate") or 0.0)
    done = [int(r.get("step", 0)) for r in results if str(r.get("status", "")).upper() == "DONE"]
    return {
        "members": len(results),
        # "stopped" when a callback stopped the healthy members; a member stopped by its
        # own broken reward (NONFINITE, ERROR) has its status in its own manifest.
        "step": min(done or [max(int(r.get("step", 0)) for r in results)]),
        "best_member": Path(member_dirs[best]).name,
        **{f"best/{k}": v for k, v in results[best].items() if isinstance(v, (int, float))},
        "member_results": list(results),
    }


def member_configs(
    owner: str,
    base: Any,
    rewards: Sequence[str],
    seeds: Sequence[int] | None = None,
    run_dirs: Sequence[str | Path | None] | None = None,
) -> tuple[list[Any], list[str | Path | None]]:
    """One config per population member (``base`` with that member's reward and seed) and
    each member's run folder; ValueError naming ``owner`` and the list of the wrong length.
    Seeds default to ``base.seed + k``."""
    import dataclasses

    if not rewards:
        raise ValueError(f"{owner}: rewards must name at least one reward spec")
    k = len(rewards)
    seeds = list(seeds) if seeds is not None else [base.seed + i for i in range(k)]
    dirs = list(run_dirs) if run_dirs is not None else [None] * k
    for name, values in (("seeds", seeds), ("run_dirs", dirs)):
        if len(values) != k:
            raise ValueError(
                f"{owner}: {name} has {len(values)} entries, expected {k} (one per reward)"
            )
    configs = [
        dataclasses.replace(base, reward=r, seed=int(s))
        for r, s in zip(rewards, seeds, strict=True)
    ]
    return configs, dirs
