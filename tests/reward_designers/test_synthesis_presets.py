"""Reward search and evaluation train with the env's preset (agentgym.presets): Reach's
candidates train as a SAC population, ``learner="ppo"`` trains PPO's defaults, the run
records the preset and the overrides, runs from before presets still resume, and the
reference cache keys on the learner and its whole config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import FAILED, TRAINED, load_candidates
from agentgym.reward_designers.synthesis.config import resume_config
from agentgym.reward_designers.synthesis.scores import evaluate_rewards, reference_key
from agentgym.runs.rundir import RunDir, RunExistsError
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P

# SAC in seconds: few steps, small networks, learning from step 256.
TINY_SAC = {"learning_starts": 256, "batch_size": 64, "hidden_sizes": [32, 32]}


@pytest.fixture(scope="module")
def sac_search(module_llm_cache, scripted_synthesis_config, tmp_path_factory) -> Path:
    """Eureka on Reach under its preset (SAC): one iteration of a sound program, one that
    turns NaN and one that raises, all three trained together."""
    with ScriptedOpenAIServer([P.GOOD, P.NAN_LATER, P.RAISES_LATER]) as server:
        config = scripted_synthesis_config(
            server,
            iterations=1,
            samples=3,
            steps=1024,
            learner=None,
            training=TINY_SAC,
            final_seeds=0,
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("sac") / "run")
        Synthesis(config, run).run()
    return run.path


def test_reach_candidates_train_as_a_sac_population(sac_search):
    config = yaml.safe_load((sac_search / "config.yaml").read_text())
    assert config["learner"] == "sac-population"
    assert config["config"]["gamma"] == 0.9 and config["config"]["num_envs"] == 4  # the preset's
    assert config["config"]["batch_size"] == 64 and config["config"]["total_steps"] == 1024
    rows = (sac_search / "iter_00" / "sample_00" / "train" / "logs" / "metrics.jsonl").read_text()
    assert "loss/alpha" in rows  # SAC's entropy coefficient: no PPO run logs it


def test_the_run_records_the_preset_and_what_was_overridden(sac_search):
    preset = yaml.safe_load((sac_search / "config.yaml").read_text())["preset"]
    assert preset == {
        "name": "agentgym/Reach-v0",
        "overrides": ["batch_size", "hidden_sizes", "learning_starts", "steps"],
    }


def test_a_sac_candidate_that_turns_nan_or_raises_fails_alone(sac_search):
    by_index = {c.index: c for c in load_candidates(sac_search)}
    assert by_index[0].status == TRAINED
    assert (by_index[1].status, by_index[1].code) == (FAILED, "NONFINITE")
    assert (by_index[2].status, by_index[2].code) == (FAILED, "ERROR")
    assert "broke after 20 calls" in by_index[2].message
    assert 0 < by_index[1].step < 1024 and 0 < by_index[2].step < 1024


def test_a_trained_sac_candidate_leaves_traces_of_its_deterministic_policy(sac_search):
    traces = json.loads(
        (sac_search / "iter_00" / "sample_00" / "train" / "traces.json").read_text()
    )
    assert len(traces) == 1 and traces[0]["length"] == 50 and "fingertip_pos" in traces[0]["state"]


def test_the_report_names_the_learner_and_the_preset(sac_search):
    html = (sac_search / "report.html").read_text()
    assert "sac-population" in html and "agentgym/Reach-v0 (overrides: batch_size" in html


# -- another learner, no preset, old runs ------------------------------------------------
def test_learner_ppo_on_reach_trains_ppo_defaults_and_records_the_overrides(tmp_path):
    from agentgym.learners.ppo import PPOConfig

    config = SynthesisConfig(env_id="agentgym/Reach-v0", learner="ppo", training={"num_envs": 4})
    run, _ = open_run(config, tmp_path / "run")
    stored = run.read_config()
    assert stored["learner"] == "population"
    assert stored["preset"] == {"name": None, "overrides": ["num_envs"]}
    defaults = PPOConfig()
    assert stored["config"]["num_envs"] == 4
    assert stored["config"]["gamma"] == defaults.gamma and stored["config"]["num_steps"] == 64
    assert stored["config"]["total_steps"] == 30_000  # no preset for PPO on Reach: N's default
    assert config.retrain_steps() == 30_000


def test_budgets_come_from_the_preset_unless_given():
    reach = SynthesisConfig(env_id="agentgym/Reach-v0")
    assert (reach.search_steps(), reach.retrain_steps()) == (30_000, 100_000)
    cartpole = SynthesisConfig(env_id="agentgym/CartPole-v0", steps=5000)
    assert (cartpole.search_steps(), cartpole.retrain_steps()) == (5000, 100_000)
    assert (
        SynthesisConfig(env_id="agentgym/CartPole-v0", use_preset=False).retrain_steps() == 30_000
    )


def test_a_learner_asked_for_takes_the_budgets_of_its_own_preset():
    from agentgym.presets import preset_for

    ppo = preset_for("agentgym/HalfCheetah-v0", "ppo")
    config = SynthesisConfig(env_id="agentgym/HalfCheetah-v0", learner="ppo")
    assert (config.search_steps(), config.retrain_steps()) == (
        ppo.search_steps or ppo.steps,
        ppo.steps,
    )
    learner, fields = config.training_settings(1000)
    assert learner == "population" and fields["num_steps"] == ppo.config["num_steps"]


def test_another_learners_field_is_named_with_the_preset():
    config = SynthesisConfig(env_id="agentgym/Reach-v0", training={"num_steps": 64})
    with pytest.raises(ValueError, match="--num-steps: not a setting of --learner sac.*Reach"):
        config.training_settings(1000)


def test_bad_learner_and_per_run_training_fields_are_named():
    with pytest.raises(ValueError, match="SynthesisConfig.learner: .*sb3-ppo.* has no population"):
        SynthesisConfig(env_id="agentgym/Reach-v0", learner="sb3-ppo")
    with pytest.raises(ValueError, match=r"SynthesisConfig.training: .*\['seed'\]"):
        SynthesisConfig(env_id="agentgym/Reach-v0", training={"seed": 3})


# config.yaml of a synthesis run written before presets: PPO fields of its own.
OLD_SYNTHESIS = {
    "env_id": "agentgym/Reach-v0",
    "designer": "library",
    "llm": None,
    "iterations": 1,
    "samples": 1,
    "steps": 1024,
    "seed": 0,
    "final_seeds": 0,
    "final_steps": None,
    "references": False,
    "critic": False,
    "analyser": False,
    "repairs": 0,
    "repair_mode": "fix",
    "reject_constant": True,
    "few_shot": 0,
    "temperature": 1.0,
    "max_tokens": 1024,
    "num_envs": 4,
    "num_steps": 64,
    "learning_rate": 3e-3,
    "gamma": 0.95,
    "init_log_std": -0.5,
    "eval_episodes": 2,
    "trace_episodes": 1,
    "video": False,
    "train_deadline_s": 3600.0,
    "vet_timeout_s": 60.0,
    "template_dir": None,
}


def test_a_run_from_before_presets_resumes_with_its_own_ppo_settings(isolated_llm_cache, tmp_path):
    path = tmp_path / "old"
    RunDir.create(
        command="synthesize",
        env_id="agentgym/Reach-v0",
        config={"command": "synthesize", "env_id": "agentgym/Reach-v0", "synthesis": OLD_SYNTHESIS},
        out=path,
    )
    config = resume_config(path)
    assert (config.learner, config.use_preset) == ("ppo", False)
    run, resumed = open_run(config, path)
    assert resumed
    Synthesis(config, run).run()
    (candidate,) = load_candidates(path)
    assert candidate.status == TRAINED and candidate.step == 1024
    learner, settings = config.training_settings(1024)
    assert learner == "population"
    assert (settings["learning_rate"], settings["gamma"], settings["init_log_std"]) == (
        3e-3,
        0.95,
        -0.5,
    )
    assert (settings["num_envs"], settings["num_steps"], settings["num_minibatches"]) == (4, 64, 4)


def test_reopening_a_run_with_other_learner_settings_is_refused(tmp_path):
    config = SynthesisConfig(env_id="agentgym/Reach-v0", training={"gamma": 0.8})
    open_run(config, tmp_path / "run")
    other = SynthesisConfig(env_id="agentgym/Reach-v0", training={"gamma": 0.7})
    with pytest.raises(RunExistsError, match="different synthesis run"):
        open_run(other, tmp_path / "run")


# -- the reference cache -----------------------------------------------------------------
def test_the_reference_key_holds_the_learner_and_every_config_field():
    base = {"total_steps": 1000, "num_envs": 4}
    key = reference_key("agentgym/CartPole-v0", [0], "population", base)
    assert key.startswith("agentgym_CartPole-v0-population-1000-")
    assert key != reference_key("agentgym/CartPole-v0", [0], "population", {**base, "gamma": 0.9})
    assert key != reference_key("agentgym/CartPole-v0", [0], "sac-population", base)
    # a field at its default is the same config as the field left out
    assert key == reference_key("agentgym/CartPole-v0", [0], "population", {**base, "gamma": 0.99})
    assert key == reference_key("agentgym/CartPole-v0", [0], "population", {**base, "video": True})


def test_references_are_retrained_when_the_learner_config_changes(isolated_llm_cache, tmp_path):
    config = {"num_envs": 4, "num_steps": 32, "eval_episodes": 1, "checkpoint_every": 0}

    def references(gamma: float, folder: str) -> dict:
        return evaluate_rewards(
            "agentgym/CartPole-v0",
            {},
            [0],
            256,
            run_dir=tmp_path / folder,
            learner="population",
            config={**config, "gamma": gamma},
        )["rewards"]

    first = references(0.95, "a")
    again = references(0.95, "b")
    changed = references(0.9, "c")
    assert not first["sparse"].get("cached") and again["sparse"].get("cached")
    assert not changed["sparse"].get("cached") and not changed["human"].get("cached")
    assert len(list((isolated_llm_cache / "references").glob("*.json"))) == 2
