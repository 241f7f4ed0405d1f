"""A described task's success or fitness: the env's own info key, or a batched expression
over the state variables, vetted like a reward program and run as one.

``info:is_success`` reads ``info["is_success"]``; anything else is an expression such as
``torch.linalg.vector_norm(state["puck"] - state["goal"], dim=-1) < 0.05``, made into
``compute_reward(state, action)`` so the sandbox's static checks (allowlist, state names)
and the reward program loader apply to it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

INFO_PREFIX = "info:"


def program_source(expression: str) -> str:
    """The reward program whose reward is ``expression`` as float32 [N]."""
    return (
        "import torch\n\n\n"
        "def compute_reward(state, action):\n"
        f"    value = torch.as_tensor({expression})\n"
        "    return value.to(torch.float32).reshape(-1), {}\n"
    )


class Criterion:
    """One success or fitness rule, evaluated on one env's step."""

    def __init__(
        self, text: str, field: str, state_names: Iterable[str], *, trusted: bool = False
    ) -> None:
        self.text = text.strip()
        self.field = field
        self.info_key = self.text[len(INFO_PREFIX) :] if self.text.startswith(INFO_PREFIX) else None
        self.program = None
        if self.info_key is not None:
            if not self.info_key:
                raise ValueError(f"{field}: 'info:' names no key (e.g. info:is_success)")
            return
        from agentgym.sandbox import static_check
        from agentgym.sandbox.loader import load_source

        source = program_source(self.text)
        verdict = static_check(source, list(state_names))
        if not verdict.ok:
            raise ValueError(f"{field}: {self.text!r} is rejected: {verdict.message}")
        # One way in (docs/sandbox.md): a task file's expression is code someone wrote,
        # served by a sandbox worker unless the task is agentgym's own (trusted_rules).
        self.program = load_source(source, origin=field, trusted=trusted)

    def describe(self) -> str:
        """The rule as the prompt shows it."""
        if self.info_key is not None:
            return f"the env reports info[{self.info_key!r}] true"
        return f"{self.text} (a batched expression over the state variables)"

    def __call__(self, info: dict[str, Any], reward_state: dict[str, Any], action: Any) -> float:
        if self.info_key is not None:
            if self.info_key not in info:
                raise KeyError(
                    f"{self.field}: the env's info has no key {self.info_key!r}; "
                    f"it has {sorted(info)}"
                )
            return float(np.asarray(info[self.info_key]).reshape(-1)[0])
        from agentgym.rewards import make_input, stack_one

        batch = make_input(
            stack_one(reward_state), np.asarray(action)[None], [0.0], {}, [False], None
        )
        out = self.program(batch)  # type: ignore[misc]
        return float(out.reward[0])
