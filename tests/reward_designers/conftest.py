"""Fixtures of the reward-designer tests: a tiny CLIP and the synthesis config that talks
to a scripted LLM."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agentgym.reward_designers.synthesis import SynthesisConfig
from agentgym.testing.openai_server import ScriptedOpenAIServer
from agentgym.testing.tiny import build_tiny_clip

# Seconds of training per candidate: enough to tell approaching the target from not. PPO,
# not Reach's SAC preset: these tests are about the search, and PPO tells apart in seconds.
TINY_SEARCH = dict(
    steps=2048,
    learner="ppo",
    training={"num_envs": 4, "num_steps": 64, "learning_rate": 3e-3},
    eval_episodes=3,
    trace_episodes=1,
    vet_timeout_s=60,
    # These searches script AWAY (rewarding the distance) to exercise what happens after
    # vetting (ranking by training, the critic); the trajectory filter, on by default,
    # would reject it first. Its own tests (test_trajectory_filter.py) turn it on.
    trajectory_filter=False,
)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A random-weight CLIP saved as a transformers folder (its path)."""
    return str(build_tiny_clip(tmp_path_factory.mktemp("tiny_clip")))


@pytest.fixture(scope="session")
def scripted_synthesis_config() -> Callable[..., SynthesisConfig]:
    """``build(server, **settings)``: the SynthesisConfig of Eureka on Reach asking the
    scripted ``server``, with TINY_SEARCH's training budget; settings override any field.
    Pair it with the ``isolated_llm_cache`` or ``module_llm_cache`` fixture."""

    def build(server: ScriptedOpenAIServer, **settings: object) -> SynthesisConfig:
        defaults = {
            "env_id": "agentgym/Reach-v0",
            "designer": "eureka",
            "llm": f"openai:scripted-model@{server.base_url}",
            **TINY_SEARCH,
        }
        return SynthesisConfig(**{**defaults, **settings})

    return build
