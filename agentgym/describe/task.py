"""``DescribedTask``: a user's task on an env agentgym has never seen, as one value (and
one YAML file they can version).

```yaml
base: Pusher-v5                  # any Gymnasium id ("mypkg.envs:MyEnv-v0" imports mypkg)
instruction: Push the puck to the goal.
success: torch.linalg.vector_norm(state["puck"] - state["goal"], dim=-1) < 0.05
state:                           # optional; default: every named body, every joint
  fingertip: body:tips_arm
  puck: body:object
  goal: body:goal
fitness: -torch.linalg.vector_norm(state["puck"] - state["goal"], dim=-1)   # optional
```
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agentgym.registry import suggest


@dataclass(frozen=True)
class DescribedTask:
    """An existing Gymnasium env plus what agentgym needs to design rewards for it."""

    base: str
    """The Gymnasium id of the env, e.g. ``Pusher-v5`` or ``mypkg.envs:MyEnv-v0``."""
    instruction: str
    """What the agent should do, in plain language (the prompt's task)."""
    success: str
    """When an episode succeeded: ``info:KEY`` (the env's own flag, e.g.
    ``info:is_success``) or a batched expression over ``state["NAME"]`` tensors and
    ``torch``, e.g. ``torch.linalg.vector_norm(state["puck"] - state["goal"], dim=-1) < 0.05``."""
    state: tuple[tuple[str, str], ...] = ()
    """(name, selector) pairs, e.g. ``("puck", "body:object")``; an empty name takes the
    selector's default (``object_pos``). Empty: every named body, site and joint (MuJoCo) or
    the observation (``obs``)."""
    fitness: str = ""
    """How well an episode did the task (higher is better), the same two forms as
    ``success``; empty: the success flag."""
    success_description: str = ""
    """The success criterion in words for the prompt; empty: the expression itself."""
    fitness_description: str = ""
    """The fitness in words; empty: the expression itself."""
    name: str = ""
    """The task's name in prompts; empty: the base env's name."""
    id: str = ""
    """The Gymnasium id it is registered under; empty: ``described/<base name>-v<version>``."""
    meanings: dict[str, str] = field(default_factory=dict)
    """State variable name -> a one-line meaning that replaces the derived one."""
    units: dict[str, str] = field(default_factory=dict)
    """State variable name -> units that replace the derived ones (an ``obs:KEY`` is "-")."""
    action_meaning: str = ""
    """What the action means; empty: the actuators and their ranges (MuJoCo) or the space."""
    family: str = "described"
    """The TaskSpec's family (``agentgym envs --family``)."""
    tags: tuple[str, ...] = ()
    """Tags for retrieval of few-shot examples; empty: ("described", the base's name)."""
    robot: str = ""
    """The robot that does the task (``agentgym envs`` counts distinct robots); empty: the
    base env's name."""
    max_episode_steps: int | None = None
    """The time limit; None: the base env's."""
    base_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``gym.make(base, ...)``."""
    trusted_rules: bool = False
    """Run the success and fitness expressions in this process: only for tasks shipped in
    agentgym (Fetch's) or written in your own code. A YAML task file cannot set it (nor
    can ``--success``): its expressions are vetted and run in a sandbox worker, like a
    reward program."""

    def __post_init__(self) -> None:
        for name in ("base", "instruction", "success"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"DescribedTask.{name} must be a non-empty string, got {value!r}")
        texts = (
            "fitness",
            "success_description",
            "fitness_description",
            "name",
            "id",
            "family",
            "action_meaning",
        )
        for name in texts:
            if not isinstance(getattr(self, name), str):
                raise ValueError(
                    f"DescribedTask.{name} must be a string, got {getattr(self, name)!r}"
                )
        for pair in self.state:
            if not (
                isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            ):
                raise ValueError(
                    f"DescribedTask.state must hold (name, selector) pairs, got {pair!r}"
                )
        steps = self.max_episode_steps
        if steps is not None and (not isinstance(steps, int) or steps <= 0):
            raise ValueError(
                f"DescribedTask.max_episode_steps must be a positive int, got {steps!r}"
            )
        for name in ("meanings", "units"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError(
                    f"DescribedTask.{name} must map state names to strings, got {value!r}"
                )
        if not isinstance(self.base_kwargs, dict):
            raise ValueError(
                f"DescribedTask.base_kwargs must be a mapping, got {self.base_kwargs!r}"
            )

    @property
    def base_name(self) -> str:
        """The base id's name without module, namespace or version (``Pusher``)."""
        from gymnasium.envs.registration import parse_env_id

        _, name, _ = parse_env_id(self.base.rpartition(":")[2])
        return name

    @property
    def env_id(self) -> str:
        """The id this task is registered under."""
        if self.id:
            return self.id
        from gymnasium.envs.registration import parse_env_id

        _, name, version = parse_env_id(self.base.rpartition(":")[2])
        return f"described/{name}-v{0 if version is None else version}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON and YAML), the inverse of ``from_dict``."""
        out = asdict(self)
        out["state"] = [list(pair) for pair in self.state]
        out["tags"] = list(self.tags)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "task") -> DescribedTask:
        """Build from plain data; ``state`` may be a list of selectors (or of [name,
        selector] pairs) or a mapping name -> selector. Errors name the field."""
        if not isinstance(data, dict):
            raise ValueError(f"{origin}: a task is a mapping of fields, got {type(data).__name__}")
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise ValueError(
                    f"{origin}: unknown field {key!r}.{suggest(str(key), known)} "
                    f"Fields: {', '.join(known)}"
                )
        for key in ("base", "instruction", "success"):
            if key not in data:
                raise ValueError(f"{origin}: the field {key!r} is missing")
        values = dict(data)
        values["state"] = _state_pairs(data.get("state"), origin)
        if isinstance(values.get("tags"), list):
            values["tags"] = tuple(values["tags"])
        try:
            return cls(**values)
        except ValueError as err:
            raise ValueError(f"{origin}: {err}") from err

    @classmethod
    def from_yaml(cls, path: str | Path) -> DescribedTask:
        """Read a task file; errors name the file and the field."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"--task: {str(path)!r} does not exist")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: not valid YAML: {err}") from err
        if isinstance(data, dict) and "trusted_rules" in data:
            # A task file travels (a download, a colleague's repo): its expressions are
            # code someone else may have written, so only Python code can trust them.
            raise ValueError(
                f"{path}: trusted_rules cannot be set in a task file; its success and "
                "fitness expressions always run vetted in a sandbox worker"
            )
        return cls.from_dict(data, origin=str(path))


def _state_pairs(value: Any, origin: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = [("", v) if isinstance(v, str) else tuple(v) for v in value]
    else:
        raise ValueError(
            f"{origin}: state must be a list of selectors or a mapping name -> selector, "
            f"got {type(value).__name__}"
        )
    out = []
    for item in items:
        if len(item) != 2 or not all(isinstance(v, str) for v in item):
            raise ValueError(
                f"{origin}: state: {item!r} is not a selector or a name: selector pair"
            )
        out.append((item[0], item[1]))
    return tuple(out)
