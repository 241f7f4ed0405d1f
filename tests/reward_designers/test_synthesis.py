"""The synthesis loop against a scripted OpenAI-compatible server on loopback.

Real parts throughout: the openai client and agentgym's cache, the sandbox's vetting and
workers, the population learner on agentgym/Reach-v0, the run folder and report.
"""

from __future__ import annotations

import json
import re
import shutil

import gymnasium as gym
import numpy as np
import pytest

from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import REJECTED, TRAINED, load_candidates
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P

TINY = dict(
    steps=2048,
    num_envs=4,
    num_steps=64,
    learning_rate=3e-3,
    eval_episodes=3,
    trace_episodes=1,
    vet_timeout_s=60,
)


def scripted(server: ScriptedOpenAIServer, **settings) -> SynthesisConfig:
    """Eureka on Reach with the scripted server's LLM and the tiny training budget."""
    return SynthesisConfig(
        env_id="agentgym/Reach-v0",
        designer="eureka",
        llm=f"openai:scripted-model@{server.base_url}",
        **{**TINY, **settings},
    )


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")


def test_eureka_trains_good_feeds_back_errors_picks_best_and_reports(tmp_path):
    script = [
        P.AWAY,
        P.GOOD,
        P.BAD_SHAPE,
        P.NAN_LATER,  # iteration 0
        P.GOOD_TEMPERED,
        P.NO_CODE,
        P.FORBIDDEN,
        P.AWAY,
    ]  # iteration 1
    with ScriptedOpenAIServer(script) as server:
        config = SynthesisConfig(
            env_id="agentgym/Reach-v0",
            designer="eureka",
            llm=f"openai:scripted-model@{server.base_url}",
            iterations=2,
            samples=4,
            final_seeds=1,
            **TINY,
        )
        run, resumed = open_run(config, tmp_path / "run")
        events = []
        summary = Synthesis(
            config, run, on_event=lambda kind, data: events.append((kind, data))
        ).run()
        requests = list(server.requests)
    assert not resumed and len(requests) == 2  # one request of n=4 per iteration

    by_key = {(c.iteration, c.index): c for c in load_candidates(run.path)}
    assert by_key[(0, 0)].status == TRAINED and by_key[(0, 1)].status == TRAINED
    assert by_key[(0, 2)].status == REJECTED and by_key[(0, 2)].code == "BAD_SHAPE"
    assert by_key[(1, 1)].code == "NO_CODE" and by_key[(1, 2)].code == "FORBIDDEN_IMPORT"
    nan = by_key[(0, 3)]  # passed vetting, stopped in training; the others went on
    assert nan.status == "failed" and nan.code == "NONFINITE" and 0 < nan.step < TINY["steps"]
    # fitness is the env's success metric (ties broken by the env's own return), never the
    # generated reward: moving away from the target loses to approaching it
    assert by_key[(0, 1)].mean_return > by_key[(0, 0)].mean_return
    assert set(by_key[(0, 1)].components) == {"distance", "effort"}

    # the next prompt: the iteration's best as the assistant's turn, its reflection, and
    # the broken program with its error code and its code
    second = requests[1]["messages"]
    assert second[:2] == requests[0]["messages"]
    assert second[2]["role"] == "assistant" and '"effort": -effort' in second[2]["content"]
    feedback = second[3]["content"]
    assert re.search(r"distance: \[.*\], Max: .*, Mean: .*, Min: ", feedback)
    assert (
        "BAD_SHAPE" in feedback
        and 'torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"])\n' in feedback
    )
    assert "success rate stays near zero" in feedback
    assert (
        "NONFINITE" in feedback
        and f"at step {nan.step}" in feedback
        and "distance / 0.0" in feedback
    )

    best = summary["best"]
    trained = [c for c in by_key.values() if c.status == TRAINED]
    assert (best["success"], best["mean_return"]) == max(
        (c.success, c.mean_return) for c in trained
    )
    assert (best["iteration"], best["index"]) != (0, 0)

    # every artifact of every sample
    for (it, i), cand in by_key.items():
        folder = run.path / f"iter_{it:02d}" / f"sample_{i:02d}"
        assert (folder / "prompt.json").is_file() and (folder / "response.txt").is_file()
        assert json.loads((folder / "result.json").read_text())["status"] == cand.status
        if cand.code != "NO_CODE":
            assert (folder / "reward.py").is_file() and (folder / "vet.json").is_file()
        if cand.status == TRAINED:
            assert (folder / "train" / "logs" / "metrics.jsonl").is_file()
            assert json.loads((folder / "train" / "traces.json").read_text())[0]["state"][
                "fingertip_pos"
            ]
    final = json.loads((run.path / "final.json").read_text())["final"]
    assert set(final["rewards"]) == {"synthesised", "sparse", "human"}
    usage = json.loads((run.path / "llm_usage.json").read_text())
    assert usage["totals"]["requests"] == 2 and usage["totals"]["completion_tokens"] > 0

    # best_reward.py is accepted as is by gym.make
    env = gym.make("agentgym/Reach-v0", reward=str(run.path / "best_reward.py"))
    env.reset(seed=0)
    _, reward, *_, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    assert set(info["reward_terms"]) >= set(best["components"])
    env.close()

    html = run.report_path.read_text()
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    for title in (
        "Reward synthesis",
        "Iteration 0: candidates",
        "Iteration 1: candidates",
        "Candidate learning curves",
        "Best reward program",
        "Sparse vs human vs synthesised",
        "LLM tokens and cost",
    ):
        assert title in titles
    assert "BAD_SHAPE" in html and "FORBIDDEN_IMPORT" in html and "(failed)" not in html
    kinds = [k for k, _ in events]
    assert (
        kinds.count("iteration") == 2
        and "vetted" in kinds
        and "training" in kinds
        and kinds[-1] == "done"
    )


def test_critic_rejects_before_training_and_its_reasons_go_back(tmp_path):
    def script(request):
        prompt = request["messages"][-1]["content"]
        if "VERDICT" in prompt:  # the reward critic's request
            if '"away"' in prompt:
                return (
                    "VERDICT: FAIL\n- rewards the distance to the target instead of penalising it"
                )
            return "VERDICT: PASS"
        return (
            P.AWAY
            if "could not be used" not in prompt and len(request["messages"]) == 2
            else P.GOOD
        )

    with ScriptedOpenAIServer(script) as server:
        config = SynthesisConfig(
            env_id="agentgym/Reach-v0",
            designer="eureka",
            critic=True,
            llm=f"openai:scripted-model@{server.base_url}",
            iterations=2,
            samples=1,
            final_seeds=0,
            **TINY,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    first, second = (c for c in load_candidates(run.path))
    assert first.status == REJECTED and first.code == "CRITIC" and "penalising" in first.message
    assert not (run.path / "iter_00" / "sample_00" / "train").exists()  # no training spent on it
    assert (
        json.loads((run.path / "iter_00" / "sample_00" / "critic.json").read_text())["ok"] is False
    )
    follow_up = [r for r in requests if len(r["messages"]) == 4]
    assert follow_up and "CRITIC" in follow_up[0]["messages"][3]["content"]
    assert second.status == TRAINED


def test_repairs_send_a_rejected_program_back_with_its_error_and_train_the_fix(tmp_path):
    # The two first replies differ only by a comment, so each sample is traceable.
    first = iter(
        [
            P.BAD_SHAPE.replace("```python", "```python\n# sample-zero", 1),
            P.BAD_SHAPE.replace("```python", "```python\n# sample-one", 1),
        ]
    )

    def script(request):
        if "rejected before training" not in request["messages"][-1]["content"]:
            return next(first)
        program = request["messages"][-2]["content"]
        if "sample-zero" in program:
            return P.GOOD  # sample 0 is fixed in round 1
        # sample 1: round 1 echoes the rejected program, round 2 breaks it another way
        return program if request["seed"] % 100 == 1 else P.FORBIDDEN

    with ScriptedOpenAIServer(script) as server:
        config = scripted(
            server,
            iterations=1,
            samples=2,
            final_seeds=0,
            repairs=2,
        )
        run, _ = open_run(config, tmp_path / "run")
        events = []
        Synthesis(config, run, on_event=lambda kind, data: events.append((kind, data))).run()
        requests = list(server.requests)
        # the first prompt (n=2), round 1 for both samples, round 2 for sample 1 only
        assert len(requests) == 4
        for r in requests[1:]:
            assert r["messages"][:2] == requests[0]["messages"]
            assert (
                r["messages"][2]["role"] == "assistant"
                and "def compute_reward" in r["messages"][2]["content"]
            )
            assert (
                "BAD_SHAPE" in r["messages"][3]["content"] and "[B]" in r["messages"][3]["content"]
            )
        # the echo's round 2 is the same conversation, yet a new request (its own seed)
        assert requests[2]["messages"] == requests[3]["messages"]
        assert requests[2]["seed"] != requests[3]["seed"]

        fixed, broken = sorted(load_candidates(run.path), key=lambda c: c.index)
        assert fixed.status == TRAINED and fixed.repairs == 1
        assert (
            broken.status == REJECTED and broken.code == "FORBIDDEN_IMPORT" and broken.repairs == 2
        )
        sample0 = run.path / "iter_00" / "sample_00"
        assert "sample-zero" in (sample0 / "reward_attempt0.py").read_text()
        assert "sample-zero" not in (sample0 / "reward.py").read_text()  # the fix is what trained
        assert json.loads((sample0 / "repair_1.json").read_text())["code"] == "BAD_SHAPE"
        assert json.loads((sample0 / "vet.json").read_text())["ok"] is True
        assert [d["code"] for k, d in events if k == "repair"] == ["BAD_SHAPE"] * 3

        # a rerun pays for nothing: the repair replies come from the run's cache
        shutil.rmtree(sample0 / "train")
        (sample0 / "result.json").unlink()
        again, _ = open_run(config, tmp_path / "run")
        Synthesis(config, again).run()
        assert len(server.requests) == 4
    assert {c.index: c.status for c in load_candidates(run.path)} == {0: TRAINED, 1: REJECTED}


def test_repairs_must_be_a_count():
    with pytest.raises(ValueError, match="SynthesisConfig.repairs: expected an int >= 0, got -1"):
        SynthesisConfig(env_id="agentgym/Reach-v0", designer="library", repairs=-1)


def test_resample_mode_draws_fresh_programs_from_the_same_prompt(tmp_path):
    replies = iter([P.BAD_SHAPE, P.FORBIDDEN, P.GOOD, P.GOOD_TEMPERED])

    with ScriptedOpenAIServer(lambda request: next(replies)) as server:
        config = scripted(
            server,
            iterations=1,
            samples=2,
            final_seeds=0,
            repairs=1,
            repair_mode="resample",
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
        assert len(requests) == 3
        # each resample is the iteration's own prompt, with a seed of its own
        assert all(r["messages"] == requests[0]["messages"] for r in requests[1:])
        assert len({r.get("seed") for r in requests[1:]}) == 2 and None not in {
            r.get("seed") for r in requests[1:]
        }
        first, second = sorted(load_candidates(run.path), key=lambda c: c.index)
        assert first.status == second.status == TRAINED and first.repairs == second.repairs == 1
        exchange = json.loads((run.path / "iter_00" / "sample_01" / "repair_1.json").read_text())
        assert exchange["mode"] == "resample" and exchange["code"] == "FORBIDDEN_IMPORT"
        # a rerun of the same run folder asks for nothing new
        for i in (0, 1):
            (run.path / "iter_00" / f"sample_{i:02d}" / "result.json").unlink()
        again, _ = open_run(config, tmp_path / "run")
        Synthesis(config, again).run()
        assert len(server.requests) == 3


def test_unknown_repair_mode_is_named():
    with pytest.raises(
        ValueError, match="SynthesisConfig.repair_mode: expected one of fix, resample, got 'retry'"
    ):
        SynthesisConfig(env_id="agentgym/Reach-v0", designer="library", repair_mode="retry")


def test_a_constant_reward_is_rejected_before_training_and_the_reason_goes_back(tmp_path):
    def script(request):
        return P.CLAMPED_TO_ZERO if len(request["messages"]) == 2 else P.GOOD

    with ScriptedOpenAIServer(script) as server:
        config = scripted(
            server,
            iterations=2,
            samples=1,
            final_seeds=0,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    first, second = sorted(load_candidates(run.path), key=lambda c: c.iteration)
    assert first.status == REJECTED and first.code == "CONSTANT" and "0 on every" in first.message
    assert not (run.path / "iter_00" / "sample_00" / "train").exists()
    assert "CONSTANT" in requests[1]["messages"][-1]["content"]
    assert second.status == TRAINED
    # Off, the same program trains (and learns nothing).
    with ScriptedOpenAIServer([P.CLAMPED_TO_ZERO]) as server:
        config = scripted(
            server,
            iterations=1,
            samples=1,
            final_seeds=0,
            reject_constant=False,
        )
        run, _ = open_run(config, tmp_path / "run_off")
        Synthesis(config, run).run()
    (only,) = load_candidates(run.path)
    assert only.status == TRAINED
