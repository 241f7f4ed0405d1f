"""The structured designer: sketches checked against the TaskSpec, compiled to programs,
and searched end to end against the scripted server on loopback (real openai client,
real vetting in the sandbox, real PPO training on agentgym/Reach-v0)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from agentgym.catalog import task_spec
from agentgym.llm import make_client
from agentgym.llm.errors import LLMRequestError
from agentgym.reward_designers.structured import (
    SketchRejection,
    StructuredDesigner,
    compile_sketch,
    parse_sketch,
    sketch_of_program,
)
from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import REJECTED, TRAINED, load_candidates
from agentgym.rewards.base import make_input
from agentgym.rewards.program import ProgramReward
from agentgym.sandbox.states import load_states, record_states
from agentgym.sandbox.vetting import vet_many
from agentgym.testing.openai_server import Fault, ScriptedOpenAIServer

ENV = "agentgym/Reach-v0"


def term(name, expr, kind="linear", weight=1.0, scale=1.0, sign=1) -> dict:
    return {
        "name": name,
        "kind": kind,
        "expr": expr,
        "weight": weight,
        "scale": scale,
        "sign": sign,
    }


REACH = {
    "terms": [
        term("reach", "norm(fingertip_pos - target_pos)", "tolerance", 1.0, 0.05),
        term("distance", "norm(target_pos - fingertip_pos)", weight=1.0, sign=-1),
        term("effort", "sum(square(action))", weight=0.01, sign=-1),
        term("calm", "abs(joint_vel[0]) + 0.5 * norm(joint_vel)", "exp", 0.1, 2.0, -1),
        term("alive", "1", weight=0.1),
    ]
}
HAND_WRITTEN = """
import math
import torch

def compute_reward(state, action):
    d = torch.sqrt(torch.sum((state["fingertip_pos"] - state["target_pos"]) ** 2, dim=-1))
    reach = torch.exp(math.log(0.1) * (d / 0.05) ** 2)
    distance = -d
    effort = -0.01 * (action ** 2).sum(-1)
    w = state["joint_vel"]
    calm = -0.1 * torch.exp(-(w[:, 0].abs() + 0.5 * torch.sqrt((w ** 2).sum(-1))) / 2.0)
    alive = 0.1 * torch.ones(action.shape[0])
    total = reach + distance + effort + calm + alive
    return total, {"reach": reach, "distance": distance, "effort": effort, "calm": calm,
                   "alive": alive}
"""
GOOD = {"terms": [term("distance", "norm(fingertip_pos - target_pos)", weight=1.0, sign=-1)]}
SHARP = {
    "terms": [
        term("reach", "norm(fingertip_pos - target_pos)", "tolerance", 1.0, 0.1),
        term("effort", "sum(square(action))", weight=0.01, sign=-1),
    ]
}
UNKNOWN_VARIABLE = {"terms": [term("distance", "norm(fingertip_pos - goal_pos)", sign=-1)]}
BAD_SHAPE = {"terms": [term("distance", "fingertip_pos - target_pos", sign=-1)]}
MALFORMED = '{"terms": [{"name": "distance", "kind": "linear", "expr": "norm(fingertip_pos'


def _on_states(source: str, env: str = ENV) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    states, actions = load_states(record_states(env))
    n = actions.shape[0]
    batch = make_input(states, actions, np.zeros(n), {}, np.zeros(n, bool), task_spec(env))
    out = ProgramReward(source, trusted=True)(batch)
    return out.reward.numpy(), {k: v.numpy() for k, v in out.terms.items()}


def test_a_sketch_compiles_to_the_hand_written_program_on_recorded_states(isolated_llm_cache):
    task = task_spec(ENV)
    source = compile_sketch(parse_sketch(json.dumps(REACH), task), task)
    reward, terms = _on_states(source)
    hand_reward, hand_terms = _on_states(HAND_WRITTEN)
    np.testing.assert_allclose(reward, hand_reward, rtol=1e-6, atol=1e-6)
    assert set(terms) == set(hand_terms)
    for name in terms:
        np.testing.assert_allclose(terms[name], hand_terms[name], rtol=1e-6, atol=1e-6)
    assert np.ptp(terms["reach"]) > 0 and np.ptp(terms["calm"]) > 0  # the states move
    # numbers are module-level constants a tuner can change; the sketch rides along
    assert "REACH_WEIGHT = 1.0\nREACH_SCALE = 0.05\n" in source
    assert [t["expr"] for t in sketch_of_program(source)["terms"]] == [
        t["expr"] for t in REACH["terms"]
    ]
    assert "eval(" not in source and "exec(" not in source


def test_a_discrete_action_and_scalar_state_compile_per_env(isolated_llm_cache):
    """CartPole: scalar state variables, one integer action per env ([N], not [N, A]):
    a reduction over the action must not reach the batch axis."""
    env = "agentgym/CartPole-v0"
    sketch = {
        "terms": [
            term("upright", "abs(pole_angle)", "tolerance", 1.0, 0.2),
            term("centre", "cart_position ** 2 + 0.1 * abs(cart_velocity)", sign=-1, weight=0.5),
            term("push", "sum(action)", weight=0.01, sign=-1),
            term("alive", "1", weight=1.0),
        ]
    }
    hand = """
import math
import torch

def compute_reward(state, action):
    upright = torch.exp(math.log(0.1) * (state["pole_angle"].abs() / 0.2) ** 2)
    centre = -0.5 * (state["cart_position"] ** 2 + 0.1 * state["cart_velocity"].abs())
    push = -0.01 * action.float()
    alive = torch.ones(action.shape[0])
    return upright + centre + push + alive, {
        "upright": upright, "centre": centre, "push": push, "alive": alive}
"""
    task = task_spec(env)
    source = compile_sketch(parse_sketch(json.dumps(sketch), task), task)
    reward, terms = _on_states(source, env)
    hand_reward, hand_terms = _on_states(hand, env)
    assert reward.shape == (256,) and np.ptp(terms["push"]) > 0  # both actions occur
    np.testing.assert_allclose(reward, hand_reward, rtol=1e-6, atol=1e-6)
    for name in hand_terms:
        np.testing.assert_allclose(terms[name], hand_terms[name], rtol=1e-6, atol=1e-6)
    [verdict] = vet_many([source], env, timeout_s=60)
    assert verdict.ok, verdict.message


def test_a_compiled_program_passes_the_sandbox_vetting(isolated_llm_cache):
    task = task_spec(ENV)
    sources = [compile_sketch(parse_sketch(json.dumps(s), task), task) for s in (REACH, SHARP)]
    verdicts = vet_many(sources, ENV, timeout_s=60)
    assert [v.ok for v in verdicts] == [True, True], [v.message for v in verdicts]
    assert verdicts[0].terms == ["alive", "calm", "distance", "effort", "reach"]


@pytest.mark.parametrize(
    ("reply", "code", "fragment"),
    [
        (json.dumps(UNKNOWN_VARIABLE), "SKETCH_VARIABLE", "unknown variable 'goal_pos'"),
        (json.dumps(BAD_SHAPE), "SKETCH_SHAPE", "is a vector of shape (2,) per env, but a term"),
        (MALFORMED, "SKETCH_JSON", "the reply is not a JSON sketch"),
        (
            json.dumps({"terms": [term("d", "dot(fingertip_pos, joint_vel[0])")]}),
            "SKETCH_SHAPE",
            "dot(a, b) needs two vectors of the same length",
        ),
        (
            json.dumps({"terms": [term("d", "math.sqrt(joint_pos[0])")]}),
            "SKETCH_EXPR",
            "unknown function 'math.sqrt'. Did you mean 'sqrt'?",
        ),
        (
            json.dumps({"terms": [term("d", "joint_pos[2]")]}),
            "SKETCH_SHAPE",
            "index 2 is out of range",
        ),
        (
            json.dumps({"terms": [term("d", "norm(joint_pos)", kind="gaussian")]}),
            "SKETCH_SCHEMA",
            "kind must be one of linear, exp, tolerance, got 'gaussian'",
        ),
        (
            json.dumps({"terms": [term("d", "__import__('os')")]}),
            "SKETCH_EXPR",
            "unknown function '__import__'",
        ),
    ],
)
def test_a_bad_sketch_gets_its_code_and_a_message_saying_what_was_expected(reply, code, fragment):
    with pytest.raises(SketchRejection) as err:
        parse_sketch(reply, task_spec(ENV))
    assert str(err.value.code) == code
    assert fragment in err.value.message


@pytest.mark.parametrize(
    ("written", "used"),
    [("action", "action_term"), ("Pole Balance", "pole_balance"), ("lambda", "lambda_term")],
)
def test_a_loosely_written_term_name_is_made_an_identifier_not_rejected(written, used):
    sketch = parse_sketch(json.dumps({"terms": [term(written, "norm(joint_pos)")]}), task_spec(ENV))
    assert [t.name for t in sketch.terms] == [used]


@pytest.mark.parametrize("written", ["9", "__", "", 3])
def test_a_term_name_with_nothing_usable_is_still_rejected(written):
    with pytest.raises(SketchRejection) as err:
        parse_sketch(json.dumps({"terms": [term(written, "norm(joint_pos)")]}), task_spec(ENV))
    assert str(err.value.code) == "SKETCH_SCHEMA" and "lower-case identifier" in err.value.message


def test_json_is_found_in_free_text():
    task = task_spec(ENV)
    fenced = f"Here is my sketch:\n```json\n{json.dumps(GOOD)}\n```\nIt rewards approach."
    inline = f"Sure! {json.dumps(GOOD)} -- this penalises distance."
    assert parse_sketch(fenced, task).terms == parse_sketch(inline, task).terms
    assert parse_sketch(inline, task).terms[0].expr == "norm(fingertip_pos - target_pos)"


def test_response_format_is_sent_and_keyed_in_the_cache(tmp_path):
    designer = StructuredDesigner(task_spec(ENV))
    with ScriptedOpenAIServer([json.dumps(GOOD), json.dumps(GOOD)]) as server:
        client = make_client(
            f"openai:scripted-model@{server.base_url}", cache=tmp_path / "c.sqlite"
        )
        messages = designer.initial_messages()
        [proposal] = designer.propose(client, messages, 1, temperature=1.0, max_tokens=512)
        client.chat(messages, n=1, temperature=1.0, max_tokens=512)  # free text: another key
        requests = list(server.requests)
    assert requests[0]["response_format"]["type"] == "json_schema"
    schema = requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["terms"]["items"]["required"] == [
        "name",
        "kind",
        "expr",
        "weight",
        "scale",
        "sign",
    ]
    assert len(requests) == 2 and requests[1]["response_format"] is None
    assert designer.program(proposal.text).source is not None
    assert "- fingertip_pos: a vector of shape (2,), m:" in messages[1]["content"]


def test_a_server_that_refuses_response_format_is_asked_for_free_text_once_and_for_all(tmp_path):
    designer = StructuredDesigner(task_spec(ENV))
    fenced = f"```json\n{json.dumps(GOOD)}\n```"
    with ScriptedOpenAIServer([fenced, fenced], structured_output=False) as server:
        client = make_client(f"openai:scripted-model@{server.base_url}", cache=None)
        messages = designer.initial_messages()
        [first] = designer.propose(client, messages, 1, temperature=1.0, max_tokens=512)
        [second] = designer.propose(client, messages, 1, temperature=0.5, max_tokens=512)
        requests = list(server.requests)
    # one 400, one retry without it, then never again
    assert [r["fault"] for r in requests] == ["response_format_refused", None, None]
    assert [r["response_format"] is None for r in requests] == [False, True, True]
    assert not client.structured_output
    program = designer.program(first.text)
    assert program.source is not None and "def compute_reward" in program.source
    assert designer.program(second.text).source == program.source


def test_a_422_on_response_format_falls_back_too_and_other_errors_do_not(tmp_path):
    designer = StructuredDesigner(task_spec(ENV))
    script = [Fault.status(422, message="Input should be 'text' or 'json_object'"), "{}"]
    with ScriptedOpenAIServer(script) as server:
        client = make_client(f"openai:scripted-model@{server.base_url}", cache=None)
        messages = designer.initial_messages()
        designer.propose(client, messages, 1, temperature=1.0, max_tokens=512)
        assert [r["response_format"] is None for r in server.requests] == [False, True]
    with ScriptedOpenAIServer([Fault.status(403)]) as server:
        client = make_client(f"openai:scripted-model@{server.base_url}", cache=None)
        with pytest.raises(LLMRequestError, match="permission denied"):
            designer.propose(client, messages, 1, temperature=1.0, max_tokens=512)
        assert client.structured_output and len(server.requests) == 1


# llama-cpp-python's server (0.3.x) answers a json_schema response_format like this: a 500
LLAMA_CPP_PYTHON_500 = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}"
)


def test_a_500_validation_error_on_response_format_falls_back_at_once_without_retries():
    designer = StructuredDesigner(task_spec(ENV))
    messages = designer.initial_messages()
    script = [Fault.status(500, message=LLAMA_CPP_PYTHON_500), "{}", "{}"]
    with ScriptedOpenAIServer(script) as server:
        client = make_client(f"openai:scripted-model@{server.base_url}", cache=None)
        designer.propose(client, messages, 1, temperature=1.0, max_tokens=512)
        designer.propose(client, messages, 1, temperature=0.5, max_tokens=512)
        # one refusal, not eight retried 500s; then free text from then on
        assert [r["response_format"] is None for r in server.requests] == [False, True, True]
    # the same body error on a request without response_format is the user's to fix: at once
    other = LLAMA_CPP_PYTHON_500.replace("'response_format', 'type'", "'messages', 0")
    with ScriptedOpenAIServer([Fault.status(500, message=other)]) as server:
        client = make_client(f"openai:scripted-model@{server.base_url}", cache=None)
        with pytest.raises(LLMRequestError, match="rejected the request body"):
            client.chat(messages, n=1, temperature=1.0, max_tokens=64)
        assert len(server.requests) == 1


# -- end to end: two iterations through the synthesis loop -------------------------------
@dataclass
class Search:
    path: Path
    requests: list[dict]
    config: SynthesisConfig
    server: ScriptedOpenAIServer


@pytest.fixture(scope="module")
def search(module_llm_cache, scripted_synthesis_config, tmp_path_factory) -> Iterator[Search]:
    script = [
        json.dumps(GOOD),
        json.dumps(SHARP),
        json.dumps(UNKNOWN_VARIABLE),
        json.dumps(BAD_SHAPE),
        MALFORMED,  # iteration 0: five LLM samples
        json.dumps(SHARP),
        json.dumps(GOOD),
        json.dumps(BAD_SHAPE),
        json.dumps(GOOD),  # iteration 1: four LLM samples and the crossover child
    ]
    with ScriptedOpenAIServer(script) as server:
        config = scripted_synthesis_config(
            server, designer="structured", iterations=2, samples=5, final_seeds=0, tune=False
        )  # tuning has its own tests (test_tuning.py): here the sketches alone
        run, _ = open_run(config, tmp_path_factory.mktemp("structured") / "run")
        Synthesis(config, run).run()
        yield Search(run.path, list(server.requests), config, server)


def test_sketch_rejections_are_recorded_with_their_codes(search):
    by_key = {(c.iteration, c.index): c for c in load_candidates(search.path)}
    assert by_key[(0, 0)].status == TRAINED and by_key[(0, 1)].status == TRAINED
    assert [(by_key[(0, i)].status, by_key[(0, i)].code) for i in (2, 3, 4)] == [
        (REJECTED, "SKETCH_VARIABLE"),
        (REJECTED, "SKETCH_SHAPE"),
        (REJECTED, "SKETCH_JSON"),
    ]
    result = json.loads((search.path / "iter_00" / "sample_02" / "result.json").read_text())
    assert "unknown variable 'goal_pos'" in result["message"]
    # the trained program is the compiled sketch, a plain .py file
    assert "def compute_reward" in (search.path / "iter_00/sample_00/reward.py").read_text()
    assert set(by_key[(0, 1)].components) == {"reach", "effort"}


def test_every_request_asked_for_the_sketch_schema(search):
    assert len(search.requests) == 2
    assert all(r["response_format"]["type"] == "json_schema" for r in search.requests)
    assert [r["n"] for r in search.requests] == [5, 4]  # the fifth of iteration 1 is crossover


def test_the_next_prompt_carries_the_errors_and_the_results(search):
    feedback = search.requests[1]["messages"][-1]["content"]
    assert "SKETCH_VARIABLE: terms[0] ('distance'): unknown variable 'goal_pos'" in feedback
    assert "SKETCH_SHAPE: terms[0] ('distance'): expr 'fingertip_pos - target_pos'" in feedback
    assert "SKETCH_JSON: the reply is not a JSON sketch" in feedback
    assert "success rate" in feedback and "Each term at checkpoints" in feedback
    assert search.requests[1]["messages"][-2]["role"] == "assistant"


def test_crossover_combines_the_terms_of_the_two_best_sketches(search):
    child = [c for c in load_candidates(search.path) if c.origin == "crossover"]
    assert len(child) == 1 and child[0].iteration == 1 and child[0].index == 4
    source = (search.path / "iter_01" / "sample_04" / "reward.py").read_text()
    names = [t["name"] for t in sketch_of_program(source)["terms"]]
    assert sorted(names) == ["distance", "effort", "reach"]
    assert child[0].status == TRAINED


def test_a_resumed_run_rebuilds_the_same_crossover_child_without_asking_again(search):
    sample = search.path / "iter_01" / "sample_04"
    before = (sample / "reward.py").read_text()
    for name in ("result.json", "reward.py"):
        (sample / name).unlink()
    (search.path / "final.json").unlink()
    asked = len(search.server.requests)
    run, resumed = open_run(search.config, search.path)
    assert resumed
    Synthesis(search.config, run).run()
    assert len(search.server.requests) == asked  # the LLM's replies came from the cache
    assert (sample / "reward.py").read_text() == before
    assert json.loads((sample / "result.json").read_text())["origin"] == "crossover"


def test_the_command_runs_the_structured_designer_on_a_server_without_structured_output(
    agentgym_cli, isolated_llm_cache, tmp_path
):
    usage = agentgym_cli("reward", "synthesize", "--help", env={"COLUMNS": "160"}, timeout=120)
    assert usage.returncode == 0 and "structured" in usage.stdout
    fenced = f"My sketch:\n```json\n{json.dumps(SHARP)}\n```"
    out = tmp_path / "run"
    with ScriptedOpenAIServer([fenced, MALFORMED], structured_output=False) as server:
        done = agentgym_cli(
            "reward", "synthesize", "--env", ENV, "--designer", "structured",
            "--llm", f"openai:scripted-model@{server.base_url}",
            "--iterations", "1", "--samples", "2", "--steps", "2048", "--num-envs", "4",
            "--eval-episodes", "2", "--final-seeds", "0", "--out", str(out), "--no-tune",
            env={"COLUMNS": "160"}, cwd=tmp_path, timeout=600,
        )  # fmt: skip
        faults = [r["fault"] for r in server.requests]
    assert done.returncode == 0, done.stderr
    assert faults == ["response_format_refused", None]  # asked again without it, once
    by_index = {c.index: c for c in load_candidates(out)}
    assert by_index[0].status == TRAINED and by_index[1].code == "SKETCH_JSON"
    best = (out / "best_reward.py").read_text()
    # a 0.1 m tolerance is flat on a random policy's states: the designer sets the scale
    # (calibration.py) and the program as the LLM wrote it stays beside it
    written = (out / "iter_00" / "sample_00" / "reward_llm.py").read_text()
    assert "REACH_SCALE = 0.1\n" in written and "REACH_SCALE = 0.1\n" not in best
    assert "reach's scale 0.1 ->" in best and "def compute_reward" in best


def test_a_variable_misspelt_one_edit_away_is_read_as_the_one_it_clearly_means():
    """What Qwen2.5-Coder-1.5B writes most (measured: most of its rejected sketches on
    Reach): finger_pos / fingerpos / Target_Pos for fingertip_pos / target_pos."""
    task = task_spec(ENV)
    misspelt = {"terms": [term("distance", "norm(finger_pos - Target_Pos)", sign=-1)]}
    right = {"terms": [term("distance", "norm(fingertip_pos - target_pos)", sign=-1)]}
    sketch = parse_sketch(json.dumps(misspelt), task)
    assert sketch.renamed == (("finger_pos", "fingertip_pos"), ("Target_Pos", "target_pos"))
    assert sketch.terms == parse_sketch(json.dumps(right), task).terms
    program = compile_sketch(sketch, task)
    assert "finger_pos -> fingertip_pos, Target_Pos -> target_pos" in program
    assert (
        program.split('"""')[2]
        == compile_sketch(parse_sketch(json.dumps(right), task), task).split('"""')[2]
    )


def test_state_dot_a_variable_is_read_as_the_variable():
    """Qwen2.5-Coder-1.5B wrote "abs(state.position - state.goal_position)" on MountainCar
    and kept it when asked to repair it: the program's spelling, not the sketch's."""
    task = task_spec(ENV)
    dotted = {"terms": [term("distance", "norm(state.fingertip_pos - state.target_pos)")]}
    misspelt = {"terms": [term("distance", "norm(state.finger_pos - target_pos)")]}
    right = {"terms": [term("distance", "norm(fingertip_pos - target_pos)")]}
    expected = parse_sketch(json.dumps(right), task).terms
    assert parse_sketch(json.dumps(dotted), task).terms == expected
    sketch = parse_sketch(json.dumps(misspelt), task)
    assert sketch.terms == expected
    assert "state.finger_pos -> finger_pos" in compile_sketch(sketch, task)
    with pytest.raises(SketchRejection) as err:  # an unknown name after "state." still is one
        parse_sketch(json.dumps({"terms": [term("d", "norm(state.goal_pos)")]}), task)
    assert str(err.value.code) == "SKETCH_VARIABLE" and "goal_pos" in err.value.message
    with pytest.raises(SketchRejection) as err:  # other attributes are not the language
        parse_sketch(json.dumps({"terms": [term("d", "torch.norm(target_pos)")]}), task)
    assert "attributes such as" in err.value.message or "unknown function" in err.value.message


@pytest.mark.parametrize("name", ["goal_pos", "tip_pos", "dist", "joint"])
def test_a_name_with_no_single_close_variable_is_still_rejected(name):
    # "joint" is as close to joint_pos as to joint_vel: guessing would be a silent choice
    with pytest.raises(SketchRejection) as err:
        parse_sketch(json.dumps({"terms": [term("x", f"sum({name})")]}), task_spec(ENV))
    assert err.value.code == "SKETCH_VARIABLE"
    assert f"unknown variable '{name}'" in err.value.message


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # a scalar is a vector of one value (what the 1.5B model wrote on HalfCheetah, Hopper)
        ("mean(forward_velocity)", lambda s, a: s["forward_velocity"]),
        ("sum(abs(forward_velocity))", lambda s, a: s["forward_velocity"].abs()),
        ("norm(forward_velocity)", lambda s, a: s["forward_velocity"].abs()),
        # slices with constant bounds select components
        ("sum(square(action[0:3]))", lambda s, a: (a[:, :3] ** 2).sum(-1)),
        ("norm(joint_pos[1:])", lambda s, a: s["joint_pos"][:, 1:].norm(dim=-1)),
    ],
)
def test_scalar_reductions_and_slices_mean_what_they_say(expr, expected):
    import torch

    from agentgym.reward_designers.structured.expressions import ExpressionChecker

    typed = ExpressionChecker(task_spec("agentgym/HalfCheetah-v0")).check(expr)
    assert typed.shape == ()
    gen = torch.Generator().manual_seed(0)
    state = {
        "forward_velocity": torch.randn(5, generator=gen),
        "joint_pos": torch.randn(5, 6, generator=gen),
    }
    action = torch.randn(5, 6, generator=gen)
    value = eval(typed.code, {"torch": torch, "state": state, "action": action})  # our own code
    torch.testing.assert_close(value, expected(state, action))


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("joint_pos[0:6:2]", "no step"),
        ("joint_pos[9:12]", "selects no component"),
        ("forward_velocity[2:4]", "slices a scalar, which is one value"),
    ],
)
def test_a_bad_slice_is_rejected_saying_why(expr, fragment):
    from agentgym.reward_designers.structured.expressions import ExpressionChecker, ExpressionError

    with pytest.raises(ExpressionError) as err:
        ExpressionChecker(task_spec("agentgym/HalfCheetah-v0")).check(f"sum({expr})")
    assert fragment in err.value.message


# -- a repair asks for the sketch back, not for Python ----------------------------------------
def test_a_repair_shows_the_sketch_and_asks_for_corrected_json_under_the_schema(
    isolated_llm_cache, scripted_synthesis_config, tmp_path
):
    constant = {"terms": [term("alive", "1")]}
    with ScriptedOpenAIServer([json.dumps(constant), json.dumps(GOOD)]) as server:
        config = scripted_synthesis_config(
            server,
            designer="structured",
            iterations=1,
            samples=1,
            final_seeds=0,
            tune=False,
            repairs=1,
            trajectory_filter=False,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    assert len(requests) == 2
    repair = requests[1]
    assert repair["response_format"]["type"] == "json_schema"  # the schema, as every sample
    shown = json.loads(repair["messages"][-2]["content"])  # the sketch itself, not its program
    assert [t["expr"] for t in shown["terms"]] == ["1"]
    ask = repair["messages"][-1]["content"]
    assert "rejected before training: CONSTANT" in ask and "JSON object only" in ask
    assert "```python" not in ask
    [candidate] = load_candidates(run.path)
    assert candidate.status == TRAINED, candidate.message
    assert candidate.repairs == 1
    trained = sketch_of_program((run.path / "iter_00/sample_00/reward.py").read_text())
    assert trained == parse_sketch(json.dumps(GOOD), task_spec(ENV)).to_dict()
