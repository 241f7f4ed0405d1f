"""The attribute allowlist: every name on it exists, and every real program still passes.

Real programs are the ones users and the test suite write for real: the library of human
rewards, every ```python block of the docs and README that defines compute_reward, the
benign corpus, the scripted LLM's programs, the planted programs of
scripts/selection_quality.py and every program literal in the other tests.
"""

from __future__ import annotations

import ast
import importlib
import re
import runpy
import textwrap
import time
import types
from pathlib import Path

import pytest

from agentgym.sandbox import static_check
from agentgym.sandbox.allowlist import BUILTINS, MODULES, VALUE_ATTRIBUTES
from tests.reward_designers import synthesis_programs
from tests.sandbox.corpus import BENIGN

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"```(?:python|py)?\n(.*?)```", re.S)
# Programs of the scripted LLM that are meant to be rejected.
MEANT_TO_FAIL = {synthesis_programs.FORBIDDEN}


def _programs_in(text: str) -> list[str]:
    try:
        ast.parse(text)
        return [text]
    except SyntaxError:
        return [b for b in FENCE.findall(text) if "def compute_reward" in b]


def real_programs() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "reward_designers" / "library").glob("*.py")):
        if not path.name.startswith("_"):
            found[f"library/{path.name}"] = path.read_text()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(FENCE.findall(path.read_text())):
            if "def compute_reward" in block:
                found[f"{path.name}#{i}"] = textwrap.dedent(block)
    for name, source in BENIGN:
        found[f"corpus/{name}"] = source
    # A script, not a module: run its top level (main() is guarded) for its table.
    planted = runpy.run_path(str(ROOT / "scripts" / "selection_quality.py"))["PLANTED"]
    # selection_quality wraps each planted body in its HEADER; _planted does the same.
    for env_id, programs in planted.items():
        for name, body in programs.items():
            found[f"planted/{env_id}/{name}"] = _planted(body)
    folders = ("tests", "agentgym", "reward_designers", "envs", "scripts", "examples")
    for path in sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py")):
        if path.parts[-3:-1] == ("tests", "sandbox") or "library" in path.parts:
            continue  # the adversarial corpora (BENIGN is above) and the library (above)
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if "def compute_reward" not in node.value or node.value in MEANT_TO_FAIL:
                continue
            for j, program in enumerate(_programs_in(node.value)):
                try:
                    ast.parse(program)
                except SyntaxError:
                    continue  # an extraction test's deliberately cut-off reply
                found[f"{path.relative_to(ROOT)}:{node.lineno}#{j}"] = program
    return found


def _planted(body: str) -> str:
    lines = [line.strip() for line in body.strip().splitlines()]
    return "import torch\n\n\ndef compute_reward(state, action):\n" + "".join(
        f"    {line}\n" for line in lines
    )


PROGRAMS = real_programs()


def test_the_sweep_covers_every_source_of_real_programs():
    kinds = {key.split("/")[0].split("#")[0].split(":")[0] for key in PROGRAMS}
    assert len([k for k in PROGRAMS if k.startswith("library/")]) >= 19
    assert any(k.startswith("planted/") for k in PROGRAMS)
    assert any(k.startswith("corpus/") for k in PROGRAMS)
    assert any(".md#" in k for k in PROGRAMS)
    assert any(k.startswith("tests/") for k in PROGRAMS), kinds
    assert any(k.startswith("agentgym/testing/") for k in PROGRAMS), kinds
    assert len(PROGRAMS) >= 90


@pytest.mark.parametrize("key", sorted(PROGRAMS))
def test_real_program_passes_the_allowlist(key):
    verdict = static_check(PROGRAMS[key])
    assert verdict.ok, f"{verdict.code}: {verdict.message}"


def test_static_vetting_stays_fast_on_the_library():
    library = [v for k, v in PROGRAMS.items() if k.startswith("library/")]
    start = time.perf_counter()
    for _ in range(10):
        for source in library:
            static_check(source)
    per_program_ms = (time.perf_counter() - start) / (10 * len(library)) * 1000
    assert per_program_ms < 20, per_program_ms


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_allowlisted_name_exists_and_no_module_hides_behind_one(module):
    mod = importlib.import_module(module)
    for name in sorted(MODULES[module]):
        assert hasattr(mod, name), f"{module}.{name} does not exist"
        if isinstance(getattr(mod, name), types.ModuleType):
            assert f"{module}.{name}" in MODULES, f"{module}.{name} is a module"


def test_the_lists_hold_nothing_that_reads_runs_or_introspects():
    dangerous = {
        "load", "save", "fromfile", "tofile", "memmap", "DataSource", "testing", "lib",
        "ctypeslib", "f2py", "hub", "jit", "compile", "ops", "utils", "library", "ctypes",
        "data_ptr", "storage", "untyped_storage", "dump", "dumps", "format", "format_map",
        "gi_frame", "f_globals", "f_back", "tb_frame", "mro", "apply_", "register_hook",
        "os", "sys", "eval", "exec", "open", "getattr_static", "type", "vars", "globals",
        "__import__", "breakpoint", "memoryview", "bytearray", "object", "super",
    }  # fmt: skip
    named = VALUE_ATTRIBUTES | BUILTINS | frozenset().union(*MODULES.values())
    assert not (named & dangerous)
