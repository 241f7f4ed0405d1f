from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_help_lists_commands(agentgym_cli):
    out = agentgym_cli("--help")
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


def test_envs_json_lists_reach(agentgym_cli):
    out = agentgym_cli("envs", "--json", "--no-spaces")
    rows = {r["id"]: r for r in json.loads(out.stdout)}
    assert rows["agentgym/Reach-v0"]["family"] == "robotics"


def test_check_passes_every_contract_check_on_reach(agentgym_cli):
    ok = agentgym_cli("check", "agentgym/Reach-v0")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("PASS") == 5  # check_env, determinism, pickle, contract, vector


def test_check_of_an_unknown_env_exits_2_and_suggests_the_closest(agentgym_cli):
    bad = agentgym_cli("check", "agentgym/Reech-v0")
    assert bad.returncode == 2
    assert "Did you mean" in bad.stdout


@pytest.mark.parametrize("family", ["robotics"])
def test_envs_filter(agentgym_cli, family):
    out = agentgym_cli("envs", "--json", "--no-spaces", "--family", family)
    assert all(r["family"] == family for r in json.loads(out.stdout))
