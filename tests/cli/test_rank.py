"""``agentgym reward rank``: the terminal fallback and its refusals (a planted iteration,
no training)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentgym.reward_designers.icpl import write_page
from agentgym.reward_designers.synthesis.candidates import TRAINED, Candidate


def plant(run: Path, n: int) -> None:
    cands = [Candidate(0, i, TRAINED, success=0.0) for i in range(n)]
    for c in cands:
        (run / c.folder_name).mkdir(parents=True)
        (run / c.folder_name / "result.json").write_text(json.dumps(c.to_dict()))
    write_page(run, 0, cands, {}, "Reach", "reach the target")


def test_rank_in_the_terminal_asks_again_until_the_order_is_a_permutation(tmp_path):
    plant(tmp_path, 3)
    done = subprocess.run(
        [sys.executable, "-m", "agentgym", "reward", "rank", str(tmp_path), "--terminal"],
        input="0 0\n1 2 0\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "order: expected a permutation of the ranked samples [0, 1, 2]" in done.stdout
    assert f"synthesize --resume {tmp_path}" in done.stdout
    saved = json.loads((tmp_path / "iter_00" / "ranking.json").read_text())
    assert saved["order"] == [1, 2, 0] and saved["ranker"] == "terminal"


def test_rank_names_a_run_with_nothing_to_rank(agentgym_cli, tmp_path):
    done = agentgym_cli("reward", "rank", str(tmp_path), "--terminal", timeout=120)
    assert done.returncode == 2 and "RUN:" in done.stderr and "no ranking page" in done.stderr


def test_a_ranker_for_another_designer_is_refused_naming_the_field(agentgym_cli, tmp_path):
    done = agentgym_cli(
        "reward", "synthesize", "--env", "agentgym/Reach-v0", "--designer", "eureka",
        "--ranker", "proxy", "--llm", "openai:x", cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "SynthesisConfig.ranker" in done.stderr


@pytest.mark.slow
def test_synthesize_waits_for_the_ranking_then_resumes_from_it(module_llm_cache, tmp_path):
    """The whole human loop from the command line: the search stops with status 3 and the
    commands, the terminal ranking is saved, the resumed search follows it."""
    from agentgym.testing.openai_server import ScriptedOpenAIServer
    from tests.reward_designers import synthesis_programs as P

    first = iter([P.GOOD, P.GOOD_TEMPERED])

    def script(request):
        return next(first) if len(request["messages"]) == 2 else P.GOOD

    out = tmp_path / "run"
    with ScriptedOpenAIServer(script) as server:
        search = [
            "reward", "synthesize", "--env", "agentgym/Reach-v0", "--designer", "icpl",
            "--llm", f"openai:scripted-model@{server.base_url}", "--iterations", "2",
            "--samples", "2", "--steps", "2048", "--learner", "ppo", "--num-envs", "4",
            "--num-steps", "64", "--eval-episodes", "2", "--final-seeds", "0",
            "--out", str(out),
        ]  # fmt: skip
        env = {**os.environ, "COLUMNS": "200"}
        waiting = subprocess.run(
            [sys.executable, "-m", "agentgym", *search],
            capture_output=True, text=True, timeout=600, env=env,
        )  # fmt: skip
        assert waiting.returncode == 3, waiting.stdout + waiting.stderr
        assert f"agentgym reward rank {out}" in waiting.stdout
        assert f"agentgym reward synthesize --resume {out}" in waiting.stdout
        asked = len(server.requests)
        ranked = subprocess.run(
            [sys.executable, "-m", "agentgym", "reward", "rank", str(out), "--terminal"],
            input="1 0\n", capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert ranked.returncode == 0, ranked.stderr
        resumed = subprocess.run(
            [sys.executable, "-m", "agentgym", "reward", "synthesize", "--resume", str(out)],
            capture_output=True, text=True, timeout=600, env=env,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        later = server.requests[asked:]
    assert later and all(len(r["messages"]) == 4 for r in later)
    tempered = P.GOOD_TEMPERED.split("```python")[1].split("```")[0].strip()
    assert tempered in later[0]["messages"][2]["content"]  # sample 1, ranked first
