"""A checked sketch becomes an ordinary reward program a person can read.

One ``compute_reward(state, action)``; each term is a local of its own name and a
component of the returned dict; every weight and scale is a module-level constant
(``REACH_WEIGHT``, ``REACH_SCALE``), so a tuner can change numbers without touching the
structure. The sketch itself rides along as a ``# sketch:`` comment, which is how the
designer reads earlier candidates back (``sketch_of_program``) for reflection and
crossover. The program goes through vetting and the sandbox like any other.
"""

from __future__ import annotations

import builtins
import json
import re
from typing import Any

from agentgym.reward_designers.structured.expressions import Typed
from agentgym.reward_designers.structured.sketch import Sketch, Term
from agentgym.spec import TaskSpec

SKETCH_COMMENT = "# sketch: "
SHAPES = {
    "linear": "{x}",
    "exp": "torch.exp(-{x} / {scale})",
    "tolerance": "torch.exp(LOG_TENTH * torch.square({x} / {scale}))",
}


def constant_names(term: Term) -> tuple[str, str | None]:
    """The module-level names of a term's weight and scale (None: the kind has none)."""
    stem = term.name.upper()
    return f"{stem}_WEIGHT", (f"{stem}_SCALE" if term.kind != "linear" else None)


def local_name(term: str) -> str:
    """The local variable that holds a term: its name, or ``<name>_term`` where the name
    is a Python builtin (vetting refuses to rebind ``open``, the 1.5B model's name for a
    drawer-opening term); the component keeps the name either way."""
    return f"{term}_term" if hasattr(builtins, term) else term


def compile_sketch(sketch: Sketch, task: TaskSpec) -> str:
    """The reward program of ``sketch`` (checked against ``task`` by ``check_sketch``)."""
    width = max(len(t.name) for t in sketch.terms)
    lines = [
        f'"""Reward for {task.name}, compiled from a structured sketch by agentgym\'s '
        "structured designer.",
        "",
        "Each term is sign * weight * shape(expr), one component of the returned dict:",
    ]
    for t in sketch.terms:
        scale = "" if t.kind == "linear" else f", scale {t.scale:g}"
        lines.append(
            f"    {t.name:<{width}}  {'+' if t.sign > 0 else '-'}{t.weight:g} * "
            f"{t.kind}({t.expr}{scale})"
        )
    if sketch.renamed:
        lines += [
            "",
            "Names read as what they clearly meant (a state variable, another term): "
            + ", ".join(f"{a} -> {b}" for a, b in sketch.renamed)
            + ".",
        ]
    if sketch.readings:
        lines += ["", *(f"Read as: {r}." for r in sketch.readings)]
    if sketch.dropped:
        lines += [
            "",
            LEFT_OUT,
            # the LLM's text inside a docstring: no quote run or backslash can end it
            *("    " + d.replace("\\", "/").replace('"', "'") for d in sketch.dropped),
        ]
    if sketch.adjusted:
        lines += [
            "",
            "Set by the designer from recorded states, not as the LLM wrote them:",
            *(f"    {a}." for a in sketch.adjusted),
        ]
    lines += ['"""', "", SKETCH_COMMENT + json.dumps(sketch.to_dict()), ""]
    if any(t.kind == "tolerance" for t in sketch.terms):
        lines += ["import math", ""]
    lines += ["import torch", ""]
    for t in sketch.terms:
        weight, scale = constant_names(t)
        lines.append(f"{weight} = {t.weight!r}")
        if scale is not None:
            lines.append(f"{scale} = {t.scale!r}")
    if any(t.kind == "tolerance" for t in sketch.terms):
        lines.append("LOG_TENTH = math.log(0.1)  # a tolerance term is 0.1 at one scale away")
    lines += ["", "", "def compute_reward(state, action):"]
    if any(re.search(r"(?<![\w\"])action\b", typed.code) for typed in sketch.code) or any(
        typed.constant for typed in sketch.code
    ):
        # one row of floats per env, whatever the action space (a discrete action is one
        # column), so reductions over the last axis never reach the batch axis
        lines.append("    action = action.reshape(action.shape[0], -1).float()")
    for t, typed in zip(sketch.terms, sketch.code, strict=True):
        lines.append(f"    {local_name(t.name)} = {_term_code(t, typed)}")
    names = [t.name for t in sketch.terms]
    lines.append(f"    reward = {' + '.join(local_name(n) for n in names)}")
    components = ", ".join(f'"{n}": {local_name(n)}' for n in names)
    lines.append(f"    return reward, {{{components}}}")
    return "\n".join(lines) + "\n"


def _term_code(term: Term, typed: Typed) -> str:
    x = typed.code
    if typed.constant:
        # a constant (an alive bonus, a cost per step) still needs one value per env
        x = f"torch.full((action.shape[0],), {typed.code}, device=action.device)"
    weight, scale = constant_names(term)
    shaped = SHAPES[term.kind].format(x=x, scale=scale)
    return f"{'-' if term.sign < 0 else ''}{weight} * {_wrap(shaped)}"


def _outer(code: str) -> bool:
    """True when ``code``'s first parenthesis closes at its last character."""
    depth = 0
    for i, ch in enumerate(code):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(code) - 1
    return False


def _wrap(code: str) -> str:
    """Parenthesise a linear term's sum so the weight multiplies all of it."""
    if code.startswith("torch.") and _outer(code[code.index("(") :]):
        return code
    if code.startswith("(") and _outer(code):
        return code
    if any(op in code for op in (" + ", " - ", " / ", " * ")):
        return f"({code})"
    return code


LEFT_OUT = "Left out: terms of the LLM's sketch that failed their checks (the others train):"


def dropped_of_program(source: str) -> tuple[str, ...]:
    """The "Left out" lines of a compiled partial sketch's docstring (``Sketch.dropped``,
    as written there), so a recompiled program (calibrated, tuned) keeps saying them."""
    lines = source.splitlines()
    if LEFT_OUT not in lines:
        return ()
    out = []
    for line in lines[lines.index(LEFT_OUT) + 1 :]:
        if not line.startswith("    "):
            break
        out.append(line[4:])
    return tuple(out)


def sketch_of_program(source: str) -> dict[str, Any] | None:
    """The sketch a compiled program came from (its ``# sketch:`` line), or None."""
    for line in source.splitlines():
        if line.startswith(SKETCH_COMMENT):
            try:
                data = json.loads(line[len(SKETCH_COMMENT) :])
            except json.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
    return None
