"""Opt-in (``-m llm``): Eureka on Reach with the local Qwen2.5-Coder-1.5B server.

Start the server first: ``bash ../shared/tools/local-coder-llm.sh serve`` (port 8011;
``AGENTGYM_TEST_LLM`` overrides the spec). About 5 tokens/s on 2 cores: expect 15-30
minutes for K=4, I=2.
"""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import TRAINED, load_candidates

SPEC = os.environ.get(
    "AGENTGYM_TEST_LLM",
    "openai:qwen2.5-coder-1.5b@http://127.0.0.1:8011/v1;timeout=1800;concurrency=1",
)


def _reachable(spec: str) -> bool:
    base = spec.split("@", 1)[1].split(";")[0] if "@" in spec else None
    if base is None:
        return bool(os.environ.get("OPENAI_API_KEY"))
    try:
        with urllib.request.urlopen(base + "/models", timeout=30) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.mark.llm
def test_eureka_with_the_local_model_trains_at_least_one_program(tmp_path, monkeypatch):
    if not _reachable(SPEC):
        pytest.skip(
            f"no LLM server answers for {SPEC} (bash ../shared/tools/local-coder-llm.sh serve)"
        )
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "none"))
    config = SynthesisConfig(
        env_id="agentgym/Reach-v0",
        designer="eureka",
        llm=SPEC,
        iterations=2,
        samples=4,
        steps=4096,
        training={"num_envs": 8},
        eval_episodes=3,
        final_seeds=1,
        references=False,
        max_tokens=700,
        temperature=0.8,
    )
    run, _ = open_run(config, tmp_path / "run")
    Synthesis(config, run).run()
    candidates = load_candidates(run.path)
    assert len(candidates) == 8
    vetted = [
        c
        for c in candidates
        if (run.path / c.folder_name / "vet.json").is_file()
        and json.loads((run.path / c.folder_name / "vet.json").read_text())["ok"]
    ]
    assert vetted and any(c.status == TRAINED for c in vetted)
    assert (run.path / "best_reward.py").is_file()
    html = run.report_path.read_text()
    assert "Iteration 1: candidates" in html and "Best reward program" in html
