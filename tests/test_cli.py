from __future__ import annotations

import json
import subprocess
import sys

import pytest


def agentgym(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agentgym", *args], capture_output=True, text=True, timeout=600
    )


def test_help_lists_commands():
    out = agentgym("--help")
    assert out.returncode == 0
    assert "envs" in out.stdout and "check" in out.stdout


def test_help_imports_nothing_heavy():
    code = (
        "import sys; from agentgym.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('torch', 'mujoco', 'transformers', 'openai', 'metaworld') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_envs_json_lists_reach():
    out = agentgym("envs", "--json", "--no-spaces")
    rows = {r["id"]: r for r in json.loads(out.stdout)}
    assert rows["agentgym/Reach-v0"]["family"] == "robotics"


def test_check_passes_on_reach_and_fails_on_unknown():
    ok = agentgym("check", "agentgym/Reach-v0")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("PASS") == 5  # check_env, determinism, pickle, contract, vector
    bad = agentgym("check", "agentgym/Reech-v0")
    assert bad.returncode == 2
    assert "Did you mean" in bad.stdout


@pytest.mark.parametrize("family", ["robotics"])
def test_envs_filter(family):
    out = agentgym("envs", "--json", "--no-spaces", "--family", family)
    assert all(r["family"] == family for r in json.loads(out.stdout))
