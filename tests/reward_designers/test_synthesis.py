"""The synthesis loop against a scripted OpenAI-compatible server on loopback.

Real parts throughout: the openai client and agentgym's cache, the sandbox's vetting and
workers, the population learner on agentgym/Reach-v0, the run folder and report.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import (
    REJECTED,
    TRAINED,
    Candidate,
    load_candidates,
)
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P


@dataclass
class Search:
    """A finished synthesis run and what the scripted LLM saw of it."""

    config: SynthesisConfig
    path: Path
    requests: list[dict]
    events: list[tuple[str, dict]]
    summary: dict | None = None
    server: ScriptedOpenAIServer | None = None

    def candidates(self) -> list[Candidate]:
        return load_candidates(self.path)

    def by_key(self) -> dict[tuple[int, int], Candidate]:
        return {(c.iteration, c.index): c for c in self.candidates()}


# -- Eureka: two iterations of four samples ----------------------------------------------
EUREKA_SCRIPT = [
    P.AWAY,
    P.GOOD,
    P.BAD_SHAPE,
    P.NAN_LATER,  # iteration 0
    P.GOOD_TEMPERED,
    P.NO_CODE,
    P.FORBIDDEN,
    P.AWAY,  # iteration 1
]


@pytest.fixture(scope="module")
def eureka(module_llm_cache, scripted_synthesis_config, tmp_path_factory) -> Search:
    with ScriptedOpenAIServer(EUREKA_SCRIPT) as server:
        config = scripted_synthesis_config(server, iterations=2, samples=4, final_seeds=1)
        run, resumed = open_run(config, tmp_path_factory.mktemp("eureka") / "run")
        assert not resumed
        events: list[tuple[str, dict]] = []
        summary = Synthesis(
            config, run, on_event=lambda kind, data: events.append((kind, data))
        ).run()
        requests = list(server.requests)
    return Search(config, run.path, requests, events, summary)


def test_eureka_asks_once_per_iteration_for_all_its_samples(eureka):
    assert len(eureka.requests) == 2  # one request of n=4 per iteration
    usage = json.loads((eureka.path / "llm_usage.json").read_text())
    assert usage["totals"]["requests"] == 2 and usage["totals"]["completion_tokens"] > 0


def test_sound_programs_train_and_broken_ones_are_rejected_with_their_code(eureka):
    by_key = eureka.by_key()
    assert by_key[(0, 0)].status == TRAINED and by_key[(0, 1)].status == TRAINED
    assert by_key[(0, 2)].status == REJECTED and by_key[(0, 2)].code == "BAD_SHAPE"
    assert by_key[(1, 1)].code == "NO_CODE" and by_key[(1, 2)].code == "FORBIDDEN_IMPORT"


def test_a_program_that_turns_nan_in_training_fails_alone(eureka):
    nan = eureka.by_key()[(0, 3)]  # passed vetting, stopped in training; the others went on
    assert nan.status == "failed" and nan.code == "NONFINITE" and 0 < nan.step < eureka.config.steps


def test_fitness_is_the_envs_return_not_the_generated_reward(eureka):
    by_key = eureka.by_key()
    # fitness is the env's success metric (ties broken by the env's own return), never the
    # generated reward: moving away from the target loses to approaching it
    assert by_key[(0, 1)].mean_return > by_key[(0, 0)].mean_return


def test_a_trained_candidate_records_its_reward_components(eureka):
    assert set(eureka.by_key()[(0, 1)].components) == {"distance", "effort"}


def test_the_next_prompt_carries_the_best_program_its_reflection_and_the_errors(eureka):
    requests = eureka.requests
    nan = eureka.by_key()[(0, 3)]
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


def test_the_best_is_the_trained_candidate_of_highest_success_then_return(eureka):
    best = eureka.summary["best"]
    trained = [c for c in eureka.candidates() if c.status == TRAINED]
    assert (best["success"], best["mean_return"]) == max(
        (c.success, c.mean_return) for c in trained
    )
    assert (best["iteration"], best["index"]) != (0, 0)


def test_every_sample_keeps_its_artifacts(eureka):
    for (it, i), cand in eureka.by_key().items():
        folder = eureka.path / f"iter_{it:02d}" / f"sample_{i:02d}"
        assert (folder / "prompt.json").is_file() and (folder / "response.txt").is_file()
        assert json.loads((folder / "result.json").read_text())["status"] == cand.status
        if cand.code != "NO_CODE":
            assert (folder / "reward.py").is_file() and (folder / "vet.json").is_file()
        if cand.status == TRAINED:
            assert (folder / "train" / "logs" / "metrics.jsonl").is_file()
            assert json.loads((folder / "train" / "traces.json").read_text())[0]["state"][
                "fingertip_pos"
            ]


def test_the_final_evaluation_compares_synthesised_sparse_and_human(eureka):
    final = json.loads((eureka.path / "final.json").read_text())["final"]
    assert set(final["rewards"]) == {"synthesised", "sparse", "human"}


def test_best_reward_py_is_accepted_as_is_by_gym_make(eureka):
    env = gym.make("agentgym/Reach-v0", reward=str(eureka.path / "best_reward.py"))
    env.reset(seed=0)
    _, reward, *_, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    assert set(info["reward_terms"]) >= set(eureka.summary["best"]["components"])
    env.close()


def test_the_report_has_every_synthesis_section(eureka):
    html = (eureka.path / "report.html").read_text()
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


def test_events_follow_every_stage_of_the_search(eureka):
    kinds = [k for k, _ in eureka.events]
    assert (
        kinds.count("iteration") == 2
        and "vetted" in kinds
        and "training" in kinds
        and kinds[-1] == "done"
    )


# -- the reward critic ---------------------------------------------------------------------
def critic_script(request):
    prompt = request["messages"][-1]["content"]
    if "VERDICT" in prompt:  # the reward critic's request
        if '"away"' in prompt:
            return "VERDICT: FAIL\n- rewards the distance to the target instead of penalising it"
        return "VERDICT: PASS"
    return P.AWAY if "could not be used" not in prompt and len(request["messages"]) == 2 else P.GOOD


@pytest.fixture(scope="module")
def criticised(module_llm_cache, scripted_synthesis_config, tmp_path_factory) -> Search:
    with ScriptedOpenAIServer(critic_script) as server:
        config = scripted_synthesis_config(
            server, critic=True, iterations=2, samples=1, final_seeds=0
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("critic") / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    return Search(config, run.path, requests, [])


def test_the_critic_rejects_a_program_before_training(criticised):
    first, _ = criticised.candidates()
    assert first.status == REJECTED and first.code == "CRITIC" and "penalising" in first.message
    sample = criticised.path / "iter_00" / "sample_00"
    assert not (sample / "train").exists()  # no training spent on it
    assert json.loads((sample / "critic.json").read_text())["ok"] is False


def test_the_critics_reasons_go_back_and_the_next_program_trains(criticised):
    follow_up = [r for r in criticised.requests if len(r["messages"]) == 4]
    assert follow_up and "CRITIC" in follow_up[0]["messages"][3]["content"]
    _, second = criticised.candidates()
    assert second.status == TRAINED


# -- repairs -----------------------------------------------------------------------------
def repair_script():
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

    return script


@pytest.fixture(scope="module")
def repaired(module_llm_cache, scripted_synthesis_config, tmp_path_factory):
    """Two samples, two repairs each; the server stays up for a rerun."""
    with ScriptedOpenAIServer(repair_script()) as server:
        config = scripted_synthesis_config(
            server, iterations=1, samples=2, final_seeds=0, repairs=2
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("repairs") / "run")
        events: list[tuple[str, dict]] = []
        Synthesis(config, run, on_event=lambda kind, data: events.append((kind, data))).run()
        yield Search(config, run.path, list(server.requests), events, server=server)


def test_each_repair_continues_the_conversation_with_the_error(repaired):
    requests = repaired.requests
    # the first prompt (n=2), round 1 for both samples, round 2 for sample 1 only
    assert len(requests) == 4
    for r in requests[1:]:
        assert r["messages"][:2] == requests[0]["messages"]
        assert (
            r["messages"][2]["role"] == "assistant"
            and "def compute_reward" in r["messages"][2]["content"]
        )
        assert "BAD_SHAPE" in r["messages"][3]["content"] and "[B]" in r["messages"][3]["content"]
    # the echo's round 2 is the same conversation, yet a new request (its own seed)
    assert requests[2]["messages"] == requests[3]["messages"]
    assert requests[2]["seed"] != requests[3]["seed"]


def test_a_repaired_program_trains_and_one_broken_after_every_repair_is_rejected(repaired):
    fixed, broken = sorted(repaired.candidates(), key=lambda c: c.index)
    assert fixed.status == TRAINED and fixed.repairs == 1
    assert broken.status == REJECTED and broken.code == "FORBIDDEN_IMPORT" and broken.repairs == 2


def test_the_sample_folder_keeps_the_first_attempt_and_each_repair(repaired):
    sample0 = repaired.path / "iter_00" / "sample_00"
    assert "sample-zero" in (sample0 / "reward_attempt0.py").read_text()
    assert "sample-zero" not in (sample0 / "reward.py").read_text()  # the fix is what trained
    assert json.loads((sample0 / "repair_1.json").read_text())["code"] == "BAD_SHAPE"
    assert json.loads((sample0 / "vet.json").read_text())["ok"] is True


def test_every_repair_is_an_event(repaired):
    assert [d["code"] for k, d in repaired.events if k == "repair"] == ["BAD_SHAPE"] * 3


def test_a_rerun_takes_the_repair_replies_from_the_runs_cache(repaired):
    # a rerun pays for nothing: the repair replies come from the run's cache
    sample0 = repaired.path / "iter_00" / "sample_00"
    shutil.rmtree(sample0 / "train")
    (sample0 / "result.json").unlink()
    again, _ = open_run(repaired.config, repaired.path)
    Synthesis(repaired.config, again).run()
    assert len(repaired.server.requests) == 4
    assert {c.index: c.status for c in repaired.candidates()} == {0: TRAINED, 1: REJECTED}


def test_repairs_must_be_a_count():
    with pytest.raises(ValueError, match="SynthesisConfig.repairs: expected an int >= 0, got -1"):
        SynthesisConfig(env_id="agentgym/Reach-v0", designer="library", repairs=-1)


# -- resampling --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def resampled(module_llm_cache, scripted_synthesis_config, tmp_path_factory):
    """Two samples, one resample each; the server stays up for a rerun."""
    replies = iter([P.BAD_SHAPE, P.FORBIDDEN, P.GOOD, P.GOOD_TEMPERED])
    with ScriptedOpenAIServer(lambda request: next(replies)) as server:
        config = scripted_synthesis_config(
            server, iterations=1, samples=2, final_seeds=0, repairs=1, repair_mode="resample"
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("resample") / "run")
        Synthesis(config, run).run()
        yield Search(config, run.path, list(server.requests), [], server=server)


def test_resample_mode_draws_fresh_programs_from_the_same_prompt(resampled):
    requests = resampled.requests
    assert len(requests) == 3
    # each resample is the iteration's own prompt, with a seed of its own
    assert all(r["messages"] == requests[0]["messages"] for r in requests[1:])
    assert len({r.get("seed") for r in requests[1:]}) == 2 and None not in {
        r.get("seed") for r in requests[1:]
    }


def test_resampled_programs_train_and_the_exchange_is_kept(resampled):
    first, second = sorted(resampled.candidates(), key=lambda c: c.index)
    assert first.status == second.status == TRAINED and first.repairs == second.repairs == 1
    exchange = json.loads((resampled.path / "iter_00" / "sample_01" / "repair_1.json").read_text())
    assert exchange["mode"] == "resample" and exchange["code"] == "FORBIDDEN_IMPORT"


def test_a_rerun_of_a_resampled_run_asks_for_nothing_new(resampled):
    for i in (0, 1):
        (resampled.path / "iter_00" / f"sample_{i:02d}" / "result.json").unlink()
    again, _ = open_run(resampled.config, resampled.path)
    Synthesis(resampled.config, again).run()
    assert len(resampled.server.requests) == 3


def test_unknown_repair_mode_is_named():
    with pytest.raises(
        ValueError, match="SynthesisConfig.repair_mode: expected one of fix, resample, got 'retry'"
    ):
        SynthesisConfig(env_id="agentgym/Reach-v0", designer="library", repair_mode="retry")


# -- constant rewards --------------------------------------------------------------------
@pytest.fixture(scope="module")
def constant_then_good(module_llm_cache, scripted_synthesis_config, tmp_path_factory) -> Search:
    def script(request):
        return P.CLAMPED_TO_ZERO if len(request["messages"]) == 2 else P.GOOD

    with ScriptedOpenAIServer(script) as server:
        config = scripted_synthesis_config(server, iterations=2, samples=1, final_seeds=0)
        run, _ = open_run(config, tmp_path_factory.mktemp("constant") / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    return Search(config, run.path, requests, [])


def test_a_constant_reward_is_rejected_before_training(constant_then_good):
    first, _ = sorted(constant_then_good.candidates(), key=lambda c: c.iteration)
    assert first.status == REJECTED and first.code == "CONSTANT" and "0 on every" in first.message
    assert not (constant_then_good.path / "iter_00" / "sample_00" / "train").exists()


def test_the_constant_rewards_reason_goes_back_and_the_next_program_trains(constant_then_good):
    assert "CONSTANT" in constant_then_good.requests[1]["messages"][-1]["content"]
    _, second = sorted(constant_then_good.candidates(), key=lambda c: c.iteration)
    assert second.status == TRAINED


def test_with_reject_constant_off_a_constant_reward_trains(
    isolated_llm_cache, scripted_synthesis_config, tmp_path
):
    # Off, the same program trains (and learns nothing).
    with ScriptedOpenAIServer([P.CLAMPED_TO_ZERO]) as server:
        config = scripted_synthesis_config(
            server, iterations=1, samples=1, final_seeds=0, reject_constant=False
        )
        run, _ = open_run(config, tmp_path / "run_off")
        Synthesis(config, run).run()
    (only,) = load_candidates(run.path)
    assert only.status == TRAINED


def test_the_report_summary_has_the_searchs_reward_and_steps(eureka):
    html = (eureka.path / "report.html").read_text()
    body = html[html.index("Summary</h2>") :]
    table = dict(
        re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", body[: body.index("</table>")])
    )
    best = eureka.summary["best"]
    assert table["reward"].startswith(
        f"best_reward.py: iter_{best['iteration']:02d}/sample_{best['index']:02d}"
    )
    trained = sum(c.step or 0 for c in eureka.candidates())
    assert trained > 0 and table["steps"].startswith(f"{trained:,} of {2 * 4 * 2048:,}")
    assert "per reward (1 seed x" in table["final retraining steps"]
