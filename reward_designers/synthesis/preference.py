"""The trajectory-preference filter (CARD's trajectory preference evaluation): before any
training, a candidate's returns on recorded episodes of known outcome (the env's expert,
random and perturbed-expert episodes, ``agentgym.sandbox.trajectories``) must rank the
successful ones above the failed ones.

The returns are computed in the sandbox worker that vets the program (``vet_many``); here
they are only compared. The measure is the AUC: the probability that a successful
episode's return exceeds a failed one's, ties counting half. A program under the
threshold is rejected with code PREFERENCE and a message naming the pairs it ranked most
wrongly, which goes back to the LLM like every other rejection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentgym.sandbox.trajectories import Outcomes

WORST_PAIRS = 3
"""Wrongly ranked pairs named in a rejection message."""


def preference_auc(returns: Sequence[float], success: Sequence[bool]) -> float:
    """P(return of a successful episode > return of a failed one), ties counting 1/2.

    ValueError when either outcome is missing (nothing to rank)."""
    if len(returns) != len(success):
        raise ValueError(
            f"returns: expected {len(success)} values (one per episode), got {len(returns)}"
        )
    wins = [r for r, s in zip(returns, success, strict=True) if s]
    losses = [r for r, s in zip(returns, success, strict=True) if not s]
    if not wins or not losses:
        raise ValueError("success: the episodes need both outcomes for an AUC")
    score = sum((w > f) + 0.5 * (w == f) for w in wins for f in losses)
    return score / (len(wins) * len(losses))


def _kind(name: str) -> str:
    return "expert" if name.startswith("expert") else "successful"


def wrong_pairs(
    returns: Sequence[float], outcomes: Outcomes, limit: int = WORST_PAIRS
) -> list[str]:
    """The ``limit`` failed-over-successful pairs of the largest return gap, as sentences."""
    pairs = [
        (returns[f] - returns[w], f, w)
        for w, won in enumerate(outcomes.success)
        if won
        for f, lost in enumerate(outcomes.success)
        if not lost and returns[f] >= returns[w]
    ]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return [
        f"failed episode '{outcomes.names[f]}' (return {returns[f]:.4g}) scored "
        f"{'above' if gap > 0 else 'the same as'} {_kind(outcomes.names[w])} episode "
        f"'{outcomes.names[w]}' (return {returns[w]:.4g})"
        for gap, f, w in pairs[:limit]
    ]


def preference_verdict(
    verdict: Any, outcomes: Outcomes, threshold: float
) -> tuple[Any, float | None]:
    """``(verdict, auc)``: ``verdict`` rejected with code PREFERENCE when its AUC on the
    labelled episodes is under ``threshold``; ``auc`` None when it was not scored (it
    failed vetting before, or the recording lacks one of the outcomes)."""
    from agentgym.sandbox import Code

    if not verdict.ok or not outcomes.judgeable or not verdict.returns:
        return verdict, None
    auc = preference_auc(verdict.returns, outcomes.success)
    if auc >= threshold:
        return verdict, auc
    wins = sum(outcomes.success)
    message = (
        f"on {wins} recorded episodes that reach success (the env's expert among them) and "
        f"{len(outcomes.success) - wins} that fail (random and perturbed policies), its "
        f"return ranks a successful episode above a failed one only {auc:.0%} of the time "
        f"(AUC {auc:.2f}, at least {threshold:.2f} needed): "
        + "; ".join(wrong_pairs(verdict.returns, outcomes))
        + ". An episode's return is the sum of the reward over its steps: make the reward "
        "higher in the states on the way to success than in those of a failing policy "
        "(e.g. reward progress towards the goal, not away from it), and mind that a "
        "per-step bonus also pays for episodes that last longer"
    )
    return dataclasses.replace(verdict, ok=False, code=Code.PREFERENCE, message=message), auc
