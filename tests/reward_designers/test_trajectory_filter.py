"""The trajectory-preference filter (CARD's trajectory preference evaluation): on every
task with a scripted expert, the human reward ranks the recorded successful episodes
above the failed ones and a planted wrong reward (the human one negated) is rejected with
code PREFERENCE before any training, its message naming the episodes it ranked wrongly.

Real parts throughout: the envs and their experts, the recording on disk, the sandbox
worker that scores the programs, and (at the end) a synthesis run with a scripted LLM.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from agentgym.catalog import env_ids, expert_policy, task_spec
from agentgym.reward_designers.library import program_path
from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import REJECTED, TRAINED
from agentgym.reward_designers.synthesis.preference import (
    preference_auc,
    preference_verdict,
    wrong_pairs,
)
from agentgym.reward_designers.synthesis.stages import CandidateStages
from agentgym.sandbox.trajectories import Outcomes, load_outcomes, record_trajectories
from agentgym.sandbox.vetting import vet_many
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P

IDS = [i for i in env_ids() if expert_policy(i) is not None]
THRESHOLD = SynthesisConfig(env_id="agentgym/Reach-v0").filter_auc
AWAY = P.AWAY.split("```python\n")[1].split("```")[0]


def negated(source: str) -> str:
    """The planted wrong reward: the human program with its total and components negated."""
    return (
        source.replace("def compute_reward(", "def _human(")
        + "\n\ndef compute_reward(state, action):\n"
        + "    reward, terms = _human(state, action)\n"
        + "    return -reward, {name: -value for name, value in terms.items()}\n"
    )


def test_every_robotics_task_with_a_simple_expert_has_one():
    expected = {"agentgym/Reach-v0", "agentgym/CartPole-v0", "agentgym/MountainCar-v0"}
    metaworld = [i for i in IDS if i.startswith("agentgym/MetaWorld-")]
    assert expected <= set(IDS) and len(metaworld) >= 11, IDS
    assert expert_policy("agentgym/Ant-v0") is None  # no scripted locomotion expert


def test_auc_counts_pairs_and_ties_count_half():
    assert preference_auc([3.0, 1.0, 2.0, 0.0], [True, False, True, False]) == 1.0
    assert preference_auc([0.0, 1.0, 2.0, 3.0], [True, False, True, False]) == 0.25
    assert preference_auc([1.0, 1.0], [True, False]) == 0.5
    assert preference_auc([1.0, 2.0, 5.0], [True, False, False]) == 0.0
    with pytest.raises(ValueError, match="both outcomes"):
        preference_auc([1.0, 2.0], [True, True])
    with pytest.raises(ValueError, match="returns: expected 2 values"):
        preference_auc([1.0], [True, False])


def test_the_message_names_the_worst_ranked_pairs_first():
    outcomes = Outcomes(
        names=["expert #0", "random #0", "random #1"], success=[True, False, False], lengths=[5] * 3
    )
    pairs = wrong_pairs([1.0, 3.0, 8.0], outcomes)
    assert pairs == [
        "failed episode 'random #1' (return 8) scored above expert episode 'expert #0' (return 1)",
        "failed episode 'random #0' (return 3) scored above expert episode 'expert #0' (return 1)",
    ]


@pytest.mark.parametrize("env_id", IDS)
def test_the_human_reward_passes_and_a_planted_wrong_one_is_rejected(env_id, module_llm_cache):
    path = record_trajectories(env_id)
    outcomes = load_outcomes(path)
    experts = [
        s for n, s in zip(outcomes.names, outcomes.success, strict=True) if n.startswith("expert")
    ]
    # The expert really succeeds (PegInsertSide's misses 1 of 4 within MetaWorld's 150
    # recorded steps); labels are the env's own, so a random policy may succeed too (it
    # closes DrawerClose's drawer now and then), but failures are recorded.
    assert len(experts) == 4 and sum(experts) >= 3, outcomes
    assert outcomes.judgeable, outcomes
    human = program_path(task_spec(env_id).name).read_text()
    checked = vet_many([human, negated(human)], env_id, trajectories=path, timeout_s=60)
    assert [v.ok for v in checked] == [True, True], [v.message for v in checked]
    assert len(checked[0].returns) == len(outcomes.names)
    passed, auc = preference_verdict(checked[0], outcomes, THRESHOLD)
    assert passed.ok and auc >= 0.85, (env_id, auc)
    rejected, wrong_auc = preference_verdict(checked[1], outcomes, THRESHOLD)
    assert not rejected.ok and rejected.code == "PREFERENCE" and wrong_auc < 0.2
    named = (
        r"failed episode '(random|perturbed) #\d' \(return \S+\) scored above "
        r"(expert|successful) episode '(expert|perturbed) #\d'"
    )
    assert re.search(named, rejected.message), rejected.message
    assert f"AUC {wrong_auc:.2f}" in rejected.message


def test_the_recording_is_cached_and_reused(isolated_llm_cache, caplog):
    caplog.set_level(logging.INFO, logger="agentgym.sandbox.trajectories")
    first = record_trajectories("agentgym/MountainCar-v0")
    made = first.stat().st_mtime_ns
    again = record_trajectories("agentgym/MountainCar-v0")
    assert again == first and again.stat().st_mtime_ns == made
    assert sum("recording" in r.getMessage() for r in caplog.records) == 1
    assert first.parent == isolated_llm_cache / "states"
    # another count is another recording
    other = record_trajectories("agentgym/MountainCar-v0", experts=2)
    assert other != first and len(load_outcomes(other).names) == 10


def test_a_recording_without_both_outcomes_is_not_judged(isolated_llm_cache):
    path = record_trajectories("agentgym/Reach-v0", experts=0, perturbed=0)
    outcomes = load_outcomes(path)
    assert not outcomes.judgeable and outcomes.counts() == "0 successful and 4 failed episodes"
    (checked,) = vet_many([AWAY], "agentgym/Reach-v0", trajectories=path)
    assert preference_verdict(checked, outcomes, THRESHOLD) == (checked, None)


def test_bad_recording_settings_are_named(isolated_llm_cache):
    with pytest.raises(ValueError, match="env_id: 'agentgym/Ant-v0' has no scripted expert"):
        record_trajectories("agentgym/Ant-v0")
    with pytest.raises(ValueError, match="randoms: expected an int >= 0, got -1"):
        record_trajectories("agentgym/Reach-v0", randoms=-1)
    with pytest.raises(ValueError, match="SynthesisConfig.filter_auc: expected a float in"):
        SynthesisConfig(env_id="agentgym/Reach-v0", filter_auc=1.5)


def _check_away(tmp_path: Path, source: str = AWAY, **settings: object):
    config = SynthesisConfig(env_id="agentgym/Reach-v0", llm="openai:none", **settings)
    stages = CandidateStages(tmp_path, config, task_spec(config.env_id), None, lambda *a, **k: None)
    verdict = stages.check(0, [0], {0: source})[0]
    return verdict, tmp_path / "iter_00" / "sample_00" / "vet.json", stages.notes.get((0, 0), [])


SPARSE_GOAL = """import torch


def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    goal = (d < 0.02).float()
    return goal, {"goal": goal}
"""


def test_a_sparse_goal_bonus_is_judged_by_the_recording_not_rejected_as_constant(
    isolated_llm_cache, tmp_path
):
    # Zero on every state a random policy visits, so alone the constant check would reject
    # it; it pays on the expert's episodes, so it teaches (SAC reaches 87% with it).
    kept, vet_json, notes = _check_away(tmp_path / "on", SPARSE_GOAL)
    assert kept.ok and json.loads(vet_json.read_text())["preference_auc"] >= THRESHOLD
    assert any("sparse reward" in n and "trajectory filter" in n for n in notes)
    rejected, _, _ = _check_away(tmp_path / "off", SPARSE_GOAL, trajectory_filter=False)
    assert rejected.code == "CONSTANT"


def test_the_filter_is_on_by_default_and_the_flag_turns_it_off(
    isolated_llm_cache, tmp_path, agentgym_cli
):
    on, vet_json, _ = _check_away(tmp_path / "on")
    assert on.code == "PREFERENCE" and json.loads(vet_json.read_text())["preference_auc"] < 0.2
    off, vet_json, _ = _check_away(tmp_path / "off", trajectory_filter=False)
    assert off.ok and "preference_auc" not in json.loads(vet_json.read_text())
    # a library program is a person's: never filtered
    library, _, _ = _check_away(tmp_path / "library", designer="library")
    assert library.ok
    from agentgym.cli import build_parser
    from agentgym.commands.reward.synthesize import config_from_args

    args = ["reward", "synthesize", "--env", "agentgym/Reach-v0", "--llm", "openai:m"]
    parser = build_parser()
    assert config_from_args(parser.parse_args(args)).trajectory_filter is True
    assert not config_from_args(
        parser.parse_args([*args, "--no-trajectory-filter"])
    ).trajectory_filter
    assert "--no-trajectory-filter" in agentgym_cli("reward", "synthesize", "--help").stdout


# -- a synthesis run: the rejection reaches the next prompt ----------------------------------
@pytest.fixture(scope="module")
def away_then_good(module_llm_cache, scripted_synthesis_config, tmp_path_factory):
    def script(request):
        return P.AWAY if len(request["messages"]) == 2 else P.GOOD

    with ScriptedOpenAIServer(script) as server:
        config = scripted_synthesis_config(
            server, iterations=2, samples=1, final_seeds=0, trajectory_filter=True
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("filter") / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    return run.path, requests


def test_a_wrong_reward_is_rejected_before_training(away_then_good):
    path, _ = away_then_good
    from agentgym.reward_designers.synthesis.candidates import load_candidates

    first, second = sorted(load_candidates(path), key=lambda c: c.iteration)
    assert first.status == REJECTED and first.code == "PREFERENCE"
    assert "failed episode 'random #" in first.message and first.preference_auc < 0.2
    assert not (path / "iter_00" / "sample_00" / "train").exists()
    assert second.status == TRAINED and second.preference_auc >= THRESHOLD
    html = (path / "report.html").read_text()
    assert "AUC" in html and "PREFERENCE" in html


def test_the_rejection_goes_back_to_the_llm(away_then_good):
    _, requests = away_then_good
    feedback = requests[1]["messages"][-1]["content"]
    assert "PREFERENCE" in feedback and "expert #" in feedback and "random #" in feedback
