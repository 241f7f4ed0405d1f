"""Adam over stacked parameters whose rows belong to population members.

Adam is elementwise, so one ``torch.optim.Adam`` over a ``[R, ...]`` stack is R independent
Adams as long as every member steps together (they do: stopped members get zero weight
and the learner puts their rows back, see ``SAC._hold_stopped``). What this class adds is
a member's own slice of the optimiser state, so a population member's checkpoint is a
single learner's checkpoint and the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


class StackedAdam:
    """``torch.optim.Adam`` over ``params``; member k owns rows ``rows(k)`` of each."""

    def __init__(
        self, params: Sequence[torch.Tensor], rows: Callable[[int], list[int]], lr: float
    ) -> None:
        self.params = list(params)
        self.rows = rows
        self.optimizer = torch.optim.Adam(self.params, lr=lr)

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=False)

    def step(self) -> None:
        self.optimizer.step()

    def moments(self) -> tuple[list[torch.Tensor], ...]:
        """(steps, exp_avgs, exp_avg_sqs) of every parameter, in ``params`` order, for a
        step whose Adam arithmetic runs elsewhere (compiled.py); created as Adam creates
        them (step 0, zero moments) where the optimiser has not stepped yet."""
        steps, exp_avgs, exp_avg_sqs = [], [], []
        for p in self.params:
            state = self.optimizer.state[p]
            if not state:
                state["step"] = torch.tensor(0.0, dtype=torch.float32)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            steps.append(state["step"])
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
        return steps, exp_avgs, exp_avg_sqs

    def member_state(self, k: int) -> dict[str, Any]:
        """Member k's Adam moments and step count ({} before the first step)."""
        states = [self.optimizer.state.get(p) for p in self.params]
        if not all(states):
            return {}
        index = self.rows(k)
        return {
            "step": float(states[0]["step"]),
            "exp_avg": [s["exp_avg"][index].clone() for s in states],
            "exp_avg_sq": [s["exp_avg_sq"][index].clone() for s in states],
        }

    def load_member_states(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every member from ``member_state`` outputs (one per member, in order)."""
        if not all(states):
            return  # saved before the first gradient step: nothing to restore
        step = max(float(s["step"]) for s in states)  # stopped members may lag; they never step
        for i, p in enumerate(self.params):
            exp_avg, exp_avg_sq = torch.zeros_like(p), torch.zeros_like(p)
            for k, s in enumerate(states):
                index = self.rows(k)
                exp_avg[index] = s["exp_avg"][i].to(p.device)
                exp_avg_sq[index] = s["exp_avg_sq"][i].to(p.device)
            self.optimizer.state[p] = {
                "step": torch.tensor(step, dtype=torch.float32),
                "exp_avg": exp_avg,
                "exp_avg_sq": exp_avg_sq,
            }
