"""Signs and scales set from recorded states, not by the LLM (URDP's split: the model
chooses the terms, the numbers come from data and the optimiser).

A small model picks sensible quantities but often the wrong numbers around them: a
tolerance scale of 0.001 m on distances of 0.1-0.5 m (the term is 0 on every state a
starting policy visits), or a sign that pays for moving away from the goal. The checks
catch both (the constant check, the trajectory filter) and reject the sketch. Before they
do, the structured designer repairs what is a matter of numbers, in two steps, each
followed by vetting the recompiled program again:

1. **Scale.** An ``exp`` or ``tolerance`` term is *flat* when its value changes by less
   than ``FLAT_SPREAD`` of its weight over the recorded states of a random policy (the
   vetting statistics), or is near 0 on them: its mean under ``SPARSE_MEAN`` of its weight
   (FetchReach in the benchmark: ``tolerance(distance(grip_pos, goal_pos), 0.05)`` moved
   between 0 and 0.14 but averaged 0.004, and two such samples learned nothing in the
   search budget). Its scale becomes the mean of ``|expr|`` over those states
   (measured by a probe program, ``abs(expr)`` per term, vetted in the sandbox like any
   other): the state a random policy typically reaches then scores 1/e (``exp``) or 0.1
   (``tolerance``), and states nearer the goal score more, so the term has a gradient
   where training starts. A term whose expression takes one value on every state (0, or
   ``min(d, 0.02)`` far from the goal) keeps its scale: no scale makes it vary.
2. **Sign.** When the trajectory filter rejects the program (its returns rank failed
   episodes above successful ones), each term that reads the state is scored alone on
   the same labelled episodes (``VetResult.term_returns``); a term whose AUC is under 0.5
   ranks failure above success on its own, and its sign is flipped. Terms that read only
   the action (effort penalties) and constants are regularisers, not evidence of
   progress: their signs are left as written.

What the designer changed goes into the program's docstring, the sample's
``calibration.json`` and the reflection sent back to the LLM; the program is still a
compiled sketch that the checks judge like any other, so a sketch that no sign or scale
repairs (a constant, a quantity unrelated to success) is still rejected. The sign step
is judged on the episodes that then recheck it, so passing the filter after a flip is no
independent evidence: training is.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from agentgym.reward_designers.structured.compiler import compile_sketch
from agentgym.reward_designers.structured.sketch import Sketch, check_sketch
from agentgym.spec import TaskSpec

FLAT_SPREAD = 0.01
"""A shaped term whose max - min over the recorded states is under this share of its
weight is flat: a starting policy cannot tell its states apart through it."""
SHAPED = ("exp", "tolerance")
SPARSE_MEAN = 0.05
"""A shaped term whose mean over the recorded states is under this share of its weight pays
almost nothing where training starts: it is rescaled like a flat one."""
CONTRADICTED_AUC = 0.5
"""A term alone ranking successful episodes above failed ones less often than this has
its sign flipped."""


def flat_terms(sketch: Mapping[str, Any], stats: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The names of ``sketch``'s exp/tolerance terms that are flat or near 0 in the vetting
    ``stats`` (per component: mean, std, min, max over the recorded states)."""
    out = []
    for t in sketch["terms"]:
        seen = stats.get(t["name"])
        if t["kind"] not in SHAPED or t["weight"] <= 0 or not seen:
            continue
        flat = seen["max"] - seen["min"] < FLAT_SPREAD * t["weight"]
        mean = seen.get("mean")
        sparse = mean is not None and abs(mean) < SPARSE_MEAN * t["weight"]
        if flat or sparse:
            out.append(t["name"])
    return out


def probe_sketch(sketch: Mapping[str, Any]) -> dict[str, Any]:
    """A sketch whose components are ``|expr|`` of each term (linear, weight 1): vetted,
    its statistics are the spread of every term's expression on the recorded states."""
    return {
        "terms": [
            {
                "name": t["name"],
                "kind": "linear",
                "expr": f"abs({t['expr']})",
                "weight": 1.0,
                "scale": 1.0,
                "sign": 1,
            }
            for t in sketch["terms"]
        ]
    }


def rescaled(
    sketch: Mapping[str, Any], flat: Sequence[str], spread: Mapping[str, Mapping[str, float]]
) -> tuple[dict[str, Any], list[str]]:
    """``sketch`` with each ``flat`` term's scale set to the mean of ``|expr|`` in the
    probe's ``spread``, and one sentence per change."""
    terms, changes = [], []
    for t in sketch["terms"]:
        seen = spread.get(t["name"], {})
        typical = seen.get("mean")
        # an expression that takes one value on every state (min(d, 0.02) far from the
        # goal) stays flat at any scale: only one that varies gets one
        varies = seen.get("max", math.inf) - seen.get("min", -math.inf) > 1e-6 * (
            1.0 + abs(typical or 0.0)
        )
        if (
            t["name"] in flat
            and typical is not None
            and math.isfinite(typical)
            and typical > 1e-9
            and varies
        ):
            scale = float(f"{typical:.3g}")
            changes.append(
                f"{t['name']}'s scale {t['scale']:g} -> {scale:g} (its {t['kind']} was flat or near 0 on "
                f"the recorded states of a random policy; {scale:g} is the mean of "
                f"|{t['expr']}| there)"
            )
            t = {**t, "scale": scale}
        terms.append(dict(t))
    return {"terms": terms}, changes


def _reads_state(code: str) -> bool:
    return 'state["' in code


def flipped(
    sketch: Sketch,
    term_returns: Mapping[str, Sequence[float]],
    success: Sequence[bool],
    total: Sequence[float] = (),
) -> tuple[dict[str, Any], list[str]]:
    """``sketch`` with the sign of each state term flipped whose return alone ranks the
    labelled episodes' failures above their successes (AUC under ``CONTRADICTED_AUC``),
    and one sentence per change. ``total``: the whole reward's returns, which are the
    term's own in a sketch of one term (the vetting reports no component named like the
    total, "reward")."""
    from agentgym.reward_designers.synthesis.preference import preference_auc

    terms, changes = [], []
    for term, typed in zip(sketch.terms, sketch.code, strict=True):
        t = term.to_dict()
        returns = term_returns.get(term.name) or (total if len(sketch.terms) == 1 else None)
        if returns and _reads_state(typed.code) and not typed.constant and term.weight > 0:
            auc = preference_auc(returns, success)
            if auc < CONTRADICTED_AUC:
                changes.append(
                    f"{term.name}'s sign {term.sign:+d} -> {-term.sign:+d} (alone, its return "
                    f"ranked a successful recorded episode above a failed one {auc:.0%} of "
                    "the time)"
                )
                t["sign"] = -term.sign
        terms.append(t)
    return {"terms": terms}, changes


def compiled(
    data: Mapping[str, Any], task: TaskSpec, changes: Sequence[str], dropped: Sequence[str] = ()
) -> str:
    """The program of a calibrated sketch; its docstring lists ``changes`` (and the terms a
    partial sketch left out, ``dropped``)."""
    sketch = check_sketch(dict(data), task)
    return compile_sketch(
        dataclasses.replace(sketch, adjusted=(*sketch.adjusted, *changes), dropped=tuple(dropped)),
        task,
    )
