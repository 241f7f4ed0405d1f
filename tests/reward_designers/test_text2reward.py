"""Text2Reward rounds (few-shot, person or automatic feedback) and the trajectory analyser."""

from __future__ import annotations

import pytest

from agentgym.catalog import task_spec
from agentgym.registry import UnknownNameError
from agentgym.reward_designers.critique import parse_verdict
from agentgym.reward_designers.synthesis import DESIGNERS, Synthesis, make_designer, open_run
from agentgym.reward_designers.synthesis.candidates import TRAINED, Candidate, load_candidates
from agentgym.reward_designers.text2reward import auto_feedback
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P


def t2r_script(request):
    prompt = request["messages"][-1]["content"]
    if prompt.startswith("A policy trained with the reward function below failed"):
        return "The arm drifts past the target and never settles: the distance term is too weak near it."
    return P.GOOD if len(request["messages"]) == 2 else P.GOOD_TEMPERED


@pytest.fixture(scope="module")
def t2r(module_llm_cache, scripted_synthesis_config, tmp_path_factory):
    """Two Text2Reward rounds (two few-shot examples, the trajectory analyser, a person's
    feedback): (run folder, the requests, what the person was asked)."""
    work = tmp_path_factory.mktemp("t2r")
    asked = []

    def person(summary, source):
        asked.append((summary, source))
        return "The arm overshoots the target; make it slow down near it."

    with ScriptedOpenAIServer(t2r_script) as server:
        config = scripted_synthesis_config(
            server,
            designer="text2reward",
            few_shot=2,
            analyser=True,
            iterations=2,
            samples=1,
            eval_episodes=2,
            trace_episodes=2,
            final_seeds=0,
        )
        run, _ = open_run(config, work / "run")
        Synthesis(config, run, ask=person).run()
        requests = list(server.requests)
    return run.path, requests, asked


def test_the_first_prompt_shows_programs_of_other_tasks(t2r):
    _, requests, _ = t2r
    first = requests[0]["messages"][1]["content"]
    assert first.startswith("Here are reward functions written for other tasks")
    assert "fingertip_pos" in first.split("The environment")[1]
    own = P.GOOD.split("```python")[1]  # never the task's own library program
    assert "control = 0.01 * torch.sum(action * action, dim=-1)" not in first and own


def test_the_analyser_reads_the_trajectories_once(t2r):
    _, requests, _ = t2r
    analyser = [r for r in requests if r["messages"][-1]["content"].startswith("A policy trained")]
    assert (
        len(analyser) == 1 and "fingertip_pos at steps 0," in analyser[0]["messages"][-1]["content"]
    )


def test_the_next_round_carries_the_persons_feedback_and_the_analysis(t2r):
    _, requests, _ = t2r
    follow = [r for r in requests if len(r["messages"]) == 4][0]["messages"][3]["content"]
    assert "The arm overshoots the target; make it slow down near it." in follow
    assert "success rate 0%" in follow and "never settles" in follow


def test_the_person_is_asked_with_a_summary_of_the_round(t2r):
    _, _, asked = t2r
    assert asked and "success rate" in asked[0][0]


def test_both_rounds_train_their_program(t2r):
    path, _, _ = t2r
    assert [c.status for c in load_candidates(path)] == [TRAINED, TRAINED]


def test_auto_feedback_names_a_missed_success_and_a_constant_component():
    cand = Candidate(0, 0, TRAINED, success=0.0, mean_return=-3.0, episode_length=50)
    text = auto_feedback(
        cand, {"bonus": [1.0, 1.0, 1.0], "distance": [-0.5, -0.3, -0.01], "success_rate": [0, 0, 0]}
    )
    assert "almost never meets the success criterion" in text
    assert "'bonus' hardly changed" in text and "'distance' hardly" not in text


def test_auto_feedback_names_a_dominating_component_and_the_success_rate():
    text = auto_feedback(
        Candidate(0, 0, TRAINED, success=0.9), {"big": [100.0, 50.0], "small": [0.1, 0.5]}
    )
    assert "'big' is over ten times larger" in text and "90%" in text


def test_an_unknown_designer_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="Did you mean 'text2reward'"):
        DESIGNERS.get("text2rewrd")


def test_the_library_designer_proposes_the_tasks_own_program():
    task = task_spec("agentgym/Reach-v0")
    lib = make_designer("library", task)
    proposals = lib.propose(None, lib.initial_messages(), 3, temperature=0, max_tokens=1)
    assert proposals[0].origin == "library:reach.py" and len(proposals) == 3


def test_only_a_stated_reason_makes_a_critic_verdict_fail():
    assert parse_verdict("VERDICT: PASS").ok
    bad = parse_verdict("Looks odd.\nVERDICT: FAIL\n- sums over the batch\n- rewards effort")
    assert not bad.ok and bad.problems == "sums over the batch rewards effort"
    assert parse_verdict("no verdict line at all").ok  # only stated reasons may block a program


def test_a_truncated_reply_is_kept_when_its_program_is_complete():
    from agentgym.llm import Completion
    from agentgym.reward_designers.synthesis.loop import truncated_without_code

    rambling = Completion(
        P.GOOD + "\n\nThis reward works because the distance", finish_reason="length"
    )
    assert truncated_without_code(rambling) is None
    cut = Completion(
        "```python\ndef compute_reward(state, action):\n    d = (", finish_reason="length"
    )
    assert truncated_without_code(cut) == "TRUNCATED"
    assert truncated_without_code(Completion(P.NO_CODE, finish_reason="stop")) is None
