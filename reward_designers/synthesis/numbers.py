"""The numbers of a reward program that a tuner may change, and the program rewritten
with new values and nothing else touched.

The program is parsed with Python's own parser (parsing builds a tree; nothing runs) and
a float literal is tunable when it is a weight, a scale or a temperature:

- the value of a module-level constant, ``EFFORT_WEIGHT = 0.01``;
- an operand of ``*`` or ``/`` (``-0.01 * effort``, ``torch.exp(-d / 0.1)``), a unary
  minus included: the literal's magnitude is tuned, its sign stays.

Left alone: integers (exponents, ``dim=-1``, indices), literals in comparisons
(thresholds decide *what* is rewarded, not how much), exponents of ``**``, zeros, and
anything in a default argument. A number keeps its sign and can only be scaled within
the tuner's log-range around its value, so the tuned program has the structure the LLM
wrote; it goes through vetting again before it trains.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Number:
    """One tunable literal of a program."""

    name: str
    """A module constant's name, else ``c<k>`` (k counts the program's tunable literals)."""
    value: float
    """Its magnitude (> 0)."""
    where: str
    """For people and the LLM: the expression around it and its line."""
    line: int = 0
    col: int = 0
    end_col: int = 0
    """The literal's position in the source (1-based line, byte columns), 0 when the number
    is not rewritten in place (a structured designer's sketch)."""

    @property
    def label(self) -> str:
        """How feedback names it: a constant by its name, a literal by its expression."""
        inline = self.name.startswith("c") and self.name[1:].isdigit()
        return self.where.split(" (line")[0] if inline else self.name


def tunable_numbers(source: str, limit: int = 8) -> list[Number]:
    """The tunable literals of ``source`` (module constants first, then in source order),
    at most ``limit``; [] for a program that does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    constants: list[Number] = []
    inline: list[Number] = []
    for node in ast.walk(tree):
        if not _positive_float(node):
            continue
        assert isinstance(node, ast.Constant)
        outer = parents.get(id(node))
        operand: ast.AST = node
        if isinstance(outer, ast.UnaryOp) and isinstance(outer.op, (ast.USub, ast.UAdd)):
            operand, outer = outer, parents.get(id(outer))
        position = (node.lineno, node.col_offset, node.end_col_offset or node.col_offset)
        if (
            isinstance(outer, ast.Assign)
            and parents.get(id(outer)) is tree
            and len(outer.targets) == 1
            and isinstance(outer.targets[0], ast.Name)
        ):
            name = outer.targets[0].id
            constants.append(
                Number(name, float(node.value), f"{name} (line {node.lineno})", *position)
            )
        elif (
            isinstance(outer, ast.BinOp)
            and isinstance(outer.op, (ast.Mult, ast.Div))
            and operand in (outer.left, outer.right)
            and not _in_default(outer, parents)
        ):
            where = f"{node.value!r} in `{_short(ast.unparse(outer))}` (line {node.lineno})"
            inline.append(Number("", float(node.value), where, *position))
    inline.sort(key=lambda n: (n.line, n.col))
    named = [
        Number(f"c{k}", n.value, n.where, n.line, n.col, n.end_col) for k, n in enumerate(inline)
    ]
    return (sorted(constants, key=lambda n: (n.line, n.col)) + named)[:limit]


def with_numbers(source: str, numbers: list[Number], values: dict[str, float]) -> str:
    """``source`` with each number of ``numbers`` named in ``values`` replaced by its new
    magnitude (4 significant digits), every other character unchanged."""
    lines = source.splitlines(keepends=True)
    edits = sorted(
        (n for n in numbers if n.name in values), key=lambda n: (n.line, n.col), reverse=True
    )
    for n in edits:
        value = values[n.name]
        if not value > 0:
            raise ValueError(f"with_numbers: {n.name} must stay > 0, got {value!r}")
        raw = lines[n.line - 1].encode()
        literal = _literal(value).encode()
        lines[n.line - 1] = (raw[: n.col] + literal + raw[n.end_col :]).decode()
    return "".join(lines)


def _literal(value: float) -> str:
    """A short float literal: 4 significant digits, always a float (``3.0`` not ``3``)."""
    text = repr(float(f"{value:.4g}"))
    return text


def _positive_float(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and type(node.value) is float
        and node.value > 0
        and node.value != float("inf")
    )


def _in_default(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Whether ``node`` sits in a function's default arguments."""
    child, up = node, parents.get(id(node))
    while up is not None:
        if isinstance(up, ast.arguments) and any(
            child is d for d in (*up.defaults, *up.kw_defaults)
        ):
            return True
        child, up = up, parents.get(id(up))
    return False


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
