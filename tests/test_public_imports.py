"""Import paths people type keep working: every ``from agentgym... import ...`` line of the
README and docs/, and the paths of the modules that became packages."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"^\s*from (agentgym[\w.]*) import ([\w, ]+)$", re.M)


def documented_imports() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for module, names in IMPORT.findall(page.read_text()):
            found.append((page.name, module, tuple(n.strip() for n in names.split(","))))
    return found


@pytest.mark.parametrize(
    ("page", "module", "names"), documented_imports(), ids=lambda v: str(v).replace(" ", "")
)
def test_every_import_line_of_the_docs_works(page: str, module: str, names: tuple[str, ...]):
    imported = importlib.import_module(module)
    missing = [n for n in names if not hasattr(imported, n)]
    assert missing == [], f"{page}: {module} lacks {missing}"


# Paths of 0.1 (before the modules became packages) that users may have typed.
OLD_PATHS = {
    "agentgym.learners.ppo": ["PPO", "PPOConfig"],
    "agentgym.learners.sb3": ["train_sb3_ppo", "resume_sb3_ppo", "AgentgymRewardVecEnv"],
    "agentgym.reward_designers.synthesis": ["Synthesis", "SynthesisConfig", "open_run"],
    "agentgym.learners": ["PPO", "PPOConfig", "train_population", "Rollout"],
}


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_the_old_public_paths_still_import(module: str):
    imported = importlib.import_module(module)
    for name in OLD_PATHS[module]:
        assert getattr(imported, name) is not None


def test_a_lazy_package_names_a_missing_attribute_in_its_error():
    import agentgym.learners.ppo as ppo

    with pytest.raises(AttributeError, match="agentgym.learners.ppo.*'PPOO'"):
        ppo.PPOO  # noqa: B018


def test_importing_the_learner_registry_loads_no_learner():
    """`agentgym --help` stays fast: naming the learners imports none of them."""
    import subprocess
    import sys

    code = (
        "import sys; from agentgym.learners import LEARNERS; LEARNERS.check('ppo'); "
        "print('torch' in sys.modules, 'agentgym.learners.ppo.learner' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
