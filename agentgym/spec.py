"""What an env tells a reward designer about itself.

A ``TaskSpec`` holds the instruction, the success criterion, the task fitness (a
continuous "how well was the task done", Eureka's F), how episodes end, and the state
variables a reward may read. Privileged values (the success flag, the fitness, the env's
own reward) are never state variables, so a generated reward cannot read the answer.
"""

from __future__ import annotations

import functools
import keyword
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Names an env may put in info but which must never reach a reward program.
PRIVILEGED_NAMES = frozenset(
    {"success", "is_success", "fitness", "env_reward", "reward", "reward_terms"}
)

SUCCESS_FITNESS = (
    "the success flag at the episode's end (1 or 0): the task has no natural continuous "
    "measure of how well it was done"
)
"""``TaskSpec.fitness`` of tasks whose fitness is their success."""

TERMINATIONS = ("", "never", "failure", "success", "success_or_failure")
"""Values of ``TaskSpec.termination``: what ends an episode before its time limit."""

NUMERIC_DTYPES = ("float32", "float64", "int32", "int64", "bool")
TEXT_DTYPES = ("str",)


@dataclass(frozen=True)
class StateVar:
    """One value a reward may read: ``info["reward_state"][name]``."""

    name: str
    """Identifier used as the key in ``reward_state`` and as the attribute in prompts."""
    shape: tuple[int, ...]
    """Shape for one env (no batch dimension); ``()`` for a scalar."""
    dtype: str
    """One of float32, float64, int32, int64, bool, or str for text state."""
    units: str
    """Physical or logical units ("m", "m/s", "rad", "count", "-" when unitless)."""
    meaning: str
    """One line: what the value is, in the words a prompt would use."""
    aliases: tuple[str, ...] = ()
    """Other names a designer may use for this variable (``gripper_pos`` for MetaWorld's
    ``tcp_pos``): names a model reaches for by habit, read as this variable instead of
    being rejected as unknown. Never keys of ``reward_state``."""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or keyword.iskeyword(self.name):
            raise ValueError(f"StateVar.name must be a Python identifier, got {self.name!r}")
        for alias in self.aliases:
            if not isinstance(alias, str) or not alias.isidentifier() or keyword.iskeyword(alias):
                raise ValueError(
                    f"StateVar {self.name!r}: aliases must be Python identifiers, got {alias!r}"
                )
        if self.name in PRIVILEGED_NAMES:
            raise ValueError(
                f"StateVar.name {self.name!r} is privileged (success flag, fitness or env "
                "reward) "
                "and may not be exposed to a reward"
            )
        if self.dtype not in NUMERIC_DTYPES + TEXT_DTYPES:
            raise ValueError(
                f"StateVar {self.name!r}: dtype must be one of "
                f"{', '.join(NUMERIC_DTYPES + TEXT_DTYPES)}, got {self.dtype!r}"
            )
        if not isinstance(self.shape, tuple) or not all(
            isinstance(d, int) and d >= 0 for d in self.shape
        ):
            raise ValueError(
                f"StateVar {self.name!r}: shape must be a tuple of ints, got {self.shape!r}"
            )
        if not self.meaning.strip():
            raise ValueError(f"StateVar {self.name!r}: meaning must be a non-empty sentence")

    @property
    def is_text(self) -> bool:
        return self.dtype in TEXT_DTYPES

    def check(self, value: Any) -> None:
        """Raise ValueError unless ``value`` is a valid value for one env."""
        if self.is_text:
            if not isinstance(value, str):
                raise ValueError(
                    f"reward_state[{self.name!r}] must be str, got {type(value).__name__}"
                )
            return
        arr = np.asarray(value)
        if arr.shape != self.shape:
            raise ValueError(
                f"reward_state[{self.name!r}] has shape {arr.shape}, TaskSpec says {self.shape}"
            )


@dataclass(frozen=True)
class TaskSpec:
    """The task as a reward designer sees it."""

    name: str
    """Short task name, e.g. "Reach"."""
    instruction: str
    """What the agent should do, in plain language."""
    success: str
    """The success criterion in plain language (the metric designers are ranked by)."""
    state: tuple[StateVar, ...]
    """Values a reward may read, delivered every step in ``info["reward_state"]``."""
    action_meaning: str = ""
    """What the action vector or command means (units, ranges)."""
    family: str = ""
    """Env family: robotics, manipulation, vlm, text, web, tools."""
    tags: tuple[str, ...] = field(default_factory=tuple)
    """Free-form tags used for retrieval of few-shot examples."""
    fitness: str = SUCCESS_FITNESS
    """One line: the task fitness, a privileged continuous score of how well an episode did
    the task (Eureka's F). The env reports it as ``info["fitness"]`` every step (the
    episode's value so far; its value at the episode's end is the episode's). Search ranks
    candidates of equal success rate by it."""
    robot: str = ""
    """The robot (or simulated body) that does the task, e.g. "Sawyer", "Ant"; tasks of one
    robot share it, so ``agentgym envs`` counts distinct robots. Empty: no robot (a
    language agent in a text, web or tool env)."""
    termination: str = ""
    """What ends an episode before its time limit: "never" (it only truncates), "failure",
    "success", "success_or_failure", or "" (not declared). A reward that is the same
    nonzero constant on every step still teaches through it (an alive bonus when episodes
    end on failure, a cost per step when they end on success)."""

    def __post_init__(self) -> None:
        names = [v.name for v in self.state]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(
                f"TaskSpec {self.name!r}: state variables named twice: {sorted(dupes)}"
            )
        taken = set(names)
        for v in self.state:
            for alias in v.aliases:
                if alias in taken:
                    raise ValueError(
                        f"TaskSpec {self.name!r}: alias {alias!r} of {v.name!r} is already a "
                        "state variable or another variable's alias"
                    )
                taken.add(alias)
        if not self.instruction.strip():
            raise ValueError(f"TaskSpec {self.name!r}: instruction must be non-empty")
        if not self.success.strip():
            raise ValueError(f"TaskSpec {self.name!r}: success criterion must be non-empty")
        if not self.fitness.strip():
            raise ValueError(f"TaskSpec {self.name!r}: fitness must be a non-empty sentence")
        if self.termination not in TERMINATIONS:
            raise ValueError(
                f"TaskSpec {self.name!r}: termination must be one of {TERMINATIONS}, "
                f"got {self.termination!r}"
            )

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.state)

    @functools.cached_property
    def text_state_names(self) -> frozenset[str]:
        """The names of the text state variables (asked per vector step: kept)."""
        return frozenset(v.name for v in self.state if v.is_text)

    def var(self, name: str) -> StateVar:
        for v in self.state:
            if v.name == name:
                return v
        from agentgym.registry import suggest

        raise KeyError(
            f"TaskSpec {self.name!r} has no state variable {name!r}.{suggest(name, self.state_names)}"
        )

    def check_state(self, reward_state: dict[str, Any]) -> None:
        """Raise ValueError unless ``reward_state`` holds exactly the declared variables."""
        missing = set(self.state_names) - set(reward_state)
        extra = set(reward_state) - set(self.state_names)
        if missing or extra:
            raise ValueError(
                f"reward_state of {self.name!r} does not match its TaskSpec: "
                f"missing {sorted(missing)}, undeclared {sorted(extra)}"
            )
        for v in self.state:
            v.check(reward_state[v.name])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "instruction": self.instruction,
            "success": self.success,
            "fitness": self.fitness,
            "termination": self.termination,
            "action_meaning": self.action_meaning,
            "family": self.family,
            "robot": self.robot,
            "tags": list(self.tags),
            "state": [
                {
                    "name": v.name,
                    "shape": list(v.shape),
                    "dtype": v.dtype,
                    "units": v.units,
                    "meaning": v.meaning,
                }
                for v in self.state
            ],
        }

    def pythonic_abstraction(self) -> str:
        """Text2Reward's "Pythonic abstraction": a class stub whose attributes are the state."""
        lines = [f"class {self.name.replace('-', '_')}State:", f'    """{self.instruction}', ""]
        lines.append(f"    Success: {self.success}")
        if self.action_meaning:
            lines.append(f"    Action: {self.action_meaning}")
        lines.append('    """')
        for v in self.state:
            shape = "scalar" if v.shape == () else f"shape {v.shape}"
            kind = (
                "str"
                if v.is_text
                else f"torch.Tensor  # [num_envs{''.join(f', {d}' for d in v.shape)}]"
            )
            lines.append(f"    {v.name}: {kind}")
            lines.append(f"    # {v.meaning} ({shape}, {v.dtype}, units: {v.units})")
        return "\n".join(lines)
