"""Training presets: per task, the learner, its settings and a budget under which the
task's human reward succeeds (rl-baselines3-zoo's idea, one entry per env id).

Every entry point that trains (``agentgym train``, ``reward synthesize``, ``reward eval``,
the demo) starts from the env's preset and lays the user's flags over it; the run's
config.yaml records the preset and which fields the user overrode. A task family
registers its presets beside its envs (``envs/robotics/presets.py``), the way it registers
the envs themselves; ``agentgym.presets.tune`` is the search that chose the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentgym.registry import Registry


@dataclass(frozen=True)
class Preset:
    """How to train one task: learner, config fields, budget, and where the numbers came
    from (a preset without a measured result is a guess, and says so)."""

    env_id: str
    learner: str
    """A name in ``agentgym.learners.LEARNERS``."""
    steps: int
    """Env steps of a full training run (the budget under which the human reward succeeds)."""
    config: Mapping[str, Any] = field(default_factory=dict)
    """Fields of the learner's config (never env_id, reward, total_steps or seed)."""
    search_steps: int | None = None
    """Env steps per candidate during reward search (None: ``steps``)."""
    source: str = ""
    """How the numbers were chosen (script, trials, date)."""
    measured: Mapping[str, Any] = field(default_factory=dict)
    """What the human reward reached under this preset, with seeds, wall time and machine."""

    def __post_init__(self) -> None:
        reserved = sorted({"env_id", "reward", "total_steps", "seed"} & set(self.config))
        if reserved:
            raise ValueError(
                f"Preset({self.env_id!r}).config: {reserved} are set per run, not per preset"
            )
        if self.steps <= 0 or (self.search_steps is not None and self.search_steps <= 0):
            raise ValueError(f"Preset({self.env_id!r}): steps and search_steps must be positive")


PRESETS: Registry[Preset] = Registry("preset")
"""Env id -> its default preset (the one a run without ``--learner`` trains with)."""

_BY_LEARNER: dict[tuple[str, str], Preset] = {}
"""(env id, learner) -> that learner's preset for the env, the default among them."""


def register_preset(preset: Preset, *, default: bool = True) -> None:
    """Register a preset; ``default=False`` adds one for another learner of an env
    (rl-baselines3-zoo keeps one file of settings per algorithm): ``--learner`` picks it,
    a run without ``--learner`` keeps the env's default preset."""
    key = (preset.env_id, preset.learner)
    if key in _BY_LEARNER:
        raise ValueError(
            f"preset {preset.env_id!r} for learner {preset.learner!r} is registered twice"
        )
    if default:
        PRESETS.register(preset.env_id, preset)
    _BY_LEARNER[key] = preset


def preset_for(env_id: str, learner: str | None = None) -> Preset | None:
    """The env's default preset, or with ``learner`` its preset for that learner; None
    when there is none (after the env families registered theirs)."""
    import agentgym  # noqa: F401  (the env families register their presets on import)

    if learner is None:
        return PRESETS.get(env_id) if env_id in PRESETS else None
    return _BY_LEARNER.get((env_id, learner))


def all_presets() -> list[Preset]:
    """Every registered preset, defaults and the other learners' alike."""
    import agentgym  # noqa: F401

    return [p for _, p in sorted(_BY_LEARNER.items())]


@dataclass(frozen=True)
class Resolved:
    """A training request after the preset: the learner, every config value, and a record
    of where each came from (for config.yaml)."""

    learner: str
    values: dict[str, Any]
    preset: str | None
    overrides: tuple[str, ...]

    def record(self) -> dict[str, Any]:
        return {"name": self.preset, "overrides": list(self.overrides)}


def resolve(
    env_id: str, learner: str | None, given: Mapping[str, Any], *, use_preset: bool = True
) -> Resolved:
    """Lay the user's values over the env's preset.

    ``learner`` None means "the default preset's learner" (``ppo`` when the env has no
    preset). Asking for another learner takes the env's preset for that learner where one
    is registered, else that learner's own defaults (a preset's numbers belong to its
    learner).
    """
    default = preset_for(env_id) if use_preset else None
    chosen = learner or (default.learner if default else "ppo")
    preset = preset_for(env_id, chosen) if use_preset else None
    per_run = {"env_id", "reward", "seed"}
    if preset is None:
        return Resolved(chosen, dict(given), None, tuple(sorted(set(given) - per_run)))
    values = {**preset.config, "total_steps": preset.steps}
    overrides = tuple(
        sorted(
            k for k, v in given.items() if k not in per_run and (k not in values or values[k] != v)
        )
    )
    values.update(given)
    return Resolved(chosen, values, env_id, overrides)


__all__ = [
    "PRESETS",
    "Preset",
    "Resolved",
    "all_presets",
    "preset_for",
    "register_preset",
    "resolve",
]
