"""The run-time guard: a reward that turns NaN or inf stops its candidate at that step.

Vetting dry-runs a program on recorded states, but a policy in training can reach states
the recording never saw (a division by a distance that becomes 0, an exp that
overflows). The learner calls ``check_finite`` on each reward batch; the exception
carries the step and the NONFINITE code so the candidate is stopped and reported while
the other candidates go on.
"""

from __future__ import annotations

import torch

from agentgym.sandbox.codes import Code, SandboxRejection


class NonFiniteReward(SandboxRejection):
    """A reward batch held NaN or inf at ``step``."""

    def __init__(
        self, step: int, count: int = 0, total: int = 0, member: int | None = None
    ) -> None:
        who = "" if member is None else f" (candidate {member})"
        message = (
            f"the reward became NaN or inf at training step {step}{who}"
            f"{f' in {count} of {total} envs' if total else ''}; guard divisions and "
            "exponentials (add an epsilon, clamp before torch.exp)"
        )
        super().__init__(Code.NONFINITE, message)
        self.step = step
        self.count = count
        self.member = member


def nonfinite_mask(reward: torch.Tensor) -> torch.Tensor:
    """True where a reward is NaN or inf; for a [K, N] population, reduce over N yourself."""
    return ~torch.isfinite(reward)


def check_finite(reward: torch.Tensor, step: int, *, member: int | None = None) -> None:
    """Raise ``NonFiniteReward(step)`` if any element of ``reward`` is NaN or inf."""
    bad = nonfinite_mask(reward)
    if bool(bad.any()):
        raise NonFiniteReward(step, int(bad.sum()), int(bad.numel()), member)
