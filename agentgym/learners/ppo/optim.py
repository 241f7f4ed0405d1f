"""Adam over a stacked parameter, with per-member gradient clipping and step masks.

Adam is elementwise, so one Adam over the [2K, P] tensor of ``StackedActorCritic`` is
K independent Adams, provided two things stay per member: the gradient-norm clip (a
member's norm sums its actor and critic rows) and the step count, because a member that
has stopped (target-KL early stop, a non-finite reward) must not move at all, not even
by its momentum.

Its state saves and loads whole (``state_dict``) or per member (``member_state_dict``,
the state of a one-member optimiser), so a population member's checkpoint resumes as a
single learner.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class StackedAdam:
    """Adam (Kingma & Ba 2015) for ``param`` [R, P] (gradient in ``grad``) whose rows
    belong to members: row r to member ``row_member[r]``, actors first, then critics."""

    def __init__(
        self,
        param: torch.Tensor,
        grad: torch.Tensor,
        row_member: torch.Tensor,
        members: int,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-5,
    ) -> None:
        self.param, self.grad, self.row_member, self.members = param, grad, row_member, members
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = torch.zeros_like(param, requires_grad=False)
        self.exp_avg_sq = torch.zeros_like(param, requires_grad=False)
        self.steps = torch.zeros(members, dtype=param.dtype, device=param.device)
        self._lockstep = True  # every member has taken the same number of steps

    @property
    def lockstep(self) -> bool:
        """Whether every member has taken the same number of steps."""
        return self._lockstep

    def clip_grad_norm(self, max_norm: float) -> torch.Tensor:
        """Scale each member's gradient to norm <= ``max_norm``; returns the norms [K]."""
        grad = self.grad
        # Rows are ordered [actors of members 0..K-1, critics of members 0..K-1].
        norms = grad.pow(2).sum(1).view(-1, self.members).sum(0).sqrt()
        # Same rule as torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6).
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        grad.mul_(scale.repeat(grad.shape[0] // self.members).unsqueeze(1))
        return norms

    @torch.no_grad()
    def step(self, lr: float, active: torch.Tensor, all_active: bool | None = None) -> None:
        """One Adam step at learning rate ``lr`` for the members where ``active`` [K] holds.

        ``all_active`` may say (without a device sync) that every member steps.
        """
        grad = self.grad
        b1, b2 = self.beta1, self.beta2
        if all_active is None:
            all_active = bool(active.all())
        if all_active and self._lockstep:
            # The common case, every member stepping in lockstep: plain in-place Adam.
            self.steps += 1
            t = float(self.steps[0])
            self.exp_avg.mul_(b1).add_(grad, alpha=1 - b1)
            self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = (self.exp_avg_sq / (1 - b2**t)).sqrt_().add_(self.eps)
            self.param.addcdiv_(self.exp_avg, denom, value=-lr / (1 - b1**t))
            return
        self.steps += active.to(self.steps.dtype)
        self._lockstep = bool((self.steps == self.steps[0]).all())
        rows = active[self.row_member].unsqueeze(1)
        m = torch.where(rows, self.exp_avg * b1 + grad * (1 - b1), self.exp_avg)
        v = torch.where(rows, self.exp_avg_sq * b2 + grad * grad * (1 - b2), self.exp_avg_sq)
        self.exp_avg, self.exp_avg_sq = m, v
        steps = self.steps.clamp(min=1.0)[self.row_member].unsqueeze(1)
        update = (m / (1 - b1**steps)) / ((v / (1 - b2**steps)).sqrt() + self.eps)
        self.param.sub_(torch.where(rows, lr * update, 0.0))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The moments ``exp_avg``, ``exp_avg_sq`` [R, P] and each member's ``steps`` [K]."""
        return {"exp_avg": self.exp_avg, "exp_avg_sq": self.exp_avg_sq, "steps": self.steps}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore from ``state_dict()`` (copied to the parameter's device: the moments are
        updated in place, so they must not be shared with the source)."""
        device = self.param.device
        self.exp_avg = state["exp_avg"].to(device, copy=True)
        self.exp_avg_sq = state["exp_avg_sq"].to(device, copy=True)
        self.steps = state["steps"].to(device, copy=True)
        self._lockstep = bool((self.steps == self.steps[0]).all())

    def _rows(self, k: int) -> torch.Tensor:
        """Member k's rows, in row order (its actor, then its critic)."""
        return torch.nonzero(self.row_member == k).squeeze(1)

    def member_state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Member k's state, as the ``state_dict()`` of a one-member optimiser (copies)."""
        rows = self._rows(k)
        return {
            "exp_avg": self.exp_avg[rows].clone(),
            "exp_avg_sq": self.exp_avg_sq[rows].clone(),
            "steps": self.steps[k : k + 1].clone(),
        }

    def load_member_state_dicts(self, states: Sequence[dict[str, torch.Tensor]]) -> None:
        """Restore all K members from their ``member_state_dict``s, in member order."""
        device = self.param.device
        exp_avg, exp_avg_sq = torch.empty_like(self.exp_avg), torch.empty_like(self.exp_avg_sq)
        for k, state in enumerate(states):
            rows = self._rows(k)
            exp_avg[rows] = state["exp_avg"].to(device)
            exp_avg_sq[rows] = state["exp_avg_sq"].to(device)
        steps = torch.cat([state["steps"] for state in states])
        self.load_state_dict({"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq, "steps": steps})
