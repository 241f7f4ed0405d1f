"""The sketch's expression language: parsed, shape-checked against a TaskSpec, rendered
as torch code. Nothing here ever evaluates LLM text.

Why infix text and not a JSON AST: a small coder model (Qwen2.5-Coder-1.5B) writes
``norm(fingertip_pos - target_pos)`` the way it writes Python every day, while a nested
JSON tree of the same expression (``{"op": "norm", "args": [{"op": "sub", ...}]}``) is
three times longer and loses its brackets; the JSON schema constrains the *terms* (the
part a grammar can enforce), the expression stays one short string per term. It is
parsed with Python's own parser in ``mode="eval"`` (parsing builds a tree; nothing runs)
and every node is checked against the allowlist below, so the language is exactly:

- names: the TaskSpec's numeric state variables, and ``action`` (a vector whose length
  the TaskSpec does not declare, so it matches any length);
- numbers; ``+ - * /``; unary ``-``; ``x ** c`` with a constant exponent; ``x[i]`` with a
  constant index (a component of a vector), ``x[a:b]`` with constant bounds (components;
  a scalar is a vector of one value: ``x[0]`` and ``x[-2:]`` are ``x``, ``x[2:4]`` is
  refused);
- functions: ``norm(v)``, ``sum(v)``, ``mean(v)`` (over the last axis), ``dot(a, b)``,
  ``distance(a, b)`` (``norm(a - b)``; also spelt ``dist``; ``distance(v)`` is
  ``norm(v)``), ``abs``, ``square``, ``sqrt`` (of the non-negative part), ``exp``,
  ``log`` (of the part above 1e-8), ``tanh``, ``sin``, ``cos``,
  ``pow(x, c)`` (``x ** c``), ``clamp(x, lo, hi)`` with constant bounds, ``min(a, b)``,
  ``max(a, b)``, and ``min(v)``/``max(v)`` over a vector's components; a reduction of a
  scalar treats it as a vector of one value (``sum``/``mean``/``min``/``max``: itself,
  ``norm``: its absolute value);
- comparisons ``<  <=  >  >=`` (chained too) are 1.0 where true and 0.0 where false, and
  ``and``/``or``/``not`` combine them (a success bonus ``norm(a - b) < 0.05``); ``==`` is
  refused: floats are never exactly equal;
- another term's name stands for that term's expression (``clamp(approach, 0, 1)``), and
  a variable's declared alias (``StateVar.aliases``: ``gripper_pos`` for ``tcp_pos``)
  for the variable.

Shapes are per env (the batch axis is implicit): ``()`` a scalar, ``(2,)`` a vector, -1 a
length not known. A scalar meets a vector only where that is meaningful (broadcast over the
vector, rendered with ``unsqueeze``); two vectors must agree.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from dataclasses import dataclass

from agentgym.sandbox.codes import Code
from agentgym.spec import TaskSpec

Shape = tuple[int, ...]
ANY = -1
"""A length the TaskSpec does not declare (the action's)."""

ACTION = "action"
CONSTANTS = {"pi": math.pi}
"""Named numbers an expression may use where no state variable has the name (the 1.5B
model wrote ``abs(pole_angle) / pi`` on CartPole)."""
ELEMENTWISE = {
    "abs": "torch.abs({})",
    "square": "torch.square({})",
    "sqrt": "torch.sqrt(torch.clamp({}, min=0.0))",
    "exp": "torch.exp({})",
    "log": "torch.log(torch.clamp({}, min=1e-8))",
    "tanh": "torch.tanh({})",
    "sin": "torch.sin({})",
    "cos": "torch.cos({})",
}
REDUCTIONS = {
    "norm": "torch.linalg.vector_norm({}, dim=-1)",
    "sum": "torch.sum({}, dim=-1)",
    "mean": "torch.mean({}, dim=-1)",
}
FUNCTIONS = (*REDUCTIONS, *ELEMENTWISE, "dot", "distance", "pow", "clamp", "min", "max")
SPELLINGS = {"dist": "distance"}
"""Other names of functions, as the 1.5B model wrote them (dist(tcp_pos, obj_pos))."""
ARITY = {
    "dot": (2,),
    "distance": (1, 2),
    "pow": (2,),
    "clamp": (3,),
    "min": (1, 2),
    "max": (1, 2),
}
"""Argument counts of the functions that do not take one."""
_NUMERIC = {
    "abs": abs,
    "square": lambda x: x * x,
    "sqrt": lambda x: math.sqrt(max(x, 0.0)),
    "exp": math.exp,
    "log": lambda x: math.log(max(x, 1e-8)),
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_COMPARE_NUMERIC = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class ExpressionError(Exception):
    """An expression the language does not accept: a sketch code and an LLM-facing message."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Typed:
    """A checked sub-expression: its torch code, its per-env shape, its value if constant."""

    code: str
    shape: Shape
    value: float | None = None
    indicator: bool = False
    """A comparison or a combination of them: 1.0 where true, 0.0 where false."""

    @property
    def constant(self) -> bool:
        return self.value is not None


def describe(shape: Shape) -> str:
    if shape == ():
        return "a scalar"
    dims = ", ".join("?" if d == ANY else str(d) for d in shape)
    return f"a vector of shape ({dims},)" if len(shape) == 1 else f"an array of shape ({dims})"


def _same(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(x == y or ANY in (x, y) for x, y in zip(a, b, strict=True))


def _merge(a: Shape, b: Shape) -> Shape:
    return tuple(y if x == ANY else x for x, y in zip(a, b, strict=True))


def _plain(name: str) -> str:
    """A name without case, underscores and a ``state`` prefix: what a small model varies."""
    name = name.lower()
    for prefix in ("state_", "state"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix) :]
            break
    return name.replace("_", "")


def closest_name(name: str, known: list[str]) -> str | None:
    """The state variable ``name`` clearly means, or None.

    Small models misspell variables one edit away (``finger_pos``, ``fingerpos`` for
    ``fingertip_pos``, ``targetPos`` for ``target_pos``); rejecting the whole sketch for it
    wastes an LLM call that had the right idea. A name is read as a variable when they are
    equal without case, underscores and a ``state`` prefix, or when the variable is the
    only close match (difflib ratio >= 0.8 on those plain forms, 0.1 ahead of the next):
    ``target`` next to both ``target_pos`` and ``target_vel`` stays unknown.
    """
    import difflib

    plain = _plain(name)
    same = [k for k in known if _plain(k) == plain]
    if len(same) == 1:
        return same[0]
    ratios = sorted(
        ((difflib.SequenceMatcher(None, plain, _plain(k)).ratio(), k) for k in known),
        reverse=True,
    )
    if not ratios or ratios[0][0] < 0.8:
        return None
    if len(ratios) > 1 and ratios[0][0] - ratios[1][0] < 0.1:
        return None
    return ratios[0][1]


def _plain_words(text: str) -> list[str]:
    """The lower-case words of a name or a sentence (``hand_opening``: hand, opening)."""
    return re.findall(r"[a-z]+", (text or "").lower())


def _same_word(a: str, b: str) -> bool:
    """Whether two words are one, up to a plural or a short suffix (torque, torques)."""
    if len(a) < 3 or len(b) < 3:
        return a == b
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and len(long) - len(short) <= 2


def rename(expr: str, renamed: dict[str, str]) -> str:
    """``expr`` with its names replaced by ``renamed`` (an already-parsed expression): a
    name by a name, or by a whole expression (another term's), which ``ast.unparse``
    parenthesises where precedence needs it."""

    class Renamer(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            if node.id not in renamed:
                return node
            return ast.copy_location(ast.parse(renamed[node.id], mode="eval").body, node)

        def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
            dotted = ast.unparse(node)  # "state.position", recorded as such by the checker
            if dotted not in renamed:
                return self.generic_visit(node)
            # the name it stands for may itself be renamed (state.finger_pos -> fingertip_pos)
            name = renamed[dotted]
            return ast.copy_location(ast.parse(renamed.get(name, name), mode="eval").body, node)

    return ast.unparse(Renamer().visit(ast.parse(expr.strip(), mode="eval")))


class ExpressionChecker:
    """Checks expressions against one TaskSpec and renders them as torch code."""

    def __init__(self, task: TaskSpec, *, repair_names: bool = True) -> None:
        self.task = task
        self.numeric = {v.name: v for v in task.state if not v.is_text}
        self.text = {v.name for v in task.state if v.is_text}
        self.aliases = {a: v.name for v in task.state if not v.is_text for a in v.aliases}
        self.repair_names = repair_names
        self.renamed: dict[str, str] = {}
        """Unknown names read as the one state variable they clearly meant (an alias,
        ``closest_name``) or as another term's expression."""
        self.terms: dict[str, str] = {}
        """The sketch's terms' expressions by name (``bind_terms``): a name that is no
        variable may be one of them."""
        self.current: str | None = None
        """The term being checked: its own name is never read as itself."""
        self._open: list[str] = []
        """Terms being expanded (a term reading itself, directly or not, is refused)."""

    def bind_terms(self, terms: dict[str, str]) -> None:
        """Let expressions read the other terms of their sketch by name."""
        self.terms = dict(terms)

    def check(self, expr: str) -> Typed:
        """Parse and check ``expr``; raises ExpressionError naming what was expected."""
        if not isinstance(expr, str) or not expr.strip():
            raise ExpressionError(Code.SKETCH_EXPR, "the expression is empty")
        try:
            tree = ast.parse(expr.strip(), mode="eval")
        except SyntaxError as err:
            raise ExpressionError(
                Code.SKETCH_EXPR, f"cannot parse {expr!r}: {err.msg} (write e.g. norm(a - b))"
            ) from None
        return self._node(tree.body)

    # -- nodes -------------------------------------------------------------------------
    def _node(self, node: ast.expr) -> Typed:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(
                    Code.SKETCH_EXPR, f"only numbers may be constants, got {node.value!r}"
                )
            return Typed(repr(float(node.value)), (), float(node.value))
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._node(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            if inner.constant:
                return Typed(repr(-inner.value), (), -inner.value)
            return Typed(f"(-{inner.code})", inner.shape)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return self._binary(_OPS[type(node.op)], self._node(node.left), self._node(node.right))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._power(self._node(node.left), self._node(node.right))
        if isinstance(node, ast.Subscript):
            return self._index(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.BoolOp):
            return self._bool(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self._indicator(node.operand, "not")
            if inner.constant:
                return Typed(repr(1.0 - inner.value), (), 1.0 - inner.value)
            return Typed(f"(1.0 - {inner.code})", inner.shape, indicator=True)
        if (
            isinstance(node, ast.Attribute)
            and self.repair_names
            and isinstance(node.value, ast.Name)
            and node.value.id == "state"
        ):
            # "state.position": the program's own spelling (state["position"]) leaking into
            # the sketch; Qwen2.5-Coder-1.5B wrote it on MountainCar and kept it when asked
            # to repair it. Read as the variable it names (misspellings handled as ever).
            self.renamed[f"state.{node.attr}"] = node.attr
            return self._name(node.attr)
        if isinstance(node, ast.Attribute):
            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"attributes such as '{ast.unparse(node)}' are not part of the language; "
                "name a state variable directly (fingertip_pos, not state.fingertip_pos) and "
                f"use the functions {', '.join(FUNCTIONS)}",
            )
        raise ExpressionError(
            Code.SKETCH_EXPR,
            f"'{ast.unparse(node)}' is not part of the expression language: use state "
            "variables, numbers, + - * / ** and the functions " + ", ".join(FUNCTIONS),
        )

    def _name(self, name: str) -> Typed:
        if name == ACTION:
            return Typed("action", (ANY,))
        if name in self.numeric:
            var = self.numeric[name]
            code = f'state["{name}"]'
            if var.dtype != "float32" and var.dtype != "float64":
                code += ".float()"  # counts and flags enter arithmetic as floats
            return Typed(code, var.shape)
        if name in self.text:
            raise ExpressionError(
                Code.SKETCH_VARIABLE,
                f"'{name}' is a text state variable; an expression reads numeric ones: "
                + ", ".join(self.numeric),
            )
        if name in CONSTANTS:
            value = CONSTANTS[name]
            return Typed(repr(value), (), value)
        known = [*self.numeric, ACTION]
        if name in self.aliases:
            self.renamed[name] = self.aliases[name]
            return self._name(self.aliases[name])
        if name in self.terms and (name != self.current or self._open):
            return self._term(name)
        meant = (
            closest_name(name, list(self.numeric)) or self.named_by_head(name)
            if self.repair_names
            else None
        )
        if meant is not None:
            self.renamed[name] = meant
            return self._name(meant)
        close = self.related(name)
        hint = (
            " The closest by name or meaning: "
            + "; ".join(f"{k} ({self.explain(k)})" for k in close)
            + "."
            if close
            else ""
        )
        raise ExpressionError(
            Code.SKETCH_VARIABLE,
            f"unknown variable '{name}': it is not a state variable of {self.task.name}.{hint} "
            "The variables are: " + ", ".join(known),
        )

    def explain(self, name: str) -> str:
        """A variable's shape and meaning, as a repair message names them."""
        if name == ACTION:
            meaning = self.task.action_meaning
            return "a vector" + (f": {meaning.rstrip('.')}" if meaning else "")
        var = self.numeric[name]
        return describe(var.shape) + (f": {var.meaning.rstrip('.')}" if var.meaning else "")

    def vectors_in(self, expr: str) -> list[str]:
        """The vector-valued variables (``action`` included) an expression reads, in order."""
        out: list[str] = []
        for node in ast.walk(ast.parse(expr.strip(), mode="eval")):
            name = self.aliases.get(getattr(node, "id", ""), getattr(node, "id", ""))
            vector = name == ACTION or (name in self.numeric and self.numeric[name].shape != ())
            if vector and name not in out:
                out.append(name)
        return out

    def named_by_head(self, name: str) -> str | None:
        """The one variable an unknown name means by its head word (its last word, the
        noun), or None: the only variable whose name has that word (``hand_opening`` ->
        ``gripper_opening``, ``torso_position`` -> ``x_position`` on Hopper), else
        ``action`` when the action's meaning has it and no variable's name does
        (``torque`` on Hopper, whose action is "torques of the thigh, leg and foot
        joints"). Qwen2.5-Coder-1.5B wrote these three in the benchmark and, asked to
        repair them, sent them back unchanged. A head word in two names (``target`` beside
        ``target_pos`` and ``target_vel``), or one under four letters, means nothing."""
        words = _plain_words(name)
        head = words[-1] if words else ""
        if len(head) < 4:
            return None
        named = [k for k in self.numeric if any(_same_word(head, w) for w in _plain_words(k))]
        if len(named) == 1:
            return named[0]
        if not named and any(_same_word(head, w) for w in _plain_words(self.task.action_meaning)):
            return ACTION
        return None

    def related(self, name: str, limit: int = 3) -> list[str]:
        """The variables (and ``action``) an unknown name most likely meant, by the words
        they share: ``hand_opening`` -> ``gripper_opening``, ``torque`` -> ``action``
        (whose meaning says "torques"). A word of the name's head (its last word, the noun)
        counts more, and a word of the variable's name more than one of its meaning. A word
        in the names of more than two variables (``pos``, ``torso``) points at none."""
        known = [*self.numeric, ACTION]
        names = {k: _plain_words(k) for k in known}
        words = [
            w
            for w in _plain_words(name)
            if len(w) >= 3 and sum(any(_same_word(w, o) for o in names[k]) for k in known) <= 2
        ]
        scored = []
        for k in known:
            own = names[k]
            meaning = _plain_words(
                self.task.action_meaning if k == ACTION else self.numeric[k].meaning
            )
            score = 0
            for j, w in enumerate(words, start=1):
                if any(_same_word(w, o) for o in own):
                    score += 2 * j
                elif any(_same_word(w, m) for m in meaning):
                    score += j
            if score:
                scored.append((-score, k))
        return [k for _, k in sorted(scored)[:limit]]

    def _term(self, name: str) -> Typed:
        """Another term's expression, read where its name is written."""
        if name in self._open:
            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"the term {name!r} reads itself (through {' -> '.join([*self._open, name])}); "
                "write its expression out instead",
            )
        self._open.append(name)
        try:
            tree = ast.parse(self.terms[name].strip(), mode="eval")
            typed = self._node(tree.body)
        except SyntaxError:
            raise ExpressionError(
                Code.SKETCH_EXPR, f"the term {name!r} it reads does not parse"
            ) from None
        finally:
            self._open.pop()
        # the sketch keeps the expression (with its own names repaired), not the name, so
        # it still reads the same when crossover moves this term away from the other one
        self.renamed[name] = rename(self.terms[name], self.renamed)
        return typed

    def _compare(self, node: ast.Compare) -> Typed:
        """``a < b`` (chained: ``0 < x < 1``) as 1.0 where true, 0.0 where false."""
        parts: list[Typed] = []
        left = self._node(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self._node(right_node)
            if type(op) not in _COMPARE:
                raise ExpressionError(
                    Code.SKETCH_EXPR,
                    f"'{ast.unparse(node)}': only < <= > >= compare (floats are never exactly "
                    "equal; for 'close to' use abs(a - b) < 0.01 or a tolerance term)",
                )
            symbol = _COMPARE[type(op)]
            if left.shape != () or right.shape != ():
                raise ExpressionError(
                    Code.SKETCH_SHAPE,
                    f"'{ast.unparse(node)}' compares {describe(left.shape)} with "
                    f"{describe(right.shape)}; compare scalars, e.g. norm(a - b) < 0.05",
                )
            if left.constant and right.constant:
                value = float(_COMPARE_NUMERIC[symbol](left.value, right.value))
                parts.append(Typed(repr(value), (), value))
            else:
                parts.append(Typed(f"({left.code} {symbol} {right.code}).float()", ()))
            left = right
        result = parts[0]
        for part in parts[1:]:
            result = self._binary("*", result, part)
        return result if result.constant else dataclasses.replace(result, indicator=True)

    def _indicator(self, node: ast.expr, what: str) -> Typed:
        """A 0/1 operand of ``and``/``or``/``not``: a comparison or a combination of them."""
        if not isinstance(node, (ast.Compare, ast.BoolOp)) and not (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        ):
            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"'{what}' combines comparisons (a < b {what} c > d), got '{ast.unparse(node)}'",
            )
        return self._node(node)

    def _bool(self, node: ast.BoolOp) -> Typed:
        """``and`` as the product of 0/1 values, ``or`` as their maximum."""
        what = "and" if isinstance(node.op, ast.And) else "or"
        values = [self._indicator(v, what) for v in node.values]
        result = values[0]
        for value in values[1:]:
            if what == "and":
                result = self._binary("*", result, value)
            elif result.constant and value.constant:
                result = Typed(
                    repr(max(result.value, value.value)), (), max(result.value, value.value)
                )
            else:
                result = Typed(f"torch.maximum({result.code}, {value.code})", ())
        return result if result.constant else dataclasses.replace(result, indicator=True)

    def _binary(self, op: str, a: Typed, b: Typed) -> Typed:
        if op == "/" and b.constant and b.value == 0:
            raise ExpressionError(Code.SKETCH_EXPR, "division by the constant 0")
        if a.constant and b.constant:
            if op == "+":
                value = a.value + b.value
            elif op == "-":
                value = a.value - b.value
            elif op == "*":
                value = a.value * b.value
            else:
                value = a.value / b.value
            return Typed(repr(value), (), value)
        left, right, shape = self._broadcast(op, a, b)
        return Typed(f"({left} {op} {right})", shape)

    def _broadcast(self, what: str, a: Typed, b: Typed) -> tuple[str, str, Shape]:
        """Both operands' code and the result's shape; a scalar tensor meeting a vector is
        unsqueezed, because the batch axis comes first ([N] against [N, 2] would not align)."""
        if a.constant or b.constant:
            return a.code, b.code, (b.shape if a.constant else a.shape)
        if _same(a.shape, b.shape):
            return a.code, b.code, _merge(a.shape, b.shape)
        if a.shape == ():
            return _unsqueeze(a.code, len(b.shape)), b.code, b.shape
        if b.shape == ():
            return a.code, _unsqueeze(b.code, len(a.shape)), a.shape
        raise ExpressionError(
            Code.SKETCH_SHAPE,
            f"'{what}' between {describe(a.shape)} and {describe(b.shape)}: the shapes must "
            "match (or one side must be a scalar)",
        )

    def _power(self, base: Typed, exponent: Typed) -> Typed:
        if not exponent.constant:
            raise ExpressionError(
                Code.SKETCH_EXPR, "the exponent of '**' must be a number, e.g. x ** 2"
            )
        if base.constant:
            try:
                value = float(base.value**exponent.value)
            except (OverflowError, ZeroDivisionError, TypeError):
                raise ExpressionError(Code.SKETCH_EXPR, "a constant power is not finite") from None
            return Typed(repr(value), (), value)
        if exponent.value == 2:
            return Typed(f"torch.square({base.code})", base.shape)
        return Typed(f"({base.code} ** {exponent.code})", base.shape)

    def _index(self, node: ast.Subscript) -> Typed:
        base = self._node(node.value)
        index = node.slice
        if isinstance(index, ast.Slice):
            return self._slice(node, base, index)
        i = _whole(index)
        if i is None:
            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"'{ast.unparse(node)}': an index must be one whole number, e.g. joint_pos[0]",
            )
        if base.shape == ():
            if i in (0, -1):  # the one value of a scalar, as for slices and reductions
                return base
            raise ExpressionError(
                Code.SKETCH_SHAPE,
                f"'{ast.unparse(node)}' indexes a scalar, which is one value (index 0); "
                "only vectors have more components",
            )
        length = base.shape[-1]
        if length != ANY and not -length <= i < length:
            raise ExpressionError(
                Code.SKETCH_SHAPE,
                f"'{ast.unparse(node)}': index {i} is out of range for {describe(base.shape)} "
                f"(valid: 0 to {length - 1})",
            )
        return Typed(f"{base.code}[..., {i}]", base.shape[:-1])

    def _slice(self, node: ast.Subscript, base: Typed, index: ast.Slice) -> Typed:
        """``v[a:b]``: the components a to b-1 of a vector (constant bounds, no step)."""
        bounds = []
        for bound in (index.lower, index.upper):
            if bound is None:
                bounds.append(None)
            elif _whole(bound) is not None:
                bounds.append(_whole(bound))
            else:
                bounds.append("bad")
        if index.step is not None or "bad" in bounds:
            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"'{ast.unparse(node)}': a slice takes whole-number bounds and no step, "
                "e.g. joint_pos[0:2]",
            )
        lo, hi = bounds
        if base.shape == ():
            # a scalar is a vector of one value, as for the reductions: the 1.5B model
            # writes mean(forward_velocity[-2:]) for "the recent velocity"; a slice that
            # keeps that value is the scalar, one that keeps nothing is refused
            if len(range(1)[lo:hi]) == 1:
                return base
            raise ExpressionError(
                Code.SKETCH_SHAPE,
                f"'{ast.unparse(node)}' slices a scalar, which is one value: the slice "
                "keeps nothing of it (only vectors have more components)",
            )
        length = base.shape[-1]
        if length == ANY:
            size = ANY
        else:
            size = len(range(length)[lo:hi])
            if size == 0:
                raise ExpressionError(
                    Code.SKETCH_SHAPE,
                    f"'{ast.unparse(node)}' selects no component of {describe(base.shape)} "
                    f"(valid indices: 0 to {length - 1})",
                )
        text = f"{'' if lo is None else lo}:{'' if hi is None else hi}"
        return Typed(f"{base.code}[..., {text}]", (*base.shape[:-1], size))

    def _call(self, node: ast.Call) -> Typed:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        name = SPELLINGS.get(name, name)
        if name not in FUNCTIONS:
            from agentgym.registry import suggest

            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"unknown function '{name}'.{suggest(name, FUNCTIONS)} The functions are: "
                + ", ".join(FUNCTIONS),
            )
        if node.keywords:
            raise ExpressionError(Code.SKETCH_EXPR, f"{name}(...) takes positional arguments only")
        arity = ARITY.get(name, (1,))
        if len(node.args) not in arity:
            count = " or ".join(str(a) for a in arity)
            raise ExpressionError(
                Code.SKETCH_EXPR,
                f"{name}(...) takes {count} argument{'s' if max(arity) > 1 else ''}, "
                f"got {len(node.args)}",
            )
        if name == "distance" and len(node.args) == 1:
            # distance(a - b): the difference already taken (the 1.5B model on
            # DrawerOpen, which a repair only respelt as norm(a - b))
            return self._node(ast.Call(ast.Name("norm"), node.args, []))
        if name == "distance":
            # what a coder model writes for norm(a - b), so it means exactly that
            a, b = node.args
            return self._node(ast.Call(ast.Name("norm"), [ast.BinOp(a, ast.Sub(), b)], []))
        if name == "pow":
            base, exponent = node.args
            return self._power(self._node(base), self._node(exponent))
        args = [self._node(a) for a in node.args]
        if name in ("min", "max") and len(args) == 1:
            (x,) = args
            if x.shape == ():
                return x
            return Typed(f"torch.a{name}({x.code}, dim=-1)", x.shape[:-1])
        if name in REDUCTIONS:
            (x,) = args
            if x.shape == ():
                # A scalar is a vector of one value: its sum and mean are itself, its norm
                # its absolute value (a small model writes mean(forward_velocity)).
                if name == "norm":
                    return self._call(ast.Call(ast.Name("abs"), node.args, []))
                return x
            return Typed(REDUCTIONS[name].format(x.code), x.shape[:-1])
        if name in ELEMENTWISE:
            (x,) = args
            if x.constant:
                value = _NUMERIC[name](x.value)
                return Typed(repr(value), (), value)
            return Typed(ELEMENTWISE[name].format(x.code), x.shape)
        if name == "dot":
            a, b = args
            if a.shape == () or b.shape == () or not _same(a.shape, b.shape):
                raise ExpressionError(
                    Code.SKETCH_SHAPE,
                    f"dot(a, b) needs two vectors of the same length, got {describe(a.shape)} "
                    f"and {describe(b.shape)} in '{ast.unparse(node)}'",
                )
            return Typed(f"torch.sum({a.code} * {b.code}, dim=-1)", a.shape[:-1])
        if name == "clamp":
            x, lo, hi = args
            if not (lo.constant and hi.constant):
                raise ExpressionError(
                    Code.SKETCH_EXPR, "clamp(x, lo, hi) needs numbers for lo and hi"
                )
            if lo.value > hi.value:
                raise ExpressionError(
                    Code.SKETCH_EXPR, f"clamp(x, lo, hi) with lo {lo.value} > hi {hi.value}"
                )
            if x.constant:
                value = min(max(x.value, lo.value), hi.value)
                return Typed(repr(value), (), value)
            return Typed(f"torch.clamp({x.code}, min={lo.code}, max={hi.code})", x.shape)
        a, b = args  # min, max
        if a.constant and b.constant:
            value = min(a.value, b.value) if name == "min" else max(a.value, b.value)
            return Typed(repr(value), (), value)
        bound = "max" if name == "min" else "min"
        if a.constant or b.constant:
            x, c = (b, a) if a.constant else (a, b)
            return Typed(f"torch.clamp({x.code}, {bound}={c.code})", x.shape)
        left, right, shape = self._broadcast(f"{name}(a, b)", a, b)
        return Typed(f"torch.{name}imum({left}, {right})", shape)


def _whole(node: ast.expr) -> int | None:
    """The whole number a slice bound is (``2``, ``-2``), or None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


def _unsqueeze(code: str, dims: int) -> str:
    return code + "".join(".unsqueeze(-1)" for _ in range(dims))
