"""The SPA pipeline from the command line: agentgym record -> bc -> train --learner agent-ppo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentgym.testing.tiny_lm import build_tiny_lm_for_env

ENV = "agentgym/BabyAI-GoToLocal-v0"


def agentgym(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agentgym", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def cloned(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("cli")
    build_tiny_lm_for_env(work / "tiny", ENV, hidden_size=32, heads=2)
    out = agentgym("record", "--env", ENV, "--episodes", "12", "--out", str(work / "demos.jsonl"))
    assert out.returncode == 0, out.stderr
    out = agentgym(
        "bc",
        "--env",
        ENV,
        "--demos",
        str(work / "demos.jsonl"),
        "--policy",
        f"hf:{work / 'tiny'}",
        "--history",
        "0",
        "--epochs",
        "2",
        "--eval-episodes",
        "4",
        "--max-episode-steps",
        "8",
        "--device",
        "cpu",
    )
    assert out.returncode == 0, out.stderr
    assert "epoch 2: loss" in out.stderr and "held-out: success" in out.stderr
    policy = work / "tiny-bc"
    assert (policy / "config.json").is_file() and (policy / "value_head.pt").is_file()
    return policy


def test_train_agent_ppo_with_spa_writes_a_run_folder(cloned, tmp_path):
    run = tmp_path / "run"
    out = agentgym(
        "train",
        "--env",
        ENV,
        "--learner",
        "agent-ppo",
        "--policy",
        f"hf:{cloned}",
        "--reward",
        "spa",
        "--steps",
        "60",
        "--history",
        "0",
        "--max-episode-steps",
        "8",
        "--num-envs",
        "4",
        "--episodes-per-update",
        "4",
        "--explore-episodes",
        "4",
        "--eval-episodes",
        "4",
        "--device",
        "cpu",
        "--seed",
        "3",
        "--out",
        str(run),
    )
    assert out.returncode == 0, out.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["learner"] == "agent-ppo"
    rows = [json.loads(line) for line in (run / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] >= 60 and "eval/success_rate" in rows[-1]
    assert any("reward_terms/progress" in r for r in rows)
    assert (run / "checkpoints" / "latest.pt").is_file() and (
        run / "policy" / "config.json"
    ).is_file()
    assert (run / "report.html").is_file()
    config = (run / "config.yaml").read_text()
    assert "agent-ppo" in config and "seed: 3" in config


def train_agent(policy: Path, out: Path, *options: str, env: str = ENV):
    """``agentgym train --learner agent-ppo`` with ``policy`` into ``out``, plus ``options``."""
    return agentgym(
        "train", "--env", env, "--learner", "agent-ppo", "--policy", f"hf:{policy}",
        *options, "--out", str(out),
    )  # fmt: skip


def test_cli_errors_name_the_option(cloned, tmp_path):
    out = agentgym("train", "--env", ENV, "--learner", "ppo", "--kl-coef", "0.1")
    assert out.returncode == 2
    assert "--kl-coef: not a setting of --learner ppo (it is of --learner agent-ppo)" in out.stderr
    out = train_agent(cloned, tmp_path / "x", "--num-steps", "5")
    assert out.returncode == 2 and "--num-steps: not a setting of --learner agent-ppo" in out.stderr
    out = train_agent(tmp_path, tmp_path / "y")
    assert out.returncode == 2 and "config.json" in out.stderr
    out = train_agent(cloned, tmp_path / "z", "--reward", "spa:alpah=1")
    assert out.returncode == 2 and "Did you mean 'alpha'" in out.stderr
    out = train_agent(cloned, tmp_path / "r", env="agentgym/Reach-v0")
    assert out.returncode == 2 and "acts with text commands" in out.stderr
    assert not any((tmp_path / name).exists() for name in ("x", "z", "r"))


def test_vllm_rollouts_say_what_is_missing_before_making_a_run(cloned, tmp_path):
    from agentgym.llm.vllm_backend import vllm_missing

    if not vllm_missing():
        pytest.skip("vllm and a GPU are both here: the error path cannot be shown")
    out = train_agent(cloned, tmp_path / "v", "--rollout-backend", "vllm")
    assert out.returncode == 2, out.stderr
    assert "rollout_backend='vllm' cannot run here" in out.stderr
    assert "rollout_backend='transformers'" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "v").exists()
