"""Tuning the numbers of synthesised programs (reward_designers/synthesis/tuning.py):
which literals are tunable, the rewritten program, and the optuna rounds end to end
against the scripted server (real vetting, real PPO training on agentgym/Reach-v0)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgym.catalog import task_spec
from agentgym.reward_designers.structured import StructuredDesigner, sketch_of_program
from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import TRAINED, Candidate, load_candidates
from agentgym.reward_designers.synthesis.numbers import tunable_numbers, with_numbers
from agentgym.reward_designers.synthesis.tuning import objective
from agentgym.testing.openai_server import ScriptedOpenAIServer

ENV = "agentgym/Reach-v0"

FREE_FORM = """
import torch

SCALE = 0.05


def compute_reward(state, action, margin=0.5):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    near = torch.exp(-d / 0.1)  # a temperature
    effort = -0.01 * torch.sum(action ** 2, dim=-1)
    bonus = (d < 0.02).float() * 2
    return near + effort + bonus + d * 0.0, {"near": near, "effort": effort}
"""


def term(name, expr, kind="linear", weight=1.0, scale=1.0, sign=1) -> dict:
    return dict(name=name, kind=kind, expr=expr, weight=weight, scale=scale, sign=sign)


def test_tunable_numbers_are_weights_scales_and_temperatures_only():
    numbers = tunable_numbers(FREE_FORM)
    assert [(n.name, n.value) for n in numbers] == [("SCALE", 0.05), ("c0", 0.1), ("c1", 0.01)]
    assert numbers[2].label == "0.01 in `-0.01 * torch.sum(action ** 2, dim=-1)`"
    # not the exponent 2, dim=-1, the threshold 0.02, the integer 2, the zero, the default
    assert tunable_numbers(FREE_FORM, limit=2) == numbers[:2]
    assert tunable_numbers("def compute_reward(state, action) return 1") == []


def test_a_rewritten_program_keeps_its_structure_and_signs():
    numbers = tunable_numbers(FREE_FORM)
    tuned = with_numbers(FREE_FORM, numbers, {"SCALE": 0.2, "c1": 0.000123456})
    assert "SCALE = 0.2\n" in tuned and "-0.0001235 * torch.sum" in tuned
    assert "torch.exp(-d / 0.1)  # a temperature" in tuned  # untouched, comment kept

    def shape(source: str) -> str:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                node.value = 0.0
        return ast.dump(tree)

    assert shape(tuned) == shape(FREE_FORM)
    with pytest.raises(ValueError, match="c1 must stay > 0"):
        with_numbers(FREE_FORM, numbers, {"c1": 0.0})


def test_a_sketch_is_tuned_through_its_weights_and_scales_and_compiled_again():
    designer = StructuredDesigner(task_spec(ENV))
    sketch = {
        "terms": [
            term("reach", "norm(fingertip_pos - target_pos)", "tolerance", 1.0, 0.05),
            term("effort", "sum(square(action))", weight=0.01, sign=-1),
            term("off", "norm(joint_vel)", weight=0.0, sign=-1),
        ]
    }
    source = designer.program(json.dumps(sketch)).source
    numbers = designer.numbers(source, 8)
    assert [n.name for n in numbers] == ["REACH_WEIGHT", "REACH_SCALE", "EFFORT_WEIGHT"]
    tuned = designer.with_numbers(source, numbers, {"REACH_SCALE": 0.2, "EFFORT_WEIGHT": 0.5})
    assert "REACH_SCALE = 0.2\n" in tuned and "EFFORT_WEIGHT = 0.5\n" in tuned
    terms = {t["name"]: t for t in sketch_of_program(tuned)["terms"]}
    assert terms["reach"]["scale"] == 0.2 and terms["effort"]["weight"] == 0.5
    assert terms["reach"]["weight"] == 1.0 and terms["off"]["weight"] == 0.0


def test_the_objective_orders_trials_as_candidates_are_ranked():
    def cand(success, fitness):
        return Candidate(0, 0, TRAINED, success=success, fitness=fitness)

    ordered = [cand(0.0, -1e6), cand(0.0, -3.0), cand(0.0, 2.0), cand(0.1, -1e6), cand(1.0, 0)]
    values = [objective(c) for c in ordered]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert [c.rank for c in ordered] == sorted(c.rank for c in ordered)
    assert objective(Candidate(0, 0, "rejected")) is None


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("tune_range", 1.0, "a number > 1"), ("tune_trials", 0, ""), ("tune", "yes", "true, false")],
)
def test_bad_tuning_settings_name_their_field(field, value, expected):
    with pytest.raises(ValueError, match=f"SynthesisConfig.{field}") as err:
        SynthesisConfig(env_id=ENV, **{field: value})
    assert expected in str(err.value)


def test_the_structured_designer_tunes_by_default_and_the_others_on_request():
    assert SynthesisConfig(env_id=ENV, designer="structured").tuning
    assert not SynthesisConfig(env_id=ENV, designer="structured", tune=False).tuning
    assert not SynthesisConfig(env_id=ENV, designer="eureka").tuning
    assert SynthesisConfig(env_id=ENV, designer="eureka", tune=True).tuning


# -- end to end -----------------------------------------------------------------------------
# A planted mis-weighting: the effort penalty ten times the distance term, so the policy
# learns to hold still. Tuning should lower the ratio.
PLANTED = {
    "terms": [
        term("distance", "norm(fingertip_pos - target_pos)", weight=0.3, sign=-1),
        term("effort", "sum(square(action))", weight=3.0, sign=-1),
    ]
}
EUREKA_PLANTED = """```python
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    effort = -3.0 * torch.sum(action * action, dim=-1)
    return -0.3 * d + effort, {"distance": -0.3 * d, "effort": effort}
```"""


@dataclass
class Tuned:
    path: Path
    requests: list[dict]
    config: SynthesisConfig
    server: ScriptedOpenAIServer


@pytest.fixture(scope="module")
def tuned(module_llm_cache, scripted_synthesis_config, tmp_path_factory) -> Iterator[Tuned]:
    with ScriptedOpenAIServer([json.dumps(PLANTED)] * 2) as server:
        config = scripted_synthesis_config(
            server,
            designer="structured",
            iterations=2,
            samples=1,
            final_seeds=0,
            tune_rounds=2,
            tune_trials=3,
            trace_episodes=0,
            steps=512,  # the plumbing, not the learning (the slow test below learns)
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("tuning") / "run")
        Synthesis(config, run).run()
        yield Tuned(run.path, list(server.requests), config, server)


@pytest.mark.slow  # trains 2-6 tiny populations: about a minute here
def test_each_round_is_written_with_its_trials_and_the_best_joins_the_iteration(tuned):
    folder = tuned.path / "iter_00" / "tune"
    rounds = [json.loads((folder / f"round_{r:02d}.json").read_text()) for r in (0, 1)]
    assert [[t["number"] for t in r["trials"]] for r in rounds] == [[1, 2, 3], [4, 5, 6]]
    for r in rounds:
        for t in r["trials"]:
            assert set(t["params"]) == {"DISTANCE_WEIGHT", "EFFORT_WEIGHT"}
            assert 0.03 <= t["params"]["DISTANCE_WEIGHT"] <= 3.0  # 0.3 / 10 .. 0.3 * 10
            assert (folder / f"trial_{t['number']:03d}" / "vet.json").is_file()
            assert t["candidate"]["status"] == TRAINED
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["parent"] == "iter_00/sample_00"
    by_key = {(c.iteration, c.index): c for c in load_candidates(tuned.path)}
    if summary["candidate"] is not None:
        tuned_c = by_key[(0, 1)]
        assert tuned_c.origin == "tuned:iter_00/sample_00"
        assert tuned_c.rank > by_key[(0, 0)].rank
        assert "EFFORT_WEIGHT" in (tuned.path / "iter_00/sample_01/reward.py").read_text()


@pytest.mark.slow  # trains 2-6 tiny populations: about a minute here
def test_what_tuning_did_goes_back_to_the_llm(tuned):
    summary = json.loads((tuned.path / "iter_00" / "tune" / "summary.json").read_text())
    feedback = tuned.requests[1]["messages"][-1]["content"]
    assert summary["text"] in feedback
    assert "Tuning iter_00/sample_00's numbers with an optimiser (2 rounds x 3 trials" in feedback


@pytest.mark.slow  # trains 2-6 tiny populations: about a minute here
def test_the_report_plots_the_trials(tuned):
    from agentgym.runs.report import build_report
    from agentgym.runs.rundir import RunDir

    page = Path(build_report(RunDir.open(tuned.path))).read_text()
    assert "Tuning iteration 0" in page and "Tuning iteration 1" in page
    assert page.count('alt="Tuning trials') == 2  # value and best so far, per iteration


@pytest.mark.slow  # trains 2-6 tiny populations: about a minute here
def test_a_resumed_run_re_tells_finished_rounds_instead_of_training_them(tuned):
    folder = tuned.path / "iter_01" / "tune"
    first = folder / "trial_001" / "train" / "logs" / "metrics.jsonl"
    stamp = first.stat().st_mtime_ns
    before = json.loads((folder / "round_01.json").read_text())
    (folder / "round_01.json").unlink()
    (folder / "summary.json").unlink()
    (tuned.path / "final.json").unlink()
    asked = len(tuned.server.requests)
    run, resumed = open_run(tuned.config, tuned.path)
    assert resumed
    Synthesis(tuned.config, run).run()
    assert len(tuned.server.requests) == asked
    assert first.stat().st_mtime_ns == stamp  # round 0 was re-told, not retrained
    after = json.loads((folder / "round_01.json").read_text())
    assert [t["number"] for t in after["trials"]] == [t["number"] for t in before["trials"]]
    assert (folder / "summary.json").is_file()


@pytest.mark.slow  # trains 2-6 tiny populations: about a minute here
def test_eureka_programs_are_tuned_with_tune(
    isolated_llm_cache, scripted_synthesis_config, tmp_path
):
    with ScriptedOpenAIServer([EUREKA_PLANTED]) as server:
        config = scripted_synthesis_config(
            server,
            iterations=1,
            samples=1,
            final_seeds=0,
            tune=True,
            tune_rounds=1,
            tune_trials=2,
            trace_episodes=0,
            steps=512,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
    rounds = json.loads((tmp_path / "run/iter_00/tune/round_00.json").read_text())
    assert [(n["name"], n["value"]) for n in rounds["numbers"]] == [
        ("c0", 3.0),
        ("c1", 0.3),
        ("c2", 0.3),
    ]
    trial = (tmp_path / "run/iter_00/tune/trial_001/reward.py").read_text()
    assert "def compute_reward(state, action):" in trial and "-3.0 *" not in trial


@pytest.mark.slow
def test_the_tuner_improves_a_planted_mis_weighted_sketch(
    isolated_llm_cache, scripted_synthesis_config, tmp_path
):
    with ScriptedOpenAIServer([json.dumps(PLANTED)]) as server:
        config = scripted_synthesis_config(
            server,
            designer="structured",
            iterations=1,
            samples=1,
            final_seeds=0,
            steps=4096,
            eval_episodes=5,
            tune_rounds=2,
            tune_trials=4,
            trace_episodes=0,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
    by_key = {(c.iteration, c.index): c for c in load_candidates(tmp_path / "run")}
    planted, tuned = by_key[(0, 0)], by_key.get((0, 1))
    assert tuned is not None, "no trial beat the planted weights"
    assert objective(tuned) > objective(planted)
    terms = {
        t["name"]: t["weight"]
        for t in sketch_of_program((tmp_path / "run/iter_00/sample_01/reward.py").read_text())[
            "terms"
        ]
    }
    assert terms["effort"] / terms["distance"] < 3.0 / 0.3  # the penalty came down
    assert (tmp_path / "run/best_reward.py").read_text().count("EFFORT_WEIGHT") >= 1


def test_the_tune_flags_reach_the_config():
    import argparse

    from agentgym.commands.reward.synthesize import config_from_args, configure

    parser = argparse.ArgumentParser()
    configure(parser)
    common = ["--env", ENV, "--llm", "openai:some-model"]
    eureka = parser.parse_args([*common, "--designer", "eureka", "--tune", "--tune-rounds", "3"])
    config = config_from_args(eureka)
    assert config.tuning and config.tune_rounds == 3 and config.tune_trials == 4
    assert not config_from_args(parser.parse_args([*common, "--designer", "eureka"])).tuning
    off = parser.parse_args([*common, "--designer", "structured", "--no-tune"])
    assert not config_from_args(off).tuning
