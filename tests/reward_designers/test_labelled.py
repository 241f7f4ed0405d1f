"""LLM-labelled rewards (issue #23): ONI's intrinsic reward and subgoal bonuses, with the
LLM's text scripted through the loopback OpenAI server and the real BabyAI-text env."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import agentgym  # noqa: F401  (registers the envs)
from agentgym.reward_designers.labelled import OniReward, SubgoalReward, parse_subgoals
from agentgym.rewards import RewardSpecError, make_input, parse_reward_spec, stack_one
from agentgym.rewards.episodic import per_env
from agentgym.rewards.metrics import reward_metrics
from agentgym.testing.openai_server import ScriptedOpenAIServer

GOTO = "agentgym/BabyAI-GoToLocal-v0"
PICKUP = "agentgym/BabyAI-Pickup-v0"


def llm(server: ScriptedOpenAIServer) -> str:
    return f"openai:scripted-model@{server.base_url};timeout=30"


def observed(prompt: str) -> str:
    """The caption inside a labelling prompt (progress_label.j2)."""
    return prompt.split("What the agent observes now:")[1].split("\n\nDoes")[0].strip()


def user_text(request: dict) -> str:
    return request["messages"][-1]["content"]


def batch_of(observation: str, mission: str = "go to the red ball"):
    state = {"observation": observation, "mission": mission}
    return make_input(stack_one(state), np.zeros(1), [0.0], {}, [False], None)


def random_captions(env_id: str, count: int, seed: int = 0) -> list[str]:
    """Distinct captions of a random walk through real BabyAI layouts."""
    env = gym.make(env_id)
    rng = np.random.default_rng(seed)
    seen: dict[str, None] = {}
    episode = 0
    _, info = env.reset(seed=seed)
    while len(seen) < count:
        obs, _, term, trunc, info = env.step(str(rng.choice(info["admissible_actions"])))
        seen.setdefault(obs["text"], None)
        if term or trunc:
            episode += 1
            _, info = env.reset(seed=seed + episode)
    env.close()
    return list(seen)[:count]


def test_a_slow_labeller_does_not_slow_stepping():
    # The server holds every request until the steps are done: a step that waited for
    # the labeller would get its answer only at the release, and labels_made would count it.
    release = threading.Event()

    def held(request: dict) -> str:
        release.wait(60)
        return "yes"

    with ScriptedOpenAIServer(held) as server:
        env = gym.make(GOTO, reward=f"sparse+oni:llm={llm(server)};cache=none;max_queue=2")
        model = env.unwrapped.reward_model
        try:
            rng = np.random.default_rng(0)
            _, info = env.reset(seed=0)
            start = time.perf_counter()
            for _ in range(60):
                _, _, term, trunc, info = env.step(str(rng.choice(info["admissible_actions"])))
                if term or trunc:
                    _, info = env.reset()
            elapsed = time.perf_counter() - start
            stats = reward_metrics(model)
        finally:
            release.set()
            env.close()
            model.parts[1][1].close()
    assert stats["oni/labels_made"] == 0  # 60 steps went by with every request unanswered
    assert elapsed < 20, elapsed  # ~0.5 s here; a step that blocked on the queue would not be
    assert stats["oni/dropped"] > 0  # a queue of 2 overflowed; nothing waited
    assert stats["oni/queue_depth"] <= 2


def _slow_no(request: dict) -> str:
    # Slower than the 15 steps below take, so none of them can read an answer yet (on an
    # idle machine an instant answer arrived mid-loop and the counts below raced).
    time.sleep(1.0)
    return "no"


def test_duplicate_captions_are_labelled_once():
    with ScriptedOpenAIServer(_slow_no) as server:
        oni = parse_reward_spec(f"oni:llm={llm(server)};cache=none")
        assert isinstance(oni, OniReward)
        for _ in range(5):
            for caption in ("You see a red ball.", "You see a wall.", "You see a red ball."):
                oni(batch_of(caption))
        assert oni.labeller.wait_idle(10)
        for _ in range(3):
            oni(batch_of("You see a wall."))
        oni.close()
        prompts = [user_text(r) for r in server.requests]
    assert sorted(observed(p) for p in prompts) == ["You see a red ball.", "You see a wall."]
    metrics = oni.metrics()
    assert metrics["oni/labels_made"] == 2
    stats = oni.labeller.stats
    # 15 steps before the answers: 2 questions, 13 repeats of a waiting one; the 3 steps
    # after them read the answer and ask nothing.
    assert (stats.submitted, stats.enqueued, stats.duplicates) == (15, 2, 13)


def test_the_classifier_reaches_a_planted_rules_accuracy():
    # The planted labeller: progress iff a door is in view. Real GoTo captions.
    def planted(request: dict) -> str:
        return "yes" if "door" in observed(user_text(request)) else "no"

    captions = random_captions("agentgym/BabyAI-GoTo-v0", 150)
    base_rate = np.mean(["door" in c for c in captions])
    assert 0.15 < base_rate < 0.85, base_rate  # both answers are common
    with ScriptedOpenAIServer(planted) as server:
        oni = parse_reward_spec(f"oni:llm={llm(server)};cache=none;max_queue=512;output=prob")
        for caption in captions:
            oni(batch_of(caption, "go to the red ball"))
        assert oni.labeller.wait_idle(60)
        oni.close()
    metrics = oni.metrics()
    assert metrics["oni/labels_made"] == len(captions)
    assert metrics["oni/held_out_labels"] == len(captions) // 5
    assert metrics["oni/classifier_accuracy"] >= 0.9
    assert metrics["oni/classifier_accuracy"] > max(base_rate, 1 - base_rate) + 0.05
    # The reward follows the rule on captions it was never asked about.
    door = oni(
        batch_of("Mission: go to the red ball.\nYou see a closed blue door 2 steps forward.")
    )
    wall = oni(batch_of("Mission: go to the red ball.\nYou see a grey key 1 step left."))
    assert float(door.reward[0]) > float(wall.reward[0])
    assert set(door.terms) == {"intrinsic"}


def _proposal(request: dict) -> str:
    text = user_text(request)
    goal = re.search(r"accomplish this goal: (.+)", text).group(1).strip()
    thing = goal.removeprefix("pick up ").removeprefix("the ").removeprefix("a ")
    return f"1. go to the {thing}\n2. pick up the {thing}\n3. dance a little"


def test_subgoal_bonuses_are_paid_once_per_subgoal_per_episode():
    with ScriptedOpenAIServer(_proposal) as server:
        env = gym.make(PICKUP, reward=f"sparse+subgoals:llm={llm(server)};cache=none;bonus=0.1")
        model = env.unwrapped.reward_model
        subgoals = model.parts[1][1]
        assert isinstance(subgoals, SubgoalReward) and subgoals.shared.judge is None  # rules
        for seed in (3, 4):
            env.reset(seed=seed)
            env.step("turn left")  # asks for the mission's proposal, without waiting
            assert subgoals.shared.labeller.wait_idle(10)
        paid_per_episode = []
        for seed in (3, 4):
            obs, _ = env.reset(seed=seed)
            bonuses, done, steps = [], False, 0
            while not done and steps < 200:
                obs, reward, term, trunc, info = env.step(env.unwrapped.expert_action())
                bonuses.append(info["reward_terms"]["subgoals/bonus"])
                done, steps = term or trunc, steps + 1
            assert info["success"], seed
            # go to X (several steps facing it) and pick up X: each paid on one step only.
            assert sorted(b for b in bonuses if b) == pytest.approx([0.1, 0.1]), bonuses
            assert bonuses[-1] == pytest.approx(0.1)  # the pick-up ends the episode
            paid_per_episode.append(sum(bonuses))
        env.close()
    assert paid_per_episode == pytest.approx([0.2, 0.2])
    metrics = reward_metrics(model)
    assert metrics["subgoals/proposals"] == 2  # one per mission, though 4 episodes ran
    assert metrics["subgoals/subgoals_unjudged"] == 2  # "dance a little" has no rule
    assert len(server.requests) == 2


def test_env_copies_share_proposals_but_not_episodes():
    with ScriptedOpenAIServer(_proposal) as server:
        model = parse_reward_spec(f"sparse+subgoals:llm={llm(server)};cache=none", None)
        copy = per_env(model)
        assert copy is not model and copy.parts[1][1].shared is model.parts[1][1].shared
        assert per_env(parse_reward_spec("sparse")).name == "sparse"


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("oni:llm=openai:m@http://127.0.0.1:9/v1;weight=-1", "OniConfig.weight"),
        ("oni:llm=openai:m@http://127.0.0.1:9/v1;output=soft", "OniConfig.output"),
        ("oni:llm=openai:m@http://127.0.0.1:9/v1;max_queue=0", "OniConfig.max_queue"),
        ("oni:llm=openai:m@http://127.0.0.1:9/v1;threshold=2", "OniConfig.threshold"),
        ("oni:llm=openai:m@http://127.0.0.1:9/v1;qeue=3", "has no field 'qeue'"),
        ("oni:llm=qwen", "OniConfig.llm"),
        ("oni:llm=openai:m@http://127.0.0.1:9/v1;retries=2", "unknown option 'retries'"),
        ("subgoals:llm=openai:m@http://127.0.0.1:9/v1;bonus=0.3", "SubgoalConfig.bonus"),
        ("subgoals:llm=openai:m@http://127.0.0.1:9/v1;judge=oracle", "SubgoalConfig.judge"),
        (
            "subgoals:llm=openai:m@http://127.0.0.1:9/v1;max_subgoals=x",
            "SubgoalConfig.max_subgoals",
        ),
    ],
)
def test_bad_options_are_named(spec, names):
    with pytest.raises(RewardSpecError, match=re.escape(names)):
        parse_reward_spec(spec)


def test_state_the_env_lacks_is_named():
    with pytest.raises(RewardSpecError, match="OniConfig.caption"):
        gym.make(GOTO, reward="oni:llm=openai:m@http://127.0.0.1:9/v1;caption=pixels")
    with pytest.raises(RewardSpecError, match="SubgoalConfig.judge"):
        gym.make(
            "agentgym/Reach-v0", reward="subgoals:llm=openai:m@http://127.0.0.1:9/v1;judge=rule"
        )


def test_proposals_parse_from_numbered_or_bulleted_lines():
    text = "1. go to the red key\n- pick up the red key.\n\n* open the red door\nstep 4: done"
    assert parse_subgoals(text, 3) == [
        "go to the red key",
        "pick up the red key",
        "open the red door",
    ]


def test_a_cached_label_is_answered_at_once_behind_a_slow_request(tmp_path):
    cache = tmp_path / "llm.sqlite"
    with ScriptedOpenAIServer(lambda request: "yes") as server:
        warm = parse_reward_spec(f"oni:llm={llm(server)};cache={cache}")
        warm(batch_of("You see a red ball."))
        assert warm.labeller.wait_idle(10)
        warm.close()

    arrived, release = threading.Event(), threading.Event()

    def held(request: dict) -> str:
        arrived.set()
        release.wait(60)
        return "no"

    with ScriptedOpenAIServer(held) as server:
        oni = parse_reward_spec(f"oni:llm={llm(server)};cache={cache}")
        try:
            oni(batch_of("You see a wall."))  # a miss: held at the server
            assert arrived.wait(30)
            oni(batch_of("You see a red ball."))  # a hit: not queued behind the miss
            assert oni.labeller.answer(text_key_of("You see a red ball.")) == "yes"
            assert oni.labeller.stats.cache_hits == 1
            assert oni.labeller.answer(text_key_of("You see a wall.")) is None  # still held
        finally:
            release.set()
        oni.labeller.wait_idle(10)
        oni.close()


def text_key_of(caption: str, mission: str = "go to the red ball") -> str:
    from agentgym.reward_designers.labelled import text_key

    return text_key(f"Goal: {mission}\n{caption}")


# -- proposals that copy the prompt's example ---------------------------------------------
REAL = json.loads((Path(__file__).parent / "qwen_subgoal_copies.json").read_text())
"""Qwen2.5-Coder-1.5B's real answers to the subgoal prompt of session 6 and of its fix."""
OLD_COPY = next(r["reply"] for r in REAL["replies"] if r["goal"] == "go to the red ball")
"""Its answer to the old prompt for "go to the red ball": the prompt's examples, verbatim."""


def old_prompt(tmp_path: Path):
    """A PromptBuilder whose subgoals.j2 is the old prompt (examples from the task's world)
    with today's second-ask paragraph, so the model's real copy can be replayed."""
    from agentgym.reward_designers.prompting import TEMPLATES, PromptBuilder

    second_ask = (TEMPLATES / "subgoals.j2").read_text().split("{% if copied %}")[1]
    folder = tmp_path / "old_templates"
    folder.mkdir()
    (folder / "subgoals.j2").write_text(REAL["old_template"] + "{% if copied %}" + second_ask)
    return PromptBuilder(folder)


def _copying(copy: str, own: str):
    """A server that answers each goal's first prompt with ``copy`` and its second ask
    (the one naming the copied phrases) with ``own``, {thing} being the goal's object."""

    def script(request: dict) -> str:
        text = user_text(request)
        goal = re.search(r"accomplish this goal: (.+)", text).group(1).strip()
        thing = goal.removeprefix("pick up ").removeprefix("the ").removeprefix("a ")
        return (own if "repeated text of this prompt" in text else copy).format(thing=thing)

    return script


def test_the_subgoal_prompt_is_a_format_description_the_model_did_not_copy():
    from agentgym.reward_designers.labelled.proposals import copied_phrases
    from agentgym.reward_designers.prompting import PromptBuilder

    for real in (r for r in REAL["replies"] if r["template"] == "format_only"):
        prompt = PromptBuilder().render("subgoals.j2", goal=real["goal"], max_subgoals=4, copied=[])
        assert prompt == real["prompt"]  # the measured prompt is the packaged one
        assert "such as" not in prompt and '"' not in prompt  # nothing quoted to copy
        assert copied_phrases(parse_subgoals(real["reply"], 4), prompt, real["goal"]) == []


def test_the_models_real_copies_of_the_old_prompts_examples_are_recognised():
    from agentgym.reward_designers.labelled.proposals import copied_phrases

    found = {}
    for old in (r for r in REAL["replies"] if r["template"] == "old"):
        phrases = parse_subgoals(old["reply"], 4)
        found[old["goal"]] = copied_phrases(phrases, old["prompt"], old["goal"])
        assert copied_phrases([old["goal"]], old["prompt"], old["goal"]) == []
    # "pick up the yellow key" is the goal's own, "go to the red door" is no example
    assert found["go to the yellow key"] == ["open the red door", "go to the blue ball"]
    assert found["go to the red ball"] == [
        "Pick up the red key",
        "Open the red door",
        "Go to the blue ball",
        "Take apple",
    ]


def test_a_proposal_copying_the_prompt_is_asked_again_once_and_the_answer_kept(tmp_path):
    cache = tmp_path / "llm.sqlite"
    prompts = old_prompt(tmp_path)
    own = "go to the {thing}\npick up the {thing}"
    with ScriptedOpenAIServer(_copying(OLD_COPY, own)) as server:
        env = gym.make(PICKUP, reward=f"sparse+subgoals:llm={llm(server)};cache={cache}")
        subgoals = env.unwrapped.reward_model.parts[1][1]
        subgoals.shared.proposer.prompts = prompts
        env.reset(seed=3)
        env.step("turn left")
        assert subgoals.shared.labeller.wait_idle(10)
        env.step("turn left")
        mission = next(iter(subgoals.shared.subgoals))
        requests = [user_text(r) for r in server.requests]
        env.close()
    assert len(requests) == 2 and "repeated text of this prompt" in requests[1]
    assert (
        "(Pick up the red key; Open the red door; Go to the blue ball; Take apple)" in (requests[1])
    )
    thing = mission.removeprefix("pick up ").removeprefix("the ").removeprefix("a ")
    kept = [phrase for phrase, _ in subgoals.shared.subgoals[mission]]
    assert kept == [f"go to the {thing}", f"pick up the {thing}"]
    metrics = reward_metrics(env.unwrapped.reward_model)
    assert metrics["subgoals/proposals_copied"] == 1
    assert metrics["subgoals/proposals_copied_again"] == 0
    # The same mission in a new run reads both answers from the cache: no request at all.
    with ScriptedOpenAIServer(_copying(OLD_COPY, "nothing")) as server:
        again = parse_reward_spec(f"subgoals:llm={llm(server)};cache={cache}", None)
        again.shared.proposer.prompts = prompts
        assert again.subgoals_of(mission) is not None
        assert [p for p, _ in again.shared.subgoals[mission]] == kept
        assert len(server.requests) == 0


def test_a_second_copy_is_dropped_and_counted(tmp_path):
    own_and_copy = "go to the {thing}\n" + OLD_COPY
    with ScriptedOpenAIServer(_copying(OLD_COPY, own_and_copy)) as server:
        model = parse_reward_spec(f"subgoals:llm={llm(server)};cache=none", None)
        model.shared.proposer.prompts = old_prompt(tmp_path)
        assert model.subgoals_of("pick up the red ball") is None  # asked, not waited for
        assert model.shared.labeller.wait_idle(10)
        pairs = model.subgoals_of("pick up the red ball")
        assert len(server.requests) == 2
    assert [p for p, _ in pairs] == ["go to the red ball"]
    assert model.metrics()["subgoals/proposals_copied_again"] == 1
