"""The SPA pipeline from the command line: agentgym record -> bc -> train --learner agent-ppo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.learners.babyai_agent import ENV


@pytest.fixture(scope="module")
def cloned(agentgym_cli, tiny_lm, tmp_path_factory) -> Path:
    """``tiny_lm`` behaviour-cloned on recorded expert demos by ``agentgym record`` and
    ``agentgym bc``: the policy folder that ``bc`` wrote beside it."""
    work = tmp_path_factory.mktemp("cli")
    out = agentgym_cli(
        "record", "--env", ENV, "--episodes", "12", "--out", str(work / "demos.jsonl")
    )
    assert out.returncode == 0, out.stderr
    out = agentgym_cli(
        "bc",
        "--env",
        ENV,
        "--demos",
        str(work / "demos.jsonl"),
        "--policy",
        f"hf:{tiny_lm}",
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
    policy = tiny_lm.with_name(f"{tiny_lm.name}-bc")
    assert (policy / "config.json").is_file() and (policy / "value_head.pt").is_file()
    return policy


def test_train_agent_ppo_with_spa_writes_a_run_folder(agentgym_cli, cloned, tmp_path):
    run = tmp_path / "run"
    out = agentgym_cli(
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


def train_agent(cli, policy: Path, out: Path, *options: str, env: str = ENV):
    """``agentgym train --learner agent-ppo`` with ``policy`` into ``out``, plus ``options``."""
    return cli(
        "train", "--env", env, "--learner", "agent-ppo", "--policy", f"hf:{policy}",
        *options, "--out", str(out),
    )  # fmt: skip


def test_agent_ppo_options_are_refused_for_other_learners(agentgym_cli, tmp_path):
    out = agentgym_cli("train", "--env", ENV, "--learner", "ppo", "--kl-coef", "0.1", cwd=tmp_path)
    assert (
        out.returncode == 2
        and "--kl-coef: not a setting of --learner ppo (it is of --learner agent-ppo)" in out.stderr
    )


@pytest.mark.parametrize(
    ("env", "options", "message"),
    [
        (ENV, ["--num-steps", "5"], "--num-steps: not a setting of --learner agent-ppo"),
        (ENV, ["--reward", "spa:alpah=1"], "Did you mean 'alpha'"),
        ("agentgym/Reach-v0", [], "acts with text commands"),
    ],
    ids=["ppo-option", "reward-typo", "not-a-text-env"],
)
def test_bad_agent_ppo_options_are_named_before_a_run_folder_exists(
    agentgym_cli, cloned, tmp_path, env, options, message
):
    out = train_agent(agentgym_cli, cloned, tmp_path / "run", *options, env=env)
    assert out.returncode == 2 and message in out.stderr
    assert not (tmp_path / "run").exists()


def test_a_policy_folder_without_a_model_is_named(agentgym_cli, tmp_path):
    out = train_agent(agentgym_cli, tmp_path, tmp_path / "y")
    assert out.returncode == 2 and "config.json" in out.stderr


def test_vllm_rollouts_say_what_is_missing_before_making_a_run(agentgym_cli, cloned, tmp_path):
    from agentgym.llm.vllm_backend import vllm_missing

    if not vllm_missing():
        pytest.skip("vllm and a GPU are both here: the error path cannot be shown")
    out = train_agent(agentgym_cli, cloned, tmp_path / "v", "--rollout-backend", "vllm")
    assert out.returncode == 2, out.stderr
    assert "rollout_backend='vllm' cannot run here" in out.stderr
    assert "rollout_backend='transformers'" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "v").exists()
