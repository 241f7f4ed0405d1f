"""``agentgym train`` refuses, before any run folder exists, a learner that cannot act in
the env: text, web and tool envs act in words, only ``--learner agent-ppo`` fits."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "learner"),
    [
        (["--env", "agentgym/Household-v0"], "ppo"),  # the default learner
        (["--env", "agentgym/BabyAI-GoToLocal-v0", "--learner", "sb3-ppo"], "sb3-ppo"),
        (["--env", "agentgym/Household-v0", "--learner", "sac"], "sac"),
    ],
)
def test_a_vector_learner_on_a_text_env_names_agent_ppo_and_writes_nothing(
    agentgym_cli, tmp_path, args, learner
):
    out = agentgym_cli("train", *args, "--steps", "256", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "TypeError" not in out.stderr
    assert f"--learner {learner} acts with vectors" in out.stderr
    assert "Use --learner agent-ppo" in out.stderr
    assert list(tmp_path.iterdir()) == []  # no failed run folder left behind
