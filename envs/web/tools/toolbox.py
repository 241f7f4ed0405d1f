"""The tools an agent can call, their OpenAI function schemas, and their backends.

``calculator`` (safe arithmetic), ``unit_convert``, ``kb_lookup`` (the shipped
knowledge base ``assets/tools/kb.json``) and ``sql`` (SELECT queries over an episode's
SQLite database, opened read-only), plus ``final_answer``, which ends the episode.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.assets import asset_path
from agentgym.envs.web.tools.calculator import CalculatorError, calculate
from agentgym.envs.web.tools.units import UnitError, convert
from agentgym.registry import suggest

MAX_SQL_ROWS = 20


def _fn(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


#: The tools in the OpenAI ``tools=`` format, so a chat client can pass them as is.
TOOL_SCHEMAS: list[dict[str, Any]] = [
    _fn(
        "calculator",
        "Evaluate an arithmetic expression (+ - * / // % ** and parentheses, "
        "sqrt, round, min, max, abs, floor, ceil, log, exp).",
        {"expression": {"type": "string", "description": "e.g. '(12 + 30) * 1.5'"}},
        ["expression"],
    ),
    _fn(
        "unit_convert",
        "Convert a value between units of length, mass, volume, time or temperature.",
        {
            "value": {"type": "number"},
            "from_unit": {"type": "string", "description": "e.g. km, m, ft, kg, lb, c, f"},
            "to_unit": {"type": "string"},
        },
        ["value", "from_unit", "to_unit"],
    ),
    _fn(
        "kb_lookup",
        "Look up a fact about an entity in the knowledge base.",
        {
            "entity": {"type": "string", "description": "e.g. 'Velmora' or 'Mount Kerrath'"},
            "relation": {
                "type": "string",
                "description": "e.g. capital, population, area_km2, "
                "currency, continent, height_m, length_km, country",
            },
        },
        ["entity", "relation"],
    ),
    _fn(
        "sql",
        "Run a read-only SQL SELECT query on the database (tables: employees(name, "
        "department, salary, hire_year), orders(customer, product, quantity, unit_price)).",
        {"query": {"type": "string"}},
        ["query"],
    ),
    _fn(
        "final_answer",
        "Give the final answer to the question; this ends the episode.",
        {"answer": {"type": ["string", "number"]}},
        ["answer"],
    ),
]
TOOL_NAMES = [s["function"]["name"] for s in TOOL_SCHEMAS]
SCHEMA_BY_NAME = {s["function"]["name"]: s["function"]["parameters"] for s in TOOL_SCHEMAS}


class ToolError(ValueError):
    """A tool call the backend refuses (bad arguments, unknown entity, SQL error)."""


@lru_cache(maxsize=1)
def load_kb() -> dict[str, dict[str, Any]]:
    """The shipped knowledge base: entity -> {relation: value}."""
    return json.loads(asset_path("tools", "kb.json").read_text())["entities"]


def kb_lookup(entity: str, relation: str) -> Any:
    kb = load_kb()
    key = next((k for k in kb if k.lower() == str(entity).strip().lower()), None)
    if key is None:
        raise ToolError(
            f"no entity {entity!r} in the knowledge base.{suggest(str(entity), list(kb))}"
        )
    facts = {k: v for k, v in kb[key].items() if k != "type"}
    rel = str(relation).strip().lower()
    if rel not in facts:
        raise ToolError(f"{key} has no relation {relation!r}; it has: {', '.join(sorted(facts))}")
    return facts[rel]


FIRST = (
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Goran",
    "Hana",
    "Ivan",
    "Jun",
    "Kofi",
    "Lena",
)
LAST = ("Ruiz", "Okafor", "Novak", "Sato", "Berg", "Haddad", "Moreau", "Singh", "Kowalski", "Lund")
DEPARTMENTS = ("sales", "engineering", "support", "marketing", "finance")
PRODUCTS = ("lamp", "desk", "chair", "monitor", "keyboard", "headset", "router", "printer")


def make_database(path: Path, rng: np.random.Generator) -> dict[str, list[tuple]]:
    """Write the episode's SQLite database; return its rows (for question generation)."""
    names = sorted({f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(14)})
    employees = [
        (
            n,
            str(rng.choice(DEPARTMENTS)),
            int(rng.integers(30, 160)) * 1000,
            int(rng.integers(2005, 2025)),
        )
        for n in names
    ]
    customers = names[: max(3, len(names) // 2)]
    orders = [
        (
            str(rng.choice(customers)),
            str(rng.choice(PRODUCTS)),
            int(rng.integers(1, 10)),
            float(rng.integers(500, 40000)) / 100,
        )
        for _ in range(40)
    ]
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, department TEXT, "
            "salary INTEGER, hire_year INTEGER)"
        )
        db.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, product TEXT, "
            "quantity INTEGER, unit_price REAL)"
        )
        db.executemany(
            "INSERT INTO employees (name, department, salary, hire_year) VALUES (?,?,?,?)",
            employees,
        )
        db.executemany(
            "INSERT INTO orders (customer, product, quantity, unit_price) VALUES (?,?,?,?)", orders
        )
    return {"employees": employees, "orders": orders}


def run_sql(path: Path, query: str) -> list[list[Any]]:
    """Rows of a query on a read-only connection (writes fail in SQLite itself)."""
    if not isinstance(query, str) or not query.strip():
        raise ToolError("query must be a non-empty SQL string")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(query).fetchmany(MAX_SQL_ROWS + 1)
    except sqlite3.Error as err:
        raise ToolError(f"SQL error: {err}") from err
    finally:
        db.close()
    return [list(r) for r in rows]


@dataclass
class Toolbox:
    """The backends of one episode (the SQL database lives in ``db_path``)."""

    db_path: Path

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run one tool; ToolError for arguments the schema or the backend refuse."""
        schema = SCHEMA_BY_NAME[name]
        missing = [k for k in schema["required"] if k not in arguments]
        extra = [k for k in arguments if k not in schema["properties"]]
        if missing or extra:
            raise ToolError(
                f"{name} takes arguments {sorted(schema['properties'])}; "
                f"missing {missing}, unexpected {extra}"
            )
        try:
            if name == "calculator":
                return calculate(arguments["expression"])
            if name == "unit_convert":
                return round(
                    convert(arguments["value"], arguments["from_unit"], arguments["to_unit"]), 6
                )
            if name == "kb_lookup":
                return kb_lookup(arguments["entity"], arguments["relation"])
            if name == "sql":
                return run_sql(self.db_path, arguments["query"])
        except (CalculatorError, UnitError) as err:
            raise ToolError(str(err)) from err
        raise ToolError(f"{name} is not a tool that returns a result")
