"""``TextTaskEnv``: the shared base of language-action envs (text games, web, tools).

An agent acts by writing a command ("go forward", "take apple 1 from countertop 1",
"click button 2"). Every family built on this base keeps the same conventions, so
demonstrations, the env server and language-model learners work on all of them:

- **Action space**: ``gymnasium.spaces.Text`` (``command_space()``). Any string is a
  legal action; commands are normalised (case, surrounding and repeated whitespace, a
  trailing full stop) before the env parses them. A non-string action (an int, None, an
  array) or an over-long string is *malformed*: it is answered, never raised.
- **Observation**: text (``text_space()``), or a ``Dict`` whose ``"text"`` key holds the
  text beside other views (a grid, a screenshot). ``fit_text`` keeps text inside the
  space's charset and length.
- **info["action_valid"]** (bool): whether the command was understood *and* executed.
  An invalid or malformed command leaves the world unchanged (a step is still counted),
  gives ``action_valid=False`` and an observation that says what went wrong ("Nothing
  happens." or a message naming the problem). This is SPA's grounding signal.
- **info["admissible_actions"]** (list[str]): the commands valid in the current state,
  when the env knows them.
- **info["reward_state"]**: the TaskSpec's state, as text and numbers. ``TEXT_STATE``
  holds the variables every text env shares; families add their own. Never the
  success flag.
- **expert_action()**: the next command of the family's expert (a bot, a planner, a
  scripted solver) from the current state. ``agentgym record`` runs it for every family.

A subclass implements ``_reset`` (TaskEnv's), ``_execute(command) -> CommandResult``
and ``_observe(feedback) -> (obs, info)``; the base does parsing, counting, malformed
actions and the reward contract.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, ClassVar, SupportsFloat

import numpy as np
from gymnasium import spaces

from agentgym.core import TaskEnv, apply_reward
from agentgym.spec import StateVar

#: Characters an observation may hold: printable ASCII, newlines and tabs included.
TEXT_CHARSET = string.printable
#: Characters a command may hold. Random samples of the space are (almost always) invalid
#: commands, which is what Gymnasium's checks and the registry sweep should exercise.
COMMAND_CHARSET = string.ascii_letters + string.digits + " -_/'.,:#"
#: Default longest command, in characters.
MAX_COMMAND_LENGTH = 128
#: Default longest observation text, in characters.
MAX_TEXT_LENGTH = 4096

#: What an env answers when a command is not understood or cannot be executed.
NOTHING_HAPPENS = "Nothing happens."

#: State variables every text env exposes (families add their own after these).
TEXT_STATE: tuple[StateVar, ...] = (
    StateVar("observation", (), "str", "-", "the text the agent observed after its last command"),
    StateVar("mission", (), "str", "-", "the goal of this episode in plain language"),
    StateVar(
        "last_action", (), "str", "-", "the agent's last command, normalised ('' after reset)"
    ),
    StateVar(
        "last_action_valid",
        (),
        "bool",
        "-",
        "whether the last command was understood and executed (True after reset)",
    ),
    StateVar("steps_taken", (), "int64", "count", "commands issued in this episode, valid or not"),
    StateVar("invalid_actions", (), "int64", "count", "commands in this episode that were invalid"),
)


def command_space(max_length: int = MAX_COMMAND_LENGTH) -> spaces.Text:
    """The action space of a text env: one command of at most ``max_length`` characters."""
    return spaces.Text(max_length=max_length, min_length=1, charset=COMMAND_CHARSET)


def text_space(max_length: int = MAX_TEXT_LENGTH) -> spaces.Text:
    """The space of an observation text (printable ASCII, at most ``max_length`` chars)."""
    return spaces.Text(max_length=max_length, min_length=1, charset=TEXT_CHARSET)


def fit_text(text: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """``text`` made to lie in ``text_space(max_length)``: unknown characters become '?',
    over-long text is cut with a marker, and empty text becomes a single space."""
    allowed = set(TEXT_CHARSET)
    clean = "".join(c if c in allowed else "?" for c in text)
    if len(clean) > max_length:
        marker = " [...]"
        clean = clean[: max_length - len(marker)] + marker
    return clean or " "


def normalize_command(command: str) -> str:
    """Lower case, single spaces, no surrounding whitespace and no trailing full stop."""
    return " ".join(command.strip().rstrip(".!").lower().split())


def parse_action(action: Any, max_length: int = MAX_COMMAND_LENGTH) -> tuple[str | None, str]:
    """``(command, "")`` for a usable action, ``(None, problem)`` for a malformed one.

    Accepts ``str``, ``bytes`` (UTF-8) and numpy string scalars or 0-d arrays, which is
    what a vector env or a JSON client may hand over.
    """
    if isinstance(action, np.ndarray) and action.ndim == 0:
        action = action.item()
    if isinstance(action, bytes):
        try:
            action = action.decode("utf-8")
        except UnicodeDecodeError:
            return None, "Malformed action: bytes that are not UTF-8 text; expected a text command."
    if not isinstance(action, str):
        return None, (
            f"Malformed action: expected a text command (str), got {type(action).__name__}. "
            "Nothing happens."
        )
    if len(action) > max_length:
        return None, (
            f"Malformed action: the command has {len(action)} characters, at most {max_length} "
            "are allowed. Nothing happens."
        )
    command = normalize_command(action)
    if not command:
        return None, "Malformed action: the command is empty. Nothing happens."
    return command, ""


@dataclass
class CommandResult:
    """What executing one command did."""

    feedback: str
    """The text the env answers with (becomes the observation text)."""
    valid: bool
    """Whether the command was understood and executed."""
    reward_terms: dict[str, float] = field(default_factory=dict)
    """The env's own reward components for this step; they sum to its reward."""
    terminated: bool = False
    truncated: bool = False
    command: str | None = None
    """The canonical form of an understood command ("turn right" for "right"); it becomes
    ``last_action``. None keeps the normalised command as given."""


class TextTaskEnv(TaskEnv):
    """A TaskEnv whose actions are text commands; see the module docstring for the rules.

    Subclasses set ``task_spec`` (its state starting with ``TEXT_STATE``), ``reward_names``
    (the keys of the env's reward terms, the same every step) and the spaces, and
    implement ``_reset``, ``_execute``, ``_observe`` and ``expert_action``. In ``_reset``
    they call ``self._begin_episode(mission)`` before ``_observe``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    reward_names: ClassVar[tuple[str, ...]] = ("task",)
    max_command_length: ClassVar[int] = MAX_COMMAND_LENGTH

    def __init__(self, *, reward: Any = None, render_mode: str | None = None) -> None:
        super().__init__(reward=reward, render_mode=render_mode)
        self.action_space = command_space(self.max_command_length)
        self.mission = ""
        self.last_action = ""
        self.last_action_valid = True
        self.last_feedback = ""
        self.steps_taken = 0
        self.invalid_actions = 0
        self._view = ""  # the text of the last observation, what render("ansi") shows

    # -- what subclasses implement ------------------------------------------------
    def _execute(self, command: str) -> CommandResult:
        """Parse and execute one normalised command."""
        raise NotImplementedError  # abstract: each family has its own command language

    def _observe(self, feedback: str) -> tuple[Any, dict[str, Any]]:
        """The observation and info (reward_state, success, admissible_actions) now,
        given the feedback text of the last command (or the intro after reset)."""
        raise NotImplementedError  # abstract: each family describes its own world

    def expert_action(self) -> str:
        """The next command of the family's expert from the current state."""
        raise NotImplementedError  # abstract: each family has its own expert

    # -- helpers for subclasses ---------------------------------------------------
    def _begin_episode(self, mission: str) -> None:
        self.mission = mission
        self.last_action = ""
        self.last_action_valid = True
        self.last_feedback = ""
        self.steps_taken = 0
        self.invalid_actions = 0

    def text_state(self, observation: str) -> dict[str, Any]:
        """The values of ``TEXT_STATE`` now, for ``info["reward_state"]``."""
        return {
            "observation": observation,
            "mission": self.mission,
            "last_action": self.last_action,
            "last_action_valid": bool(self.last_action_valid),
            "steps_taken": np.int64(self.steps_taken),
            "invalid_actions": np.int64(self.invalid_actions),
        }

    # -- the contract -------------------------------------------------------------
    def _step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        command, problem = parse_action(action, self.max_command_length)
        if command is None:
            result = CommandResult(problem, False)
            self.last_action = ""
        else:
            result = self._execute(command)
            self.last_action = result.command or command
        self.steps_taken += 1
        self.last_action_valid = result.valid
        self.invalid_actions += 0 if result.valid else 1
        self.last_feedback = result.feedback
        obs, info = self._observe(result.feedback)
        self._view = observation_text(obs)
        terms = {name: float(result.reward_terms.get(name, 0.0)) for name in self.reward_names}
        unknown = set(result.reward_terms) - set(self.reward_names)
        if unknown:
            raise KeyError(
                f"{type(self).__name__}: reward terms {sorted(unknown)} are not in reward_names"
            )
        info["action_valid"] = bool(result.valid)
        info["env_reward_terms"] = terms
        return obs, sum(terms.values()), result.terminated, result.truncated, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        self._view = observation_text(obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        # TaskEnv.step hands the raw action to the reward model, which holds actions as
        # tensors; a text command is not one. Reward programs of text envs read the
        # command from state["last_action"]; their action tensor is the validity flag.
        obs, env_reward, terminated, truncated, info = self._step(action)
        reward, terms = apply_reward(
            self.reward_model,
            self.task_spec,
            np.int64(info["action_valid"]),
            float(env_reward),
            info,
        )
        info.pop("env_reward_terms", None)
        info["env_reward"] = float(env_reward)
        info["reward_terms"] = terms
        info["fitness"] = float(self._fitness(info))
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        """With ``render_mode="ansi"``: what a person needs to follow the episode, the
        mission (when the observation does not state it), the last command and the whole
        text the agent observed after it. None in other modes."""
        if self.render_mode != "ansi":
            return None
        lines = []
        if self.mission and self.mission not in self._view:
            lines.append(f"Mission: {self.mission}")
        if self.steps_taken:
            lines.append(f"> {self.last_action or '(malformed action)'}")
        lines.append(self._view)
        return "\n".join(lines)


# -- demonstrations -------------------------------------------------------------------
def observation_text(obs: Any) -> str:
    """The text view of an observation: the observation itself, or its ``"text"`` key."""
    if isinstance(obs, dict):
        if "text" not in obs:
            raise KeyError(f"observation dict has no 'text' view; keys: {sorted(obs)}")
        return str(obs["text"])
    return str(obs)


def expert_of(env: Any) -> Any:
    """The ``expert_action`` method of a (wrapped) env, or a TypeError naming the env."""
    expert = getattr(env.unwrapped, "expert_action", None)
    if expert is None:
        spec = getattr(env, "spec", None)
        name = spec.id if spec is not None else type(env.unwrapped).__name__
        raise TypeError(
            f"{name} has no expert: demonstrations need an env with expert_action() "
            "(a TextTaskEnv family: text, web, tools)"
        )
    return expert


def expert_episode(env: Any, seed: int | None, max_steps: int = 10_000) -> dict[str, Any]:
    """Run the env's expert for one episode; return the episode as a JSON-able record.

    The record holds ``env_id``, ``seed``, ``instruction``, ``steps`` (each with the
    ``observation`` the expert acted on, its ``action``, the ``reward``, ``action_valid``
    and the ``admissible_actions`` it chose from), ``final_observation``, ``success``,
    ``return``, ``length`` and ``truncated``. This is the format behaviour cloning reads.
    """
    expert = expert_of(env)
    obs, info = env.reset(seed=seed)
    spec = getattr(env, "spec", None)
    record: dict[str, Any] = {
        "env_id": spec.id if spec is not None else type(env.unwrapped).__name__,
        "seed": seed,
        "instruction": info.get("mission", getattr(env.unwrapped, "mission", "")),
        "steps": [],
    }
    total, terminated, truncated = 0.0, False, False
    for _ in range(max_steps):
        action = expert()
        step: dict[str, Any] = {"observation": observation_text(obs), "action": action}
        if "admissible_actions" in info:
            step["admissible_actions"] = list(info["admissible_actions"])
        obs, reward, terminated, truncated, info = env.step(action)
        step.update(reward=float(reward), action_valid=bool(info.get("action_valid", True)))
        record["steps"].append(step)
        total += float(reward)
        if terminated or truncated:
            break
    record.update(
        final_observation=observation_text(obs),
        success=bool(info.get("success", False)),
        length=len(record["steps"]),
        truncated=bool(truncated and not terminated),
        **{"return": total},
    )
    return record
