"""A sketch the structured designer's own checks reject (an unknown variable, a vector where
a scalar is needed) goes through ``--repairs`` like a vetting rejection: one repair request
that says precisely what is wrong and what to use, the corrected sketch is vetted and
trained under the same sample number, and a rerun pays for nothing.

Real parts throughout: the openai client against the scripted server on loopback, the
sandbox's vetting, PPO training on agentgym/Reach-v0 at TINY_SEARCH's budget."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgym.reward_designers.structured import sketch_of_program
from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import REJECTED, TRAINED, load_candidates
from agentgym.testing.openai_server import ScriptedOpenAIServer


def term(name: str, expr: str, kind: str = "linear", scale: float = 1.0, sign: int = 1) -> dict:
    return {"name": name, "kind": kind, "expr": expr, "weight": 1.0, "scale": scale, "sign": sign}


# sample 0: a variable Reach does not have; sample 1: a vector for a term's scalar
UNKNOWN = {"terms": [term("distance", "norm(fingertip_pos - target_position)", sign=-1)]}
VECTOR = {"terms": [term("reach", "fingertip_pos - target_pos", "tolerance", 0.1)]}
# what the model sends back for each; sample 2's repair repeats its mistake
FIXED_UNKNOWN = {"terms": [term("distance", "norm(fingertip_pos - target_pos)", sign=-1)]}
FIXED_VECTOR = {"terms": [term("reach", "norm(fingertip_pos - target_pos)", "tolerance", 0.1)]}
STILL_UNKNOWN = {"terms": [term("distance", "norm(fingertip_pos - goal)", sign=-1)]}
# sample 3: one good term beside one reading a variable Reach lacks, and its repair repeats
# it (MountainCar in the benchmark: a speed term beside one reading ``velocity_prev``)
MIXED = {
    "terms": [
        term("distance", "norm(fingertip_pos - target_pos)", sign=-1),
        term("calm", "abs(wind_speed)", sign=-1),
    ]
}


def script():
    first = iter(
        [json.dumps(UNKNOWN), json.dumps(VECTOR), json.dumps(STILL_UNKNOWN), json.dumps(MIXED)]
    )

    def reply(request: dict) -> str:
        ask = request["messages"][-1]["content"]
        if "rejected before training" not in ask:
            return next(first)
        shown = request["messages"][-2]["content"]
        if "target_position" in shown:
            return json.dumps(FIXED_UNKNOWN)
        if "goal" in shown:
            return json.dumps(STILL_UNKNOWN)  # the same mistake again: rejected for it
        if "wind_speed" in shown:
            return json.dumps(MIXED)  # again: its good term trains without the other
        return json.dumps(FIXED_VECTOR)

    return reply


@dataclass
class Repaired:
    config: SynthesisConfig
    path: Path
    requests: list[dict]
    server: ScriptedOpenAIServer

    def candidates(self) -> dict[int, object]:
        return {c.index: c for c in load_candidates(self.path)}

    def repair_ask(self, shown: str) -> str:
        [request] = [
            r
            for r in self.requests
            if "rejected before training" in r["messages"][-1]["content"]
            and shown in r["messages"][-2]["content"]
        ]
        return request["messages"][-1]["content"]


@pytest.fixture(scope="module")
def repaired(module_llm_cache, scripted_synthesis_config, tmp_path_factory):
    with ScriptedOpenAIServer(script()) as server:
        config = scripted_synthesis_config(
            server,
            designer="structured",
            iterations=1,
            samples=4,
            final_seeds=0,
            tune=False,
            repairs=1,
        )
        run, _ = open_run(config, tmp_path_factory.mktemp("sketch-repairs") / "run")
        Synthesis(config, run).run()
        yield Repaired(config, run.path, list(server.requests), server)


def test_each_rejected_sketch_gets_one_repair_request_under_the_schema(repaired):
    first, *repairs = repaired.requests
    assert first["n"] == 4 and len(repairs) == 4  # one per rejected sample, none vetted
    for r in repairs:
        assert r["messages"][:2] == first["messages"]
        assert r["response_format"]["type"] == "json_schema"
        assert "JSON object only" in r["messages"][-1]["content"]


def test_the_repair_names_the_unknown_variable_and_the_valid_ones(repaired):
    ask = repaired.repair_ask("target_position")
    assert "rejected before training: SKETCH_VARIABLE" in ask
    assert "unknown variable 'target_position'" in ask
    # the variable it most likely meant, with its shape and meaning, then the full list
    assert "target_pos (a vector of shape (2,): x, y position of the target)" in ask
    assert "The variables are: fingertip_pos, target_pos, joint_pos, joint_vel, action" in ask


def test_the_repair_says_which_expression_is_a_vector_and_what_to_use(repaired):
    ask = repaired.repair_ask('fingertip_pos - target_pos"')
    assert "rejected before training: SKETCH_SHAPE" in ask
    assert "expr 'fingertip_pos - target_pos' is a vector of shape (2,) per env" in ask
    assert "fingertip_pos is a vector of shape (2,): x, y position of the fingertip" in ask
    assert "fingertip_pos[0]" in ask and "norm(fingertip_pos - target_pos)" in ask


def test_the_corrected_sketches_train_under_their_sample_numbers(repaired):
    by_index = repaired.candidates()
    assert sorted(by_index) == [0, 1, 2, 3]
    for i, fixed in ((0, FIXED_UNKNOWN), (1, FIXED_VECTOR)):
        c = by_index[i]
        assert c.status == TRAINED and c.repairs == 1, c.message
        program = (repaired.path / "iter_00" / f"sample_{i:02d}" / "reward.py").read_text()
        assert sketch_of_program(program)["terms"][0]["expr"] == fixed["terms"][0]["expr"]
    # a repair that repeats the mistake keeps the rejection of what it sent back
    still = by_index[2]
    assert still.status == REJECTED and still.repairs == 1
    assert still.code == "SKETCH_VARIABLE" and "unknown variable 'goal'" in still.message


def test_a_sketch_still_half_wrong_after_its_repair_trains_its_good_terms(repaired):
    c = repaired.candidates()[3]
    assert c.status == TRAINED and c.repairs == 1, c.message
    [note] = [n for n in c.notes if n.startswith("salvaged: ")]
    assert "1 term(s)" in note and "kept distance" in note
    assert "unknown variable 'wind_speed'" in note
    program = (repaired.path / "iter_00" / "sample_03" / "reward.py").read_text()
    assert sketch_of_program(program) == {"terms": [MIXED["terms"][0]]}
    assert "Left out: terms of the LLM's sketch" in program
    assert set(c.components) >= {"distance"} and "calm" not in c.components


def test_the_sample_folder_keeps_the_rejected_reply_and_the_repair(repaired):
    folder = repaired.path / "iter_00" / "sample_00"
    assert json.loads((folder / "response.txt").read_text()) == UNKNOWN
    exchange = json.loads((folder / "repair_1.json").read_text())
    assert exchange["code"] == "SKETCH_VARIABLE" and "target_position" in exchange["message"]
    assert json.loads(exchange["reply"]) == FIXED_UNKNOWN
    assert json.loads((folder / "vet.json").read_text())["ok"] is True


def test_a_rerun_makes_no_llm_request(repaired):
    asked = len(repaired.server.requests)
    for i in (0, 1, 2, 3):
        folder = repaired.path / "iter_00" / f"sample_{i:02d}"
        (folder / "result.json").unlink()
        shutil.rmtree(folder / "train", ignore_errors=True)
    again, _ = open_run(repaired.config, repaired.path)
    Synthesis(repaired.config, again).run()
    assert len(repaired.server.requests) == asked
    statuses = {i: c.status for i, c in repaired.candidates().items()}
    assert statuses == {0: TRAINED, 1: TRAINED, 2: REJECTED, 3: TRAINED}
    assert all(c.repairs == 1 for c in repaired.candidates().values())
    # the first session's repair is not taken for the reply it repaired
    assert not (repaired.path / "iter_00" / "sample_00" / "reward_attempt0.py").exists()


def test_broken_json_in_a_fence_is_named_as_such_not_as_its_first_term():
    """HalfCheetah's sample 0 in the benchmark: a quote missing in a fenced list. Its first
    ``{...}`` is one term, which read as the sketch made a misleading SKETCH_SCHEMA."""
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured import SketchRejection, parse_sketch

    replies = json.loads((Path(__file__).with_name("qwen_sketches_run2.json")).read_text())
    [reply] = [
        r["text"]
        for r in replies["replies"]
        if r["env"] == "agentgym/HalfCheetah-v0" and r["sample"] == 0
    ]
    with pytest.raises(SketchRejection) as err:
        parse_sketch(reply, task_spec("agentgym/HalfCheetah-v0"))
    assert err.value.code == "SKETCH_JSON"
    assert "Expecting ',' delimiter at line 3" in err.value.message
    assert 'mean(torso_velocity[1]), "weight"' in err.value.message


def test_a_trailing_comma_in_an_expression_is_dropped_not_read_as_a_tuple():
    """The model's repair of that reply kept ``"mean(torso_velocity[1]), "``."""
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured import parse_sketch

    reply = {"terms": [term("velocity", "mean(torso_velocity[1]), ")]}
    sketch = parse_sketch(json.dumps(reply), task_spec("agentgym/HalfCheetah-v0"))
    assert sketch.terms[0].expr == "mean(torso_velocity[1])"
    assert sketch.code[0].shape == ()


def test_two_terms_of_one_name_and_a_one_argument_distance_read_as_meant():
    """The fresh benchmark replies the model did not repair: HalfCheetah's two
    ``forward_velocity`` terms (the repair kept both names), DrawerOpen's
    ``distance(tcp_pos - obj_pos)`` (the repair respelt it ``norm(gripper_pos - obj_pos)``)."""
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured import compile_sketch, parse_sketch

    twice = {
        "terms": [
            term("forward_velocity", "mean(norm(forward_velocity))", "tolerance", 0.3),
            term("forward_velocity", "sum(square(forward_velocity)) / 2"),
        ]
    }
    cheetah = task_spec("agentgym/HalfCheetah-v0")
    sketch = parse_sketch(json.dumps(twice), cheetah)
    assert [t.name for t in sketch.terms] == ["forward_velocity", "forward_velocity_2"]
    # both still read the variable, not each other
    assert [t.expr for t in sketch.terms] == [t["expr"] for t in twice["terms"]]
    assert "a second term of that name, called forward_velocity_2" in compile_sketch(
        sketch, cheetah
    )
    drawer = task_spec("agentgym/MetaWorld-DrawerOpen-v0")
    one = parse_sketch(json.dumps([term("pull", "distance(tcp_pos - obj_pos)")]), drawer)
    two = parse_sketch(json.dumps([term("pull", "distance(tcp_pos, obj_pos)")]), drawer)
    assert one.code == two.code


def test_without_repairs_the_good_terms_train_at_once(
    isolated_llm_cache, scripted_synthesis_config, tmp_path
):
    # sample 2: what passes is a constant, which vetting rejects under its own code
    constant = {"terms": [term("bias", "1.0"), MIXED["terms"][1]]}
    replies = [json.dumps(MIXED), json.dumps(STILL_UNKNOWN), json.dumps(constant)]
    with ScriptedOpenAIServer(replies) as server:
        config = scripted_synthesis_config(
            server, designer="structured", iterations=1, samples=3, final_seeds=0, tune=False
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
        assert len(server.requests) == 1  # no repair asked
    by_index = {c.index: c for c in load_candidates(run.path)}
    assert by_index[0].status == TRAINED
    assert any(n.startswith("salvaged: ") for n in by_index[0].notes)
    # a sketch of which no term passes is rejected as before, and carries no such note
    assert by_index[1].status == REJECTED and by_index[1].code == "SKETCH_VARIABLE"
    assert not by_index[1].notes
    assert by_index[2].status == REJECTED and by_index[2].code == "CONSTANT"
    assert any(n.startswith("salvaged: ") and "kept bias" in n for n in by_index[2].notes)


def test_a_partial_sketch_keeps_its_passing_terms_and_names_the_others():
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured import SketchRejection, check_sketch

    task = task_spec("agentgym/Reach-v0")
    with pytest.raises(SketchRejection, match="wind_speed"):
        check_sketch(MIXED, task)
    part = check_sketch(MIXED, task, partial=True)
    assert [t.name for t in part.terms] == ["distance"]
    assert len(part.dropped) == 1 and "terms[1] ('calm')" in part.dropped[0]
    with pytest.raises(SketchRejection, match="goal"):
        check_sketch(STILL_UNKNOWN, task, partial=True)  # nothing passes: nothing to keep


def test_the_follow_up_names_the_terms_a_salvage_left_out():
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.synthesis.candidates import Candidate
    from agentgym.reward_designers.synthesis.designers import IterationOutcome, make_designer

    designer = make_designer("structured", task_spec("agentgym/Reach-v0"))
    program = designer.program(json.dumps(MIXED))
    assert program.source is None and program.salvage is not None
    trained = Candidate(0, 0, TRAINED, success=0.5, fitness=-0.1, notes=[program.salvage_note])
    outcome = IterationOutcome(0, [trained], {0: program.salvage})
    designer.observe(outcome)
    first = designer.initial_messages()
    follow_up = designer.next_messages(first, outcome, None)[-1]["content"]
    assert "do not use those terms again" in follow_up
    assert "unknown variable 'wind_speed'" in follow_up


def test_the_left_out_terms_stay_in_the_docstring_when_the_numbers_change():
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured.calibration import compiled
    from agentgym.reward_designers.structured.compiler import dropped_of_program
    from agentgym.reward_designers.synthesis.designers import make_designer
    from agentgym.reward_designers.synthesis.numbers import Number

    task = task_spec("agentgym/Reach-v0")
    designer = make_designer("structured", task)
    salvaged = designer.program(json.dumps(MIXED)).salvage
    [left_out] = dropped_of_program(salvaged)
    assert "wind_speed" in left_out
    tuned = designer.with_numbers(
        salvaged, [Number("DISTANCE_WEIGHT", 1.0, "")], {"DISTANCE_WEIGHT": 2.5}
    )
    assert "DISTANCE_WEIGHT = 2.5" in tuned and dropped_of_program(tuned) == (left_out,)
    calibrated = compiled(sketch_of_program(salvaged), task, ["a change"], (left_out,))
    assert dropped_of_program(calibrated) == (left_out,)
    assert dropped_of_program(designer.program(json.dumps(FIXED_UNKNOWN)).source) == ()


def test_pi_is_a_number_in_an_expression():
    # CartPole in the benchmark: abs(pole_angle) / pi was a SKETCH_VARIABLE
    import math

    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured import check_sketch

    task = task_spec("agentgym/CartPole-v0")
    sketch = check_sketch({"terms": [term("upright", "1 - abs(pole_angle) / pi")]}, task)
    assert repr(math.pi) in sketch.code[0].code
