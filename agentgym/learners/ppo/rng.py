"""The random streams of PPO's members: one sampling generator per member.

Parameters are initialised from a generator seeded with the member's seed
(networks.py); action sampling and minibatch order draw from a second stream derived
from the same seed, so members never share randomness and member k of a population
draws exactly what a single learner with its seed draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import numpy as np
import torch


def sampling_seed(seed: int) -> int:
    """The seed of a member's sampling stream, distinct from its initialisation seed."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


class MemberGenerators(Sequence[torch.Generator]):
    """Member k's sampling generator at index k, on the learner's device.

    Its state (``state_dict``) also holds the process's torch RNG state, which nothing in
    PPO draws from but user code (a reward program) may; a checkpoint restores both.
    """

    def __init__(self, seeds: Sequence[int], device: torch.device) -> None:
        self._generators = [
            torch.Generator(device=device).manual_seed(sampling_seed(seed)) for seed in seeds
        ]

    @overload
    def __getitem__(self, k: int) -> torch.Generator: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[torch.Generator]: ...

    def __getitem__(self, k: int | slice) -> torch.Generator | Sequence[torch.Generator]:
        return self._generators[k]

    def __len__(self) -> int:
        return len(self._generators)

    def state_dict(self) -> dict[str, Any]:
        """``sampling``: every member's generator state; ``torch``: the global RNG state."""
        return {
            "sampling": [g.get_state() for g in self._generators],
            "torch": torch.get_rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from ``state_dict()``."""
        for generator, sampling in zip(self._generators, state["sampling"], strict=True):
            generator.set_state(sampling.cpu())  # generator states are CPU byte tensors
        torch.set_rng_state(state["torch"].cpu())

    def member_state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Member k's generator state (``sampling``) and the global RNG state (``torch``)."""
        return {"sampling": self._generators[k].get_state(), "torch": torch.get_rng_state()}

    def load_member_state_dicts(self, states: Sequence[dict[str, torch.Tensor]]) -> None:
        """Restore each member's generator from its ``member_state_dict``, in member order;
        the global RNG state is the first member's (all of them saved the same one)."""
        self.load_state_dict(
            {"sampling": [s["sampling"] for s in states], "torch": states[0]["torch"]}
        )
