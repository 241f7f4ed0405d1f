"""Agent PPO with LLM-labelled rewards (issue #23): the intrinsic reward is logged as its
own reward term, the label statistics reach the log and the report, and a subgoal reward
gets one copy per env."""

from __future__ import annotations

import pytest
import torch

from agentgym.learners.agent import AgentPPO
from agentgym.learners.logger import read_metrics
from agentgym.reward_designers.labelled import OniReward, SubgoalReward
from agentgym.runs.report import ReportContext
from agentgym.runs.sections import labels
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.learners.babyai_agent import agent_config


def _wall_is_progress(request: dict) -> str:
    return "yes" if "wall" in request["messages"][-1]["content"].split("observes now:")[1] else "no"


@pytest.mark.slow  # ~25 s of agent PPO on a loaded 2-core machine
def test_agent_ppo_logs_the_intrinsic_term_and_the_label_statistics(tiny_lm, tmp_path):
    torch.set_num_threads(1)
    with ScriptedOpenAIServer(_wall_is_progress) as server:
        reward = (
            f"sparse+oni:llm=openai:scripted-model@{server.base_url};cache=none;"
            "min_labels=1;output=prob;weight=0.1"
        )
        cfg = agent_config(
            tiny_lm,
            reward=reward,
            total_steps=48,
            num_envs=4,
            episodes_per_update=4,
            max_episode_steps=6,
        )
        agent = AgentPPO(cfg, run_dir=tmp_path)
        oni = agent.reward_model.parts[1][1]
        assert isinstance(oni, OniReward)
        assert all(env.unwrapped.reward_model is agent.reward_model for env in agent.envs)
        agent.learn()
        agent.close()
        oni.close()
    rows = [r for r in read_metrics(tmp_path) if "oni/labels_made" in r]
    assert rows and rows[-1]["oni/labels_made"] > 0
    assert {"oni/label_latency_s", "oni/queue_depth", "oni/dropped"} <= set(rows[-1])
    intrinsic = [r["reward_terms/oni/intrinsic"] for r in rows]
    assert max(intrinsic) > 0  # the classifier's output, paid as its own term
    assert all("reward_terms/sparse/success" in r for r in rows)
    section = labels.build(ReportContext(run=None, config={}, manifest={}, _rows=rows))
    assert section is not None and "oni/labels_made" in section.body


def test_a_subgoal_reward_gets_one_copy_per_env(tiny_lm):
    reward = "sparse+subgoals:llm=openai:scripted-model@http://127.0.0.1:9/v1;cache=none"
    agent = AgentPPO(agent_config(tiny_lm, reward=reward, num_envs=3))
    parts = [env.unwrapped.reward_model.parts[1][1] for env in agent.envs]
    agent.close()
    assert all(isinstance(p, SubgoalReward) for p in parts)
    assert len({id(p) for p in parts}) == 3  # own episode state per env ...
    assert len({id(p.shared) for p in parts}) == 1  # ... one LLM queue and proposal table
