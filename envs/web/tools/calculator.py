"""A safe arithmetic evaluator for the calculator tool: an AST walk, never ``eval``.

Numbers, ``+ - * / // % **``, unary signs, parentheses and a few functions (sqrt,
abs, round, min, max, floor, ceil, log, exp). Exponents and magnitudes are bounded so
that an expression cannot hang the env ("9**9**9").
"""

from __future__ import annotations

import ast
import math
import operator

MAX_EXPRESSION = 300
MAX_EXPONENT = 100
MAX_MAGNITUDE = 1e100

BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
FUNCTIONS = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "exp": math.exp,
}


class CalculatorError(ValueError):
    """An expression the calculator refuses; the message says why."""


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalculatorError(f"exponent {right} is too large (at most {MAX_EXPONENT})")
        try:
            value = BINARY[type(node.op)](left, right)
        except ZeroDivisionError as err:
            raise CalculatorError("division by zero") from err
        if isinstance(value, complex) or abs(value) > MAX_MAGNITUDE:
            raise CalculatorError("result out of range")
        return value
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id not in FUNCTIONS:
            raise CalculatorError(
                f"unknown function {node.func.id!r}; known: {', '.join(sorted(FUNCTIONS))}"
            )
        try:
            return FUNCTIONS[node.func.id](*[_eval(a) for a in node.args])
        except (TypeError, ValueError) as err:
            raise CalculatorError(f"{node.func.id}: {err}") from err
    raise CalculatorError(
        f"unsupported syntax {type(node).__name__}; use numbers, + - * / // % ** and ()"
    )


def calculate(expression: str) -> float | int:
    """The value of an arithmetic expression, or CalculatorError."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalculatorError("expression must be a non-empty string")
    if len(expression) > MAX_EXPRESSION:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError as err:
        raise CalculatorError(f"cannot parse {expression!r}: {err.msg}") from err
    value = _eval(tree)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value
