"""Reward specs: the strings ``gym.make(..., reward=SPEC)`` and ``--reward`` accept.

    SPEC  := TERM ("+" TERM)*
    TERM  := [WEIGHT "*"] ATOM
    ATOM  := "env" | "sparse" | PATH.py | RUN_DIR (holding best_reward.py) | KIND ":" ARGS | KIND

``KIND:ARGS`` atoms (``clip:goal=...;baseline=...``, ``library:reach``,
``trust:PATH.py``) are looked up in ``REWARD_KINDS``; a bare ``KIND`` (``spa``) is
``KIND:`` with every setting at its default. Program files go through
``agentgym.sandbox.loader``: vetted and run in a sandbox worker, unless named with
``trust:`` (only for code you wrote) or shipped in the package's library.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from agentgym.registry import Registry, UnknownNameError, load_target, suggest
from agentgym.rewards.base import RewardModel
from agentgym.rewards.builtin import (
    EnvReward,
    RolloutWeightedSum,
    SparseSuccessReward,
    WeightedSum,
)
from agentgym.rewards.program import RewardProgramError
from agentgym.spec import TaskSpec


class RewardFactory(Protocol):
    def __call__(self, args: str, spec: TaskSpec | None) -> RewardModel: ...


REWARD_KINDS: Registry[RewardFactory] = Registry("reward kind")
"""``KIND:ARGS`` reward atoms. One registration site: this module."""
# Issues that add a kind register it here, e.g.
# REWARD_KINDS.register("clip", "agentgym.reward_designers.clip.reward:reward_from_spec")
REWARD_KINDS.register("clip", "agentgym.reward_designers.clip.reward:reward_from_spec")
REWARD_KINDS.register("spa", "agentgym.reward_designers.progress.reward:reward_from_spec")
REWARD_KINDS.register("oni", "agentgym.reward_designers.labelled.oni:reward_from_spec")
REWARD_KINDS.register("subgoals", "agentgym.reward_designers.labelled.subgoals:reward_from_spec")
REWARD_KINDS.register("library", "agentgym.sandbox.loader:library_from_spec")
REWARD_KINDS.register("trust", "agentgym.sandbox.loader:trusted_from_spec")

PROGRAM_LOADER = "agentgym.sandbox.loader:load_reward_program"
"""The one loader of program files (vetting, sandbox worker); lazy, as the kinds are."""

BEST_PROGRAM = "best_reward.py"
_WEIGHTED = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*\s*(.+?)\s*$")
_KIND = re.compile(r"^([A-Za-z][\w-]*):(.*)$", re.S)


class RewardSpecError(ValueError):
    """A reward spec that cannot be parsed; the message names the bad part."""


def _expected() -> str:
    kinds = ", ".join(REWARD_KINDS.names()) or "none registered"
    return (
        "expected 'env', 'sparse', a path to a .py reward program, a synthesis run folder "
        f"holding {BEST_PROGRAM}, or KIND:ARGS with KIND one of [{kinds}], each optionally "
        "as WEIGHT*PART and joined by '+'"
    )


def _atom(text: str, spec_text: str, task: TaskSpec | None) -> RewardModel:
    if text == "env":
        return EnvReward()
    if text == "sparse":
        return SparseSuccessReward()
    if text in REWARD_KINDS:
        return _kind_atom(text, "", text, spec_text, task)
    path = Path(text).expanduser()
    kind_atom = _KIND.match(text)
    if (text.endswith(".py") or path.is_dir()) and not (
        kind_atom and kind_atom.group(1) in REWARD_KINDS.names()
    ):
        program = path / BEST_PROGRAM if path.is_dir() else path
        if not program.is_file():
            raise RewardSpecError(
                f"reward spec {spec_text!r}: part {text!r} is a folder without {BEST_PROGRAM}"
                if path.is_dir()
                else f"reward spec {spec_text!r}: part {text!r}: no such program file"
            )
        loader: Any = load_target(PROGRAM_LOADER)
        try:
            return loader(program, task)
        except RewardProgramError as err:
            raise RewardSpecError(f"reward spec {spec_text!r}: part {text!r}: {err}") from err
    match = _KIND.match(text)
    if match and not (len(match.group(1)) == 1 and text[1:3] in (":\\", ":/")):
        kind, args = match.groups()
        return _kind_atom(kind, args, text, spec_text, task)
    hint = suggest(text, ["env", "sparse", *REWARD_KINDS.names()])
    raise RewardSpecError(
        f"reward spec {spec_text!r}: part {text!r} is not a reward;{hint} {_expected()}"
    )


def _kind_atom(
    kind: str, args: str, text: str, spec_text: str, task: TaskSpec | None
) -> RewardModel:
    try:
        factory = REWARD_KINDS.get(kind)
    except UnknownNameError as err:
        raise RewardSpecError(f"reward spec {spec_text!r}: part {text!r}: {err}") from err
    try:
        return factory(args, task)
    except (ValueError, KeyError) as err:
        raise RewardSpecError(f"reward spec {spec_text!r}: part {text!r}: {err}") from err


_TERM_START = re.compile(
    r"^\s*(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*\*\s*)?"
    r"(?:env\s*$|sparse\s*$|[A-Za-z][\w-]*:|\S+\.py\s*$|[./~])"
)


def _split_terms(spec: str) -> list[str]:
    """Split on '+', except inside a KIND:ARGS atom whose text holds a '+' (a prompt)."""
    pieces: list[str] = []
    for piece in spec.split("+"):
        inside_kind = pieces and _KIND.match(_WEIGHTED.sub(r"\2", pieces[-1]).strip())
        bare_kind = _WEIGHTED.sub(r"\2", piece).strip() in REWARD_KINDS
        if inside_kind and piece.strip() and not _TERM_START.match(piece) and not bare_kind:
            pieces[-1] += "+" + piece
        else:
            pieces.append(piece)
    return pieces


def spec_atoms(spec: str) -> list[str]:
    """The atoms of a spec, weights stripped (no loading, no checks)."""
    atoms = []
    for piece in _split_terms(spec):
        match = _WEIGHTED.match(piece)
        atoms.append(match.group(2) if match else piece.strip())
    return atoms


def parse_reward_spec(spec: str, task: TaskSpec | None = None) -> RewardModel:
    """Parse a reward spec string into a RewardModel."""
    if not isinstance(spec, str) or not spec.strip():
        raise RewardSpecError(f"reward spec must be a non-empty string; {_expected()}")
    parts: list[tuple[float, RewardModel]] = []
    for piece in _split_terms(spec):
        if not piece.strip():
            raise RewardSpecError(f"reward spec {spec!r}: empty part around '+'; {_expected()}")
        match = _WEIGHTED.match(piece)
        weight, atom = (float(match.group(1)), match.group(2)) if match else (1.0, piece.strip())
        parts.append((weight, _atom(atom, spec, task)))
    if len(parts) == 1 and parts[0][0] == 1.0:
        return parts[0][1]
    if any(callable(getattr(m, "relabel", None)) for _, m in parts):
        return RolloutWeightedSum(parts)
    return WeightedSum(parts)


def resolve_reward(reward: Any, task: TaskSpec | None = None) -> RewardModel | None:
    """``reward=`` as given to gym.make: None/"env" (the env's reward), a spec, or a model."""
    if reward is None or reward == "env":
        return None
    if isinstance(reward, (str, Path)):
        return parse_reward_spec(str(reward), task)
    if callable(reward) and hasattr(reward, "name"):
        return reward  # type: ignore[return-value]
    raise RewardSpecError(
        f"reward must be a spec string or a RewardModel, got {type(reward).__name__}; {_expected()}"
    )
