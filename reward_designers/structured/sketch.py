"""A reward sketch: named terms, each a shaped expression with its sign, weight and scale.

The LLM answers with JSON following ``SKETCH_SCHEMA`` (sent as OpenAI's
``response_format={"type": "json_schema", ...}`` where the server honours it)::

    {"terms": [
      {"name": "reach", "kind": "tolerance", "expr": "norm(fingertip_pos - target_pos)",
       "weight": 1.0, "scale": 0.05, "sign": 1},
      {"name": "effort", "kind": "linear", "expr": "sum(square(action))",
       "weight": 0.01, "scale": 1.0, "sign": -1}]}

A term's value per env is ``sign * weight * shape(x)`` with ``x`` its expression (a
scalar per env) and ``shape`` its kind, the shapes Text2Reward's and DeepMind Control's
rewards use:

- ``linear``: ``x`` (``scale`` unused);
- ``exp``: ``exp(-x / scale)``, Eureka's temperature transform: 1 at x = 0, 1/e at x = scale;
- ``tolerance``: ``exp(ln(0.1) * (x / scale)**2)``, DMC's gaussian tolerance with bounds
  (0, 0) and margin ``scale``: 1 at x = 0, 0.1 at x = scale.

``parse_sketch(text, task)`` reads a reply (JSON, a fenced block, or the first ``{...}``
in free text from servers without structured output) and checks it against the task;
every problem is a ``SketchRejection`` with a sketch code (``SKETCH_JSON``,
``SKETCH_SCHEMA``, ``SKETCH_EXPR``, ``SKETCH_VARIABLE``, ``SKETCH_SHAPE``) and a message
that says what was expected, sent back to the LLM in the next prompt.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from agentgym.reward_designers.structured.expressions import (
    ExpressionChecker,
    ExpressionError,
    Typed,
    describe,
    rename,
)
from agentgym.sandbox.codes import Code
from agentgym.spec import TaskSpec

KINDS = ("linear", "exp", "tolerance")
MAX_TERMS = 8
MAX_PROBLEMS = 5
"""Problems listed in one rejection message (the first one's code is the rejection's)."""
RESERVED = frozenset({"state", "action", "torch", "total", "compute_reward"})

SKETCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "terms": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TERMS,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "expr": {"type": "string"},
                    "weight": {"type": "number"},
                    "scale": {"type": "number"},
                    "sign": {"type": "integer", "enum": [-1, 1]},
                },
                "required": ["name", "kind", "expr", "weight", "scale", "sign"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["terms"],
    "additionalProperties": False,
}
"""The JSON schema of a sketch (strict-mode compatible: every property required)."""


def response_format() -> dict[str, Any]:
    """OpenAI's structured-output request for a sketch (llama.cpp's server and vLLM's
    OpenAI server accept the same body)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "reward_sketch", "strict": True, "schema": SKETCH_SCHEMA},
    }


class SketchRejection(Exception):
    """A sketch that cannot become a program: its code and the message for the LLM."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Term:
    """One named reward component."""

    name: str
    kind: str
    expr: str
    weight: float
    scale: float
    sign: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sketch:
    """A checked sketch: its terms and each term's expression as torch code."""

    terms: tuple[Term, ...]
    code: tuple[Typed, ...]
    renamed: tuple[tuple[str, str], ...] = ()
    """(written, read as) for names the checker repaired; the terms hold the read names."""
    readings: tuple[str, ...] = ()
    """Other ways a term was read other than as written, one sentence each (the program's
    docstring repeats them)."""
    adjusted: tuple[str, ...] = ()
    """Numbers the designer set itself from recorded states (``calibration``), one
    sentence each (the program's docstring repeats them)."""
    dropped: tuple[str, ...] = ()
    """The problems of the terms left out of a partial sketch (``check_sketch(...,
    partial=True)``), one each (the program's docstring repeats them)."""

    def to_dict(self) -> dict[str, Any]:
        return {"terms": [t.to_dict() for t in self.terms]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def json_from_text(text: str) -> Any:
    """The JSON value of a reply: the whole text, else a ```json fence, else the first
    balanced ``{...}``. Raises SketchRejection(SKETCH_JSON) when none parses, or when a
    fence holds broken JSON: then the first ``{...}`` inside it is one term of the broken
    list, and reading it as the sketch would blame the schema for a missing quote."""
    fences = re.findall(r"```(?:json|JSON)?\s*\n(.*?)```", text, flags=re.DOTALL)
    candidates = [text.strip(), *fences]
    start = text.find("{")
    if start >= 0 and not fences:  # a fence, where there is one, is the sketch
        candidates.append(_balanced(text, start))
    errors: list[str] = []
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as err:
            near = " ".join(err.doc[max(0, err.pos - 30) : err.pos + 10].split())
            errors.append(f"{err.msg} at line {err.lineno} column {err.colno}, near {near!r}")
    # the fence's error where there is one: the text around it is not JSON anyway
    first_error = errors[1] if fences and len(errors) > 1 else (errors[0] if errors else "")
    raise SketchRejection(
        Code.SKETCH_JSON,
        "the reply is not a JSON sketch"
        + (f" ({first_error})" if first_error else " (no JSON object found)")
        + '; reply with one JSON object {"terms": [...]} and nothing else',
    )


def _balanced(text: str, start: int) -> str:
    """``text`` from ``start`` to the brace that closes it (strings respected)."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


def parse_sketch(text: str, task: TaskSpec, *, partial: bool = False) -> Sketch:
    """Read and check a reply; raises SketchRejection with every problem found (with
    ``partial``, only when no term passes: see ``check_sketch``)."""
    return check_sketch(json_from_text(text), task, partial=partial)


def check_sketch(data: Any, task: TaskSpec, *, partial: bool = False) -> Sketch:
    """Check a decoded sketch against the schema and ``task``'s state variables.

    With ``partial``, a sketch of which some terms pass is those terms, the others'
    problems in ``Sketch.dropped``; it raises only when the sketch as a whole is malformed
    or no term passes. The designer uses it for a reply whose repairs are spent
    (``StructuredDesigner.program``): the terms the LLM got right train, rather than
    none of them."""
    if isinstance(data, list):
        data = {"terms": data}  # a bare list of terms says the same thing
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            'a sketch is a JSON object with a list "terms", got '
            + (f"keys {sorted(data)}" if isinstance(data, dict) else type(data).__name__),
        )
    raw_terms = data["terms"]
    if not 1 <= len(raw_terms) <= MAX_TERMS:
        raise SketchRejection(
            Code.SKETCH_SCHEMA, f'"terms" must hold 1 to {MAX_TERMS} terms, got {len(raw_terms)}'
        )
    checker = ExpressionChecker(task)
    checker.bind_terms(
        {
            raw["name"]: raw["expr"]
            for raw in raw_terms
            if isinstance(raw, dict)
            and isinstance(raw.get("name"), str)
            and isinstance(raw.get("expr"), str)
        }
    )
    problems: list[tuple[Code, str]] = []
    terms: list[Term] = []
    code: list[Typed] = []
    names: set[str] = set()
    readings: list[str] = []
    for i, raw in enumerate(raw_terms):
        where = f"terms[{i}]" + (
            f" ({raw['name']!r})"
            if isinstance(raw, dict) and isinstance(raw.get("name"), str)
            else ""
        )
        try:
            term = _term(raw, where)
        except SketchRejection as err:
            problems.append((err.code, err.message))
            continue
        if term.name in names:
            # a name is a label: the second term of one name is the same reward under
            # another (the 1.5B model named two velocity terms forward_velocity, and kept
            # both names when asked to repair it)
            taken = names | {r.get("name") for r in raw_terms if isinstance(r, dict)}
            other = next(
                f"{term.name}_{k}"
                for k in range(2, 2 + MAX_TERMS + 1)
                if f"{term.name}_{k}" not in taken
            )
            readings.append(f"{term.name}: a second term of that name, called {other}")
            term = dataclasses.replace(term, name=other)
        names.add(term.name)
        before = dict(checker.renamed)
        checker.current = term.name
        try:
            typed = checker.check(term.expr)
        except ExpressionError as err:
            problems.append((err.code, f"{where}: {err.message}"))
            continue
        if checker.renamed != before:  # the program and the sketch read the real names
            term = dataclasses.replace(term, expr=rename(term.expr, checker.renamed))
        if typed.indicator and term.kind != "linear":
            # exp/tolerance shape a distance (1 at 0); a 0/1 condition under them would pay
            # where it is false: the model that writes tolerance(d < 0.02) means the bonus
            readings.append(
                f"{term.name}: kind {term.kind} of a condition read as linear (1 where "
                f"{term.expr} holds)"
            )
            term = dataclasses.replace(term, kind="linear", scale=1.0)
        if typed.shape != ():
            problems.append(
                (Code.SKETCH_SHAPE, f"{where}: {_not_scalar(term.expr, typed, checker)}")
            )
            continue
        terms.append(term)
        code.append(typed)
    if problems and partial and terms:
        return Sketch(
            tuple(terms),
            tuple(code),
            tuple(checker.renamed.items()),
            tuple(readings),
            dropped=tuple(m for _, m in problems),
        )
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        message = "; ".join(m for _, m in shown) + (f"; and {more} more" if more else "")
        raise SketchRejection(shown[0][0], message)
    return Sketch(tuple(terms), tuple(code), tuple(checker.renamed.items()), tuple(readings))


def _not_scalar(expr: str, typed: Typed, checker: ExpressionChecker) -> str:
    """Why a term's expression is no scalar, and what would make it one: which variable in
    it is a vector (and what its components are), one component or a reduction of it."""
    message = (
        f"expr {expr!r} is {describe(typed.shape)} per env, but a term needs a scalar "
        "(one number per env)"
    )
    vectors = checker.vectors_in(expr)
    if not vectors:
        return message + "; reduce it, e.g. norm(...), sum(...) or dot(a, b)"
    parts = [f"{v} is {checker.explain(v)}" for v in vectors]
    v = vectors[0]
    return (
        f"{message}: in it, {'; '.join(parts)}. Use one component, e.g. {v}[0], or reduce "
        f"the vector, e.g. norm({expr.strip()}) (its length) or sum({expr.strip()})"
    )


def _term(raw: Any, where: str) -> Term:
    if not isinstance(raw, dict):
        raise SketchRejection(
            Code.SKETCH_SCHEMA, f"{where} must be an object, got {type(raw).__name__}"
        )
    fields = ("name", "kind", "expr", "weight", "scale", "sign")
    missing = [
        f for f in fields if f not in raw and not (f == "scale" and raw.get("kind") == "linear")
    ]
    extra = sorted(set(raw) - set(fields))
    if missing or extra:
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            f"{where}: "
            + (f"missing {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unknown field(s) {', '.join(extra)}" if extra else "")
            + f" (a term has exactly {', '.join(fields)})",
        )
    name = _term_name(raw["name"])
    if name is None:
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            f"{where}: name must be a lower-case identifier such as 'reach' (not one of "
            f"{', '.join(sorted(RESERVED))}), got {name!r}",
        )
    if raw["kind"] not in KINDS:
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            f"{where}: kind must be one of {', '.join(KINDS)}, got {raw['kind']!r}",
        )
    if not isinstance(raw["expr"], str):
        raise SketchRejection(
            Code.SKETCH_SCHEMA, f"{where}: expr must be a string, got {raw['expr']!r}"
        )
    weight = _number(raw["weight"], f"{where}: weight")
    if weight < 0:
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            f"{where}: weight must be >= 0 (the direction is the sign), got {weight}",
        )
    scale = _number(raw.get("scale", 1.0), f"{where}: scale")
    if raw["kind"] != "linear" and scale <= 0:
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            f"{where}: scale must be > 0 for kind {raw['kind']!r} (the distance at which "
            f"the term has decayed), got {scale}",
        )
    sign = raw["sign"]
    if sign not in (-1, 1) or isinstance(sign, bool):
        raise SketchRejection(
            Code.SKETCH_SCHEMA,
            f"{where}: sign must be 1 (a reward) or -1 (a penalty), got {sign!r}",
        )
    # a trailing comma is JSON's punctuation inside the string ("mean(v), "), which
    # Python would read as a tuple: Qwen2.5-Coder-1.5B wrote it, and repeated it when asked
    # to repair it
    expr = raw["expr"].strip().rstrip(",").strip()
    return Term(name, raw["kind"], expr, weight, scale, int(sign))


def _term_name(name: Any) -> str | None:
    """The term's name as an identifier, or None when nothing usable is left.

    A name is a label, not a meaning, so one a small model wrote loosely is made usable
    rather than rejected: lower-cased, other characters to "_" ("Pole Balance" ->
    "pole_balance"), and a reserved word or Python keyword suffixed ("action" ->
    "action_term"; Qwen2.5-Coder-1.5B named a CartPole term "action")."""
    if not isinstance(name, str):
        return None
    fixed = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if fixed in RESERVED or keyword.iskeyword(fixed):
        fixed += "_term"
    return fixed if re.fullmatch(r"[a-z][a-z0-9_]*", fixed) else None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SketchRejection(Code.SKETCH_SCHEMA, f"{what} must be a finite number, got {value!r}")
    return float(value)
