"""Multi-step questions for the tool tasks, generated from a seed with their gold plans.

A plan is a list of steps; each step builds one tool call from the results of the
earlier calls (``lambda results: {...}``), so the expert can run it on what the tools
actually returned, and the gold calls and answer come from running it on the real
backends at generation time. The last step of every plan gives the answer; ``digits``
says how it is rounded (the question says so too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.envs.web.tools.toolbox import PRODUCTS, Toolbox, load_kb

Step = tuple[str, Callable[[list[Any]], dict[str, Any]]]

KINDS = ("calculator", "units", "kb", "sql", "multi")


@dataclass
class Question:
    text: str
    kind: str
    """calculator, units, kb, sql, or multi (two or three tools chained)."""
    plan: list[Step]
    digits: int | None
    """Round a numeric answer to this many decimals; None for a text answer."""
    gold_calls: list[tuple[str, dict[str, Any]]]
    gold_answer: Any


def _scalar(rows: Any) -> Any:
    """The single value of a one-row, one-column SQL result."""
    return rows[0][0] if isinstance(rows, list) and rows and rows[0] else rows


def answer_from(result: Any, digits: int | None) -> Any:
    value = _scalar(result)
    if digits is not None and isinstance(value, (int, float)):
        value = round(float(value), digits)
        return int(value) if digits == 0 else value
    return value


def _entities(kind: str) -> list[str]:
    return sorted(k for k, v in load_kb().items() if v["type"] == kind)


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _templates(
    rng: np.random.Generator, rows: dict[str, list[tuple]]
) -> dict[str, Callable[[], tuple]]:
    countries, mountains, rivers = _entities("country"), _entities("mountain"), _entities("river")
    departments = sorted({e[1] for e in rows["employees"]})
    products = sorted({o[1] for o in rows["orders"]}) or list(PRODUCTS)

    def calc():
        a, b, c = (int(x) for x in rng.integers(11, 999, 3))
        op = _pick(rng, ["*", "+", "-"])
        expr = f"{a} {op} {b} * {c}"
        return f"What is {expr}?", "calculator", [("calculator", lambda r: {"expression": expr})], 0

    def units():
        value = int(rng.integers(2, 500))
        a, b = _pick(
            rng,
            [
                ("km", "mi"),
                ("mi", "km"),
                ("kg", "lb"),
                ("lb", "kg"),
                ("l", "gal"),
                ("c", "f"),
                ("f", "c"),
                ("ft", "m"),
            ],
        )
        return (
            f"Convert {value} {a} to {b}. Round to 2 decimal places.",
            "units",
            [("unit_convert", lambda r: {"value": value, "from_unit": a, "to_unit": b})],
            2,
        )

    def kb():
        country = _pick(rng, countries)
        relation = _pick(rng, ["capital", "currency", "continent", "population", "area_km2"])
        words = {"area_km2": "area in square kilometres"}.get(relation, relation)
        digits = 0 if relation in ("population", "area_km2") else None
        return (
            f"What is the {words} of {country}?",
            "kb",
            [("kb_lookup", lambda r: {"entity": country, "relation": relation})],
            digits,
        )

    def sql():
        dept = _pick(rng, departments)
        if rng.random() < 0.5:
            q = f"SELECT COUNT(*) FROM employees WHERE department = '{dept}'"
            text = f"How many employees work in the {dept} department?"
        else:
            q = f"SELECT MAX(salary) FROM employees WHERE department = '{dept}'"
            text = f"What is the highest salary in the {dept} department?"
        return text, "sql", [("sql", lambda r: {"query": q})], 0

    def multi():
        choice = int(rng.integers(4))
        if choice == 0:
            m = _pick(rng, mountains)
            return (
                f"How tall is {m} in feet? Round to the nearest whole number.",
                "multi",
                [
                    ("kb_lookup", lambda r: {"entity": m, "relation": "height_m"}),
                    ("unit_convert", lambda r: {"value": r[0], "from_unit": "m", "to_unit": "ft"}),
                ],
                0,
            )
        if choice == 1:
            river = _pick(rng, rivers)
            return (
                f"How long is the {river} in miles? Round to the nearest whole number.",
                "multi",
                [
                    ("kb_lookup", lambda r: {"entity": river, "relation": "length_km"}),
                    ("unit_convert", lambda r: {"value": r[0], "from_unit": "km", "to_unit": "mi"}),
                ],
                0,
            )
        if choice == 2:
            a, b = (countries[int(i)] for i in rng.choice(len(countries), 2, replace=False))
            return (
                f"What is the combined population of {a} and {b}?",
                "multi",
                [
                    ("kb_lookup", lambda r: {"entity": a, "relation": "population"}),
                    ("kb_lookup", lambda r: {"entity": b, "relation": "population"}),
                    ("calculator", lambda r: {"expression": f"{r[0]} + {r[1]}"}),
                ],
                0,
            )
        product = _pick(rng, products)
        tax = int(rng.integers(5, 25))
        q = f"SELECT SUM(quantity * unit_price) FROM orders WHERE product = '{product}'"
        return (
            f"What is the total value (quantity times unit price) of all {product} orders "
            f"plus {tax}% tax? Round to 2 decimal places.",
            "multi",
            [
                ("sql", lambda r: {"query": q}),
                ("calculator", lambda r: {"expression": f"{_scalar(r[0])} * (1 + {tax} / 100)"}),
            ],
            2,
        )

    return {"calculator": calc, "units": units, "kb": kb, "sql": sql, "multi": multi}


def make_question(
    rng: np.random.Generator,
    toolbox: Toolbox,
    rows: dict[str, list[tuple]],
    kinds: tuple[str, ...] = KINDS,
) -> Question:
    """Draw a question of one of ``kinds`` and run its plan to get the gold calls and answer."""
    kind = kinds[int(rng.integers(len(kinds)))]
    text, kind, plan, digits = _templates(rng, rows)[kind]()
    results: list[Any] = []
    calls = []
    for name, build in plan:
        args = build(results)
        calls.append((name, args))
        results.append(toolbox.call(name, args))
    return Question(text, kind, plan, digits, calls, answer_from(results[-1], digits))
