"""Function calls as the agent writes them, and ToolRL-style matching against gold calls.

An action is one OpenAI-style function call in JSON: ``{"name": "calculator",
"arguments": {"expression": "2 + 2"}}``. Also accepted: ``arguments`` as a JSON string
(what the OpenAI API returns), the ``{"type": "function", "function": {...}}`` wrapper,
and a one-element list of calls.

Matching follows ToolRL (Qian et al., 2025): a call is scored on its tool name, on the
overlap of its parameter names with the gold call's, and on the parameter values. Values
are compared by meaning where the text can differ: two calculator expressions match when
they evaluate to the same number, two SQL queries when they return the same rows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any


class CallError(ValueError):
    """An action that is not a well-formed function call; the message says why."""


def parse_call(raw: str) -> tuple[str, dict[str, Any]]:
    """(tool name, arguments) of a JSON function call, or CallError."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise CallError(
            f"malformed JSON ({err.msg} at character {err.pos}); expected "
            '{"name": "<tool>", "arguments": {...}}'
        ) from err
    if isinstance(data, list):
        if len(data) != 1:
            raise CallError(f"make exactly one call per step, got a list of {len(data)}")
        data = data[0]
    if not isinstance(data, dict):
        raise CallError(f"a call must be a JSON object, got {type(data).__name__}")
    if data.get("type") == "function" and isinstance(data.get("function"), dict):
        data = data["function"]
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise CallError("the call has no 'name' (a string naming the tool)")
    args = data.get("arguments", data.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as err:
            raise CallError(f"'arguments' is a string but not valid JSON ({err.msg})") from err
    if not isinstance(args, dict):
        raise CallError(f"'arguments' must be an object, got {type(args).__name__}")
    return name, args


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*\$?(-?[\d,]*\.?\d+(?:e-?\d+)?)\s*%?\s*", value.strip(), re.IGNORECASE)
        if m:
            try:
                return float(m.group(1).replace(",", ""))
            except ValueError:
                return None
    return None


def _norm(text: Any) -> str:
    return " ".join(str(text).strip().lower().rstrip(".").split())


def same_value(a: Any, b: Any, tol: float = 1e-6) -> bool:
    """Numbers within a relative tolerance, text equal up to case and spaces."""
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=tol, abs_tol=tol)
    if isinstance(a, list) or isinstance(b, list):
        return a == b
    return _norm(a) == _norm(b)


def argument_score(
    name: str,
    args: dict[str, Any],
    gold: dict[str, Any],
    evaluate: Callable[[str, dict[str, Any]], Any],
) -> float:
    """ToolRL's parameter reward in [0, 1]: half name overlap (Jaccard), half values."""
    keys, gold_keys = set(args), set(gold)
    jaccard = len(keys & gold_keys) / max(1, len(keys | gold_keys))
    if name in ("calculator", "sql"):
        # Compare what the calls compute, not how they are written.
        try:
            values = 1.0 if same_value_deep(evaluate(name, args), evaluate(name, gold)) else 0.0
        except ValueError:
            values = 0.0
    else:
        values = sum(k in args and same_value(args[k], v) for k, v in gold.items()) / max(
            1, len(gold)
        )
    return 0.5 * jaccard + 0.5 * values


def same_value_deep(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value_deep(x, y) for x, y in zip(a, b, strict=True))
    return same_value(a, b)


def answer_correct(answer: Any, gold: Any, digits: int | None) -> bool:
    """Is the final answer the gold one? Numbers within half a unit of the last
    asked-for decimal; text equal up to case, spaces and a final full stop."""
    g = _number(gold)
    if g is not None and digits is not None:
        a = _number(answer)
        if a is None and isinstance(answer, str):  # "about 1,234.5 ft" -> 1234.5
            m = re.search(r"-?[\d,]*\.?\d+", answer)
            a = _number(m.group(0)) if m else None
        return a is not None and abs(a - g) <= 0.5 * 10 ** (-digits) + 1e-9
    return _norm(answer) == _norm(gold)
