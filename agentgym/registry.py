"""A small registry per extension point, with lazy "module:attr" targets.

Reward designers, learners, LLM backends and reward-spec kinds each have one
``Registry``; Gymnasium's own registry holds the envs. A lookup of an unknown name
raises ``UnknownNameError`` with a did-you-mean suggestion.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that no registry entry matches; the message suggests the closest ones."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly.
        return str(self.args[0])


def suggest(name: str, choices: list[str] | set[str] | tuple[str, ...]) -> str:
    """Return " Did you mean 'x'?" for the closest choice, or "" when none is close."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return f" Did you mean '{lowered[close[0]]}'?" if close else ""


def load_target(target: str) -> object:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ValueError(f"target {target!r} must have the form 'module:attr'")
    obj: object = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Names mapped to objects or to lazy ``"module:attr"`` strings."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, target: T | str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = target

    def get(self, name: str) -> T:
        self.check(name)
        target = self._entries[name]
        if isinstance(target, str):
            target = load_target(target)  # type: ignore[assignment]
            self._entries[name] = target
        return target  # type: ignore[return-value]

    def check(self, name: str) -> str:
        """``name`` if registered, else UnknownNameError with a suggestion; loads nothing."""
        if name not in self._entries:
            known = sorted(self._entries)
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{suggest(name, known)} Known: {', '.join(known)}"
            )
        return name

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package ``__init__`` whose public names live in
    submodules that import heavy dependencies (torch, gymnasium, transformers).

    ``exports`` maps a public name to the submodule (relative to ``package``) defining it,
    so ``import agentgym.learners.ppo`` stays cheap and ``agentgym --help`` answers at once.
    """

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__


RUNTIME_ENV_IDS: list[str] = []
"""Gymnasium ids registered while the program runs (``agentgym.describe.register``, a
user's own env), not when ``import agentgym`` runs: a worker process (a fresh Python)
knows them only if it is told, so ``runtime_registrations`` carries them there."""


def runtime_registrations() -> list[dict]:
    """The Gymnasium registrations of ``RUNTIME_ENV_IDS`` as JSON-able dicts (string entry
    points only: a class object cannot cross to another process)."""
    import gymnasium as gym

    out = []
    for env_id in dict.fromkeys(RUNTIME_ENV_IDS):
        spec = gym.registry.get(env_id)
        if spec is None or not isinstance(spec.entry_point, str):
            continue
        out.append(
            {
                "id": spec.id,
                "entry_point": spec.entry_point,
                "kwargs": dict(spec.kwargs),
                "max_episode_steps": spec.max_episode_steps,
            }
        )
    return out


def register_runtime(registrations: list[dict]) -> None:
    """Register, in this process, what ``runtime_registrations`` gave in another; ids this
    process already knows stay as they are."""
    import gymnasium as gym

    import agentgym  # noqa: F401  (registers the envs first, so ours are never overridden)

    for reg in registrations:
        if reg["id"] not in gym.registry:
            gym.register(**reg)
            RUNTIME_ENV_IDS.append(reg["id"])
