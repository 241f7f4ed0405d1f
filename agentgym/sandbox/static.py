"""Static vetting of generated reward code: parse, AST allowlist, signature.

The first line of defence (the worker process is the second): a program may import
only torch, math and numpy (plus typing and ``__future__``, which carry no capability),
may not name the builtins that run code or touch files (exec, eval, open, getattr with a
computed name, ...), may not reach for double-underscore names (the ``__subclasses__`` /
``__builtins__`` escapes), private attributes, or the parts of torch and numpy that load
pickles, write files, compile code or start processes, and may not patch the modules it
imports. Nothing here executes the program.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from agentgym.registry import suggest
from agentgym.rewards.program import ENTRY, RewardProgramError, check_signature
from agentgym.sandbox.codes import Code, SandboxRejection
from agentgym.sandbox.results import VetResult
from agentgym.spec import PRIVILEGED_NAMES

MAX_SOURCE_BYTES = 100_000

ALLOWED_MODULES = frozenset({"torch", "math", "numpy", "typing", "__future__"})

FORBIDDEN_BUILTINS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "open",
        "__import__",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "exit",
        "quit",
        "help",
        "memoryview",
        "delattr",
        "setattr",
    }
)
"""Builtins that run code, read files or reach into namespaces: rejected wherever named."""

NAME_ONLY_WITH_CONSTANT = frozenset({"getattr", "hasattr"})
"""Allowed only as ``getattr(obj, "literal")`` with a literal, non-private name."""

FORBIDDEN_ATTRIBUTES = frozenset(
    {
        # modules that torch and numpy re-export by accident (torch.os, np.sys, ...)
        "os",
        "sys",
        "subprocess",
        "socket",
        "ctypes",
        "importlib",
        "pickle",
        "builtins",
        "shutil",
        "io",
        "signal",
        "threading",
        "multiprocessing",
        "pathlib",
        "tempfile",
        "glob",
        "marshal",
        "runpy",
        "pty",
        "fcntl",
        "resource",
        "posix",
        "urllib",
        "http",
        "inspect",
        "gc",
        "code",
        "codeop",
        "types",
        "weakref",
        "platform",
        "sysconfig",
        # torch: pickles, files, native code, compilers, processes, global state
        "load",
        "save",
        "from_file",
        "hub",
        "jit",
        "compile",
        "ops",
        "library",
        "classes",
        "utils",
        "package",
        "distributed",
        "fx",
        "export",
        "onnx",
        "profiler",
        "serialization",
        "load_library",
        "cpp_extension",
        "set_default_dtype",
        "set_default_tensor_type",
        "set_default_device",
        "set_num_threads",
        "set_num_interop_threads",
        "manual_seed",
        "use_deterministic_algorithms",
        # numpy: pickles, files, raw memory
        "fromfile",
        "tofile",
        "loadtxt",
        "savetxt",
        "genfromtxt",
        "fromregex",
        "savez",
        "savez_compressed",
        "memmap",
        "open_memmap",
        "ctypeslib",
        "lib",
        "f2py",
        "distutils",
        "DataSource",
        "dump",
        "dumps",
        "loads",
        "get_type_hints",
        "ForwardRef",
        # frames, code objects and generators: f_builtins["eval"] needs no double underscore
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_builtins",
        "f_locals",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "co_consts",
        "func_globals",
        "mro",
    }
)
"""Attribute names a reward never needs and an escape often does."""

FORBIDDEN_MODULE_MESSAGE = (
    "only torch, math and numpy may be imported; reward code cannot use {name!r} "
    "(no files, processes, network or introspection)"
)


def _dotted_root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Vetter(ast.NodeVisitor):
    """Walks the tree and raises SandboxRejection at the first violation."""

    def __init__(self) -> None:
        self.module_aliases: set[str] = set()

    def reject(self, code: Code, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", None)
        where = f"line {line}: " if line else ""
        raise SandboxRejection(code, f"{where}{message}")

    # -- imports ---------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(alias.name, node)
            self.module_aliases.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.reject(Code.FORBIDDEN_IMPORT, node, "relative imports are not allowed")
        self._check_module(node.module or "", node)
        for alias in node.names:
            if alias.name == "*":
                self.reject(
                    Code.FORBIDDEN_IMPORT,
                    node,
                    f"'from {node.module} import *' is not allowed; import the names you use",
                )
            self._check_attribute_name(alias.name, node)
            self.module_aliases.add(alias.asname or alias.name)

    def _check_module(self, dotted: str, node: ast.AST) -> None:
        parts = dotted.split(".")
        if parts[0] not in ALLOWED_MODULES:
            self.reject(Code.FORBIDDEN_IMPORT, node, FORBIDDEN_MODULE_MESSAGE.format(name=dotted))
        for part in parts[1:]:
            if part.startswith("_") or part in FORBIDDEN_ATTRIBUTES:
                self.reject(
                    Code.FORBIDDEN_IMPORT,
                    node,
                    f"'{dotted}' is not allowed in reward code (no files, native code or compilers)",
                )

    # -- names and attributes --------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_BUILTINS:
            self.reject(Code.FORBIDDEN_NAME, node, f"'{node.id}' is not allowed in reward code")
        if node.id.startswith("__") and node.id != "__name__":
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore names such as '{node.id}' are not allowed",
            )

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attribute_name(node.attr, node)
        self.generic_visit(node)

    def _check_attribute_name(self, name: str, node: ast.AST) -> None:
        if name.startswith("__"):
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore attributes such as '{name}' are not allowed",
            )
        if name.startswith("_"):
            self.reject(
                Code.FORBIDDEN_NAME, node, f"private attributes such as '{name}' are not allowed"
            )
        if name in FORBIDDEN_ATTRIBUTES:
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"'{name}' is not allowed in reward code (no files, pickles, processes, "
                "compilers or global torch settings); compute the reward with tensor operations",
            )

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in NAME_ONLY_WITH_CONSTANT:
            if len(node.args) < 2 or not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
            ):
                self.reject(
                    Code.FORBIDDEN_NAME,
                    node,
                    f"{func.id}() needs a literal attribute name; write obj.name instead",
                )
            self._check_attribute_name(node.args[1].value, node)  # type: ignore[union-attr]
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # "{0.__class__}".format(x) walks attributes without an Attribute node.
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
                f"double-underscore names such as '{node.name}' are not allowed",
            )
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name.startswith("__"):
            self.reject(
                Code.FORBIDDEN_NAME,
                node,
                f"double-underscore names such as '{node.name}' are not allowed",
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
            if root in self.module_aliases or root in ALLOWED_MODULES:
                self.reject(
                    Code.FORBIDDEN_NAME,
                    node,
                    f"assigning to '{ast.unparse(target)}' patches an imported module; "
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


def _collect_imports(tree: ast.Module) -> set[str]:
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            aliases.update(a.asname or a.name for a in node.names)
    return aliases


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
        vetter = _Vetter()
        vetter.module_aliases = _collect_imports(tree)
        vetter.visit(tree)
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
