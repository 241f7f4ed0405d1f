"""Static vetting of generated reward code: parse, AST allowlist, signature.

The first line of defence (the worker process is the second). What a program may name is
an allowlist kept in one file, ``agentgym.sandbox.allowlist``: the modules it may import
and, in each, the names it may take; the builtins it may call; and the attributes it may
read on any other value (tensors, arrays, dicts). Anything else is rejected, so a new
code runner inside numpy or torch is out until someone adds it to that file.
Double-underscore names, private attributes, ``getattr`` with a computed name, strings
holding ``__`` (format-string attribute walks) and assignments that patch an imported
module are rejected too. Nothing here executes the program.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable

from agentgym.registry import suggest
from agentgym.rewards.program import ENTRY, RewardProgramError, check_signature
from agentgym.sandbox.allowlist import ALLOWLIST_FILE, BUILTINS, MODULES, VALUE_ATTRIBUTES
from agentgym.sandbox.codes import Code, SandboxRejection
from agentgym.sandbox.results import VetResult
from agentgym.sandbox.sanitize import clean
from agentgym.spec import PRIVILEGED_NAMES

MAX_SOURCE_BYTES = 100_000

TOP_MODULES = frozenset(m.split(".")[0] for m in MODULES)

FORBIDDEN_MODULE_MESSAGE = (
    "only torch, math and numpy may be imported; reward code cannot use {name!r} "
    "(no files, processes, network or introspection)"
)

ALLOWED_DUNDER_NAMES = frozenset({"__name__"})


def _shown(name: str) -> str:
    """A program-chosen name as it appears in a message: bounded, no control characters."""
    return clean(name, 80)


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the program itself binds anywhere (assignments, parameters, defs, imports)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    return bound


def _rebound_names(tree: ast.Module) -> set[str]:
    """Names bound by anything other than an import (assignment, loop, def, parameter)."""
    rebound = _bound_names(ast.Module(body=[], type_ignores=[]))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            rebound.add(node.id)
        elif isinstance(node, ast.arg):
            rebound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            rebound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            rebound.add(node.name)
    return rebound


def _module_imports_first(tree: ast.Module) -> list[ast.stmt]:
    """The module's statements with its imports first, so aliases are known everywhere."""
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return imports + [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]


class _Vetter(ast.NodeVisitor):
    """Walks the tree and raises SandboxRejection at the first violation."""

    def __init__(self, tree: ast.Module) -> None:
        # Names bound to an imported module: attributes on them are checked against that
        # module's allowlist. A module bound to any other name (``t = torch``) is a value
        # to the vetter, so only VALUE_ATTRIBUTES apply to it, never the module's list.
        self.module_aliases: dict[str, str] = {}
        self.direct_calls: set[int] = set()  # ids of Name nodes called as getattr(...)
        self.bound = _bound_names(tree)
        self.rebound = _rebound_names(tree)

    def reject(self, code: Code, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", None)
        where = f"line {line}: " if line else ""
        raise SandboxRejection(code, f"{where}{message}")

    def not_allowed(self, node: ast.AST, what: str, hint: str = "") -> None:
        self.reject(
            Code.FORBIDDEN_NAME,
            node,
            f"{what} is not in the reward allowlist ({ALLOWLIST_FILE}); "
            f"{hint or 'compute the reward with tensor operations'}",
        )

    # -- imports ---------------------------------------------------------------
    def bind_module(self, name: str, module: str, node: ast.AST) -> None:
        if name in self.rebound:
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"'{_shown(name)}' names an imported module and is assigned again; "
                "use another name for the variable",
            )
        self.module_aliases[name] = module

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(alias.name, node)
            if alias.asname:
                self.bind_module(alias.asname, alias.name, node)
            else:
                top = alias.name.split(".")[0]
                self.bind_module(top, top, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.reject(Code.FORBIDDEN_IMPORT, node, "relative imports are not allowed")
        module = node.module or ""
        self._check_module(module, node)
        for alias in node.names:
            if alias.name == "*":
                self.reject(
                    Code.FORBIDDEN_IMPORT,
                    node,
                    f"'from {module} import *' is not allowed; import the names you use",
                )
            self._check_private(alias.name, node)
            if alias.name not in MODULES[module]:
                self.not_allowed(node, f"'{module}.{_shown(alias.name)}'")
            sub = f"{module}.{alias.name}"
            if sub in MODULES:
                self.bind_module(alias.asname or alias.name, sub, node)

    def _check_module(self, dotted: str, node: ast.AST) -> None:
        parts = dotted.split(".")
        if parts[0] not in TOP_MODULES:
            self.reject(
                Code.FORBIDDEN_IMPORT, node, FORBIDDEN_MODULE_MESSAGE.format(name=_shown(dotted))
            )
        for i in range(1, len(parts)):
            parent, child = ".".join(parts[:i]), ".".join(parts[: i + 1])
            if parts[i] not in MODULES.get(parent, ()) or child not in MODULES:
                self.reject(
                    Code.FORBIDDEN_IMPORT,
                    node,
                    f"'{_shown(dotted)}' is not in the reward allowlist ({ALLOWLIST_FILE}); "
                    "no files, native code or compilers",
                )

    # -- names and attributes --------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("__") and name not in ALLOWED_DUNDER_NAMES:
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore names such as '{_shown(name)}' are not allowed",
            )
        if name in ("getattr", "hasattr") and id(node) not in self.direct_calls:
            # g = getattr; g(torch, "lo" + "ad") would skip the literal-name check.
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f'{name} may only be called directly, as {name}(obj, "name")',
            )
        # A builtin the program does not shadow must be on the list; an unknown name is
        # left to the dry run, whose NameError comes back with a hint.
        if hasattr(builtins, name) and name not in BUILTINS | ALLOWED_DUNDER_NAMES:
            if isinstance(node.ctx, ast.Load) and name in self.bound:
                return
            self.reject(Code.FORBIDDEN_NAME, node, f"'{name}' is not allowed in reward code")

    def _module_of(self, node: ast.expr) -> str | None:
        """The dotted module ``node`` evaluates to, when it is an imported (sub)module."""
        if isinstance(node, ast.Name):
            return self.module_aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            parent = self._module_of(node.value)
            if parent is not None and f"{parent}.{node.attr}" in MODULES:
                return f"{parent}.{node.attr}"
        return None

    def _check_attribute(self, owner: ast.expr, name: str, node: ast.AST) -> None:
        self._check_private(name, node)
        if (
            isinstance(owner, ast.Name)
            and owner.id not in self.bound
            and not hasattr(builtins, owner.id)
        ):
            # A name nothing defines (``math.pi`` without ``import math``) raises NameError
            # before any attribute is read; the dry run sends it back with a hint.
            return
        module = self._module_of(owner)
        if module is not None:
            if name not in MODULES[module]:
                self.not_allowed(node, f"'{module}.{_shown(name)}'")
        elif name not in VALUE_ATTRIBUTES:
            self.not_allowed(
                node,
                f"the attribute '.{_shown(name)}'",
                "use tensor maths, reductions, shape and dtype attributes, dict reads",
            )

    def _check_private(self, name: str, node: ast.AST) -> None:
        if name.startswith("__"):
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore attributes such as '{_shown(name)}' are not allowed",
            )
        if name.startswith("_"):
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"private attributes such as '{_shown(name)}' are not allowed",
            )

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attribute(node.value, node.attr, node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr"):
            self.direct_calls.add(id(func))
            if len(node.args) < 2 or not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
            ):
                self.reject(
                    Code.FORBIDDEN_NAME,
                    node,
                    f"{func.id}() needs a literal attribute name; write obj.name instead",
                )
            self._check_attribute(node.args[0], node.args[1].value, node)  # type: ignore[union-attr]
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # "{0.__class__}".format(x) walks attributes without an Attribute node (and
        # .format is off the allowlist, which stops the walk by any other name).
        if isinstance(node.value, (str, bytes)) and (
            "__" in (node.value if isinstance(node.value, str) else node.value.decode("latin-1"))
        ):
            self.reject(
                Code.FORBIDDEN_NAME, node, "strings containing '__' are not allowed in reward code"
            )

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name.startswith("__"):
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore names such as '{_shown(node.name)}' are not allowed",
            )
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name.startswith("__"):
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore names such as '{_shown(node.name)}' are not allowed",
            )
        self.generic_visit(node)

    # -- patching imported modules ---------------------------------------------
    def _check_target(self, target: ast.expr, node: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._check_target(elt, node)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value, node)
        elif isinstance(target, ast.Attribute):
            root = _dotted_root(target)
            if root in self.module_aliases or root in TOP_MODULES:
                self.reject(
                    Code.FORBIDDEN_NAME,
                    node,
                    f"assigning to '{_shown(ast.unparse(target))}' patches an imported module; "
                    "define your own helper function instead",
                )

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)


def _dotted_root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _check_state_keys(tree: ast.Module, state_names: Iterable[str]) -> None:
    """Literal keys read from compute_reward's state argument must be state variables."""
    names = tuple(state_names)
    entry = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == ENTRY)
    params = [a.arg for a in entry.args.posonlyargs + entry.args.args]
    if not params:
        return
    state = params[0]
    for node in ast.walk(entry):
        key: object = None
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == state
        ):
            if isinstance(node.slice, ast.Constant):
                key = node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == state
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        if isinstance(key, str) and key not in names:
            raise SandboxRejection(
                Code.UNKNOWN_STATE, unknown_state_message(key, names, node.lineno)
            )


def unknown_state_message(key: str, names: Iterable[str], line: int | None = None) -> str:
    """The LLM-facing message for a read of a key that is not a state variable."""
    names = tuple(names)
    where = f"line {line}: " if line else ""
    why = (
        " (the success flag and the env's reward are privileged and never given to a reward)"
        if key in PRIVILEGED_NAMES
        else ""
    )
    return (
        f"{where}state has no key {key!r}{why}.{suggest(key, names)} Available: {', '.join(names)}"
    )


def static_check(source: str, state_names: Iterable[str] | None = None) -> VetResult:
    """Vet ``source`` without running it: syntax, allowlist, ``compute_reward(state, action)``.

    With ``state_names`` (the env's TaskSpec variables), literal reads such as
    ``state["success"]`` of names that are not state variables are rejected too.
    """
    try:
        if len(source.encode()) > MAX_SOURCE_BYTES:
            raise SandboxRejection(
                Code.TOO_LARGE, f"the program is longer than {MAX_SOURCE_BYTES} bytes"
            )
        try:
            tree = ast.parse(source, filename="<reward program>")
        except SyntaxError as err:
            raise SandboxRejection(
                Code.SYNTAX, f"line {err.lineno}: syntax error: {err.msg}"
            ) from err
        except ValueError as err:  # null bytes
            raise SandboxRejection(Code.SYNTAX, f"the source cannot be parsed: {err}") from err
        vetter = _Vetter(tree)
        for statement in _module_imports_first(tree):
            vetter.visit(statement)
        try:
            check_signature(tree, "program")
        except RewardProgramError as err:
            raise SandboxRejection(
                Code.BAD_SIGNATURE,
                f"{str(err).removeprefix('program: ')}; define "
                f"'def {ENTRY}(state, action)' returning (reward, components)",
            ) from err
        entries = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == ENTRY]
        if len(entries) > 1:
            raise SandboxRejection(
                Code.BAD_SIGNATURE, f"{ENTRY} is defined {len(entries)} times; define it once"
            )
        if state_names is not None:
            _check_state_keys(tree, state_names)
    except SandboxRejection as rej:
        return VetResult(
            ok=False, code=rej.code, message=rej.message, detail=rej.detail, stage="static"
        )
    return VetResult(ok=True, message="passed static checks", stage="static")
