"""Code extraction from real LLM replies.

Replies hold prose around the code, several code blocks (a helper block, the function,
a usage example), a fence the model forgot to close, or no fence at all. The order of
preference:

1. the last fenced ``python`` block that parses and defines the function (a model that
   revises itself puts the revision last);
2. the last fenced block of any language that parses and defines it;
3. the longest run of lines outside fences that parses and defines it (grown from the
   ``def`` one top-level statement at a time);
4. a fenced block that mentions ``def FUNCTION`` but does not parse: returned as is,
   so vetting reports the syntax error to the model instead of "no code".

Imports and helper functions are kept; definitions the chosen code uses but other
blocks define (a helper in its own block) are added; ``if __name__ == "__main__":``
demo blocks, top-level example usage (a call of the function, ``print(...)``) and bare
expressions left over from prose are removed: a 1.5B coder model often appends an
example that calls the function at import time, so loading the program raised before
its reward was ever computed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from agentgym.llm.completion import Completion

# An opening fence (``` or ~~~, with an optional language), its body, and its closing
# fence or the end of the reply (a fence the model never closed).
_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+.-]*)[^\n]*\n"
    r"(?P<body>.*?)(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.M | re.S,
)
_PY_LANGS = {"python", "py", "python3", "py3"}

KINDS = ("fenced_python", "fenced", "unfenced", "unparsed", "no_code")


@dataclass(frozen=True)
class Extraction:
    """The outcome of extracting one function's code from a reply."""

    code: str | None
    """The program source, or None when the reply holds none."""
    kind: str
    """Where it came from: fenced_python, fenced, unfenced, unparsed (a block that
    mentions the function but does not parse), or no_code."""
    message: str
    """One line for logs, and for the LLM when there is no code."""

    @property
    def ok(self) -> bool:
        return self.code is not None

    @property
    def code_name(self) -> str | None:
        """ "NO_CODE" when nothing was found (a rejection code like the sandbox's)."""
        return "NO_CODE" if self.code is None else None


@dataclass(frozen=True)
class _Block:
    body: str
    lang: str
    start: int
    end: int


def _blocks(reply: str) -> list[_Block]:
    return [
        _Block(m.group("body"), m.group("lang").lower(), m.start(), m.end())
        for m in _FENCE.finditer(reply)
    ]


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _defines(tree: ast.Module, function: str) -> bool:
    return any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function
        for n in tree.body
    )


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    names = {p.id for p in parts if isinstance(p, ast.Name)}
    consts = {p.value for p in parts if isinstance(p, ast.Constant)}
    return "__name__" in names and "__main__" in consts


def _is_leftover(node: ast.stmt, index: int) -> bool:
    """A top-level expression that is no call: a word of prose, or a stray docstring."""
    if not isinstance(node, ast.Expr):
        return False
    if index == 0 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return False  # a module docstring
    return not isinstance(node.value, (ast.Call, ast.Await))


def _is_example_usage(node: ast.stmt, function: str) -> bool:
    """A top-level statement that runs the example a small model appends to its program:
    any statement outside a definition that calls ``function`` itself (``total, terms =
    compute_reward(state, action)``) or ``print`` (a loop printing the terms). Either
    would run, and may raise, when the program is loaded."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    calls = [n.func for n in ast.walk(node) if isinstance(n, ast.Call)]
    return any(isinstance(f, ast.Name) and f.id in (function, "print") for f in calls)


def _clean(source: str, function: str = "compute_reward") -> str:
    """Drop ``__main__`` blocks, example usage at the top level and leftover bare
    expressions; keep everything else (imports, constants, helpers, the function)."""
    tree = _parse(source)
    if tree is None:
        return source.strip("\n") + "\n"
    lines = source.splitlines()
    drop: set[int] = set()
    for i, node in enumerate(tree.body):
        if _is_main_guard(node) or _is_leftover(node, i) or _is_example_usage(node, function):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            drop.update(range(first - 1, (node.end_lineno or node.lineno)))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(kept).strip("\n") + "\n"


def _top_level_names(tree: ast.Module) -> dict[str, ast.stmt]:
    out: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node
    return out


def _used_names(tree: ast.Module) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _with_helpers(code: str, others: list[str]) -> str:
    """Prepend definitions from other blocks that ``code`` uses but does not define
    (and, in turn, what those use: a helper's own imports)."""
    if _parse(code) is None:
        return code
    sources = [(o, t) for o in others if (t := _parse(o)) is not None]
    pieces: list[str] = []
    while True:
        tree = _parse("\n\n".join([*pieces, code]))
        assert tree is not None  # whole statements from parsed sources
        wanted = _used_names(tree) - set(_top_level_names(tree))
        added = False
        for other, other_tree in sources:
            for name, node in _top_level_names(other_tree).items():
                if name not in wanted:
                    continue
                first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                segment = "\n".join(other.splitlines()[first - 1 : node.end_lineno])
                if segment not in pieces:
                    pieces.append(segment)
                    added = True
                wanted.discard(name)
        if not added:
            break
    if not pieces:
        return code
    imports = [p for p in pieces if p.startswith(("import ", "from "))]
    defs = [p for p in pieces if p not in imports]
    head = "\n".join(imports) + ("\n\n\n" if imports and defs else "") + "\n\n\n".join(defs)
    return head + "\n\n\n" + code


def _chunks(lines: list[str]) -> list[tuple[int, int]]:
    """Split lines into top-level chunks: a line at column 0 and the indented, blank or
    closing-bracket lines after it (one statement, a function, a decorated class)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for i, line in enumerate(lines):
        top = bool(line) and not line[0].isspace() and not line.startswith((")", "]", "}"))
        if top and i > start and not lines[i - 1].lstrip().startswith("@"):
            bounds.append((start, i))
            start = i
    if start < len(lines):
        bounds.append((start, len(lines)))
    return bounds


def _unfenced(text: str, function: str) -> tuple[str, list[str]] | None:
    """The longest run of whole chunks around ``def function`` that parses, grown one
    chunk at a time (so a reply of any length costs a number of parses linear in its
    chunks), and the other chunks that parse on their own (helpers amid prose)."""
    lines = text.splitlines()
    chunks = _chunks(lines)
    source = ["\n".join(lines[a:b]) for a, b in chunks]
    best: tuple[int, int] | None = None
    for k, chunk in enumerate(source):
        if not re.match(rf"(async\s+)?def\s+{function}\b|@", chunk):
            continue
        tree = _parse(chunk)
        if tree is None or not _defines(tree, function):
            continue
        lo, hi = k, k + 1
        while lo > 0 and _parse("\n".join(source[lo - 1 : hi])) is not None:
            lo -= 1
        while hi < len(source) and _parse("\n".join(source[lo : hi + 1])) is not None:
            hi += 1
        if best is None or (hi - lo) >= (best[1] - best[0]):
            best = (lo, hi)
    if best is None:
        return None
    others = [
        c
        for i, c in enumerate(source)
        if not best[0] <= i < best[1] and c.strip() and _parse(c) is not None
    ]
    return "\n".join(source[best[0] : best[1]]), others


def extract_code(reply: str, function: str = "compute_reward") -> Extraction:
    """Extract the program that defines ``function`` from an LLM reply."""
    blocks = _blocks(reply)
    parsed = [(b, _parse(b.body)) for b in blocks]
    defining = [(b, t) for b, t in parsed if t is not None and _defines(t, function)]
    others = [b.body for b, t in parsed if t is not None]
    for kind, pool in (
        ("fenced_python", [d for d in defining if d[0].lang in _PY_LANGS]),
        ("fenced", defining),
    ):
        if pool:
            block = pool[-1][0]
            code = _with_helpers(
                _clean(block.body, function), [o for o in others if o is not block.body]
            )
            return Extraction(
                code,
                kind,
                f"{function} from a fenced {block.lang or 'plain'} block "
                f"({len(blocks)} block(s) in the reply)",
            )
    # Outside fences: mask the fenced parts so prose + code around them is searched.
    outside = reply
    for b in reversed(blocks):
        outside = outside[: b.start] + "\n" * reply[b.start : b.end].count("\n") + outside[b.end :]
    found = _unfenced(outside, function)
    if found is not None:
        code, loose = found
        return Extraction(
            _with_helpers(_clean(code, function), others + loose),
            "unfenced",
            f"{function} from unfenced lines of the reply",
        )
    mentioning = [b for b in blocks if re.search(rf"\bdef\s+{function}\b", b.body)]
    if mentioning:
        return Extraction(
            mentioning[-1].body.strip("\n") + "\n",
            "unparsed",
            f"a block defines {function} but does not parse as Python",
        )
    return Extraction(
        None,
        "no_code",
        f"NO_CODE: the reply holds no Python code defining {function}(...); "
        f"answer with one ```python block that defines it",
    )


def require_code(function: str = "compute_reward"):
    """A content check for ``LLMClient.chat(check=...)``: re-sample replies with no code."""

    def check(completion: Completion) -> str | None:
        return None if extract_code(completion.text, function).ok else "NO_CODE"

    check.__name__ = f"require_code_{function}"
    return check
