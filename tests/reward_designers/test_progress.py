"""SPA's progress estimator and step rewards on real household-world trajectories."""

from __future__ import annotations

import random
import zlib

import gymnasium as gym
import pytest
import torch

from agentgym.learners.checkpoint import load_checkpoint, save_checkpoint
from agentgym.learners.rollout import Rollout
from agentgym.reward_designers.progress import (
    Episode,
    SPAConfig,
    SPAReward,
    leave_one_out_baseline,
    split_episodes,
)
from agentgym.rewards import RewardSpecError, parse_reward_spec
from agentgym.rewards.base import RewardError
from agentgym.text_env import observation_text

ENV = "agentgym/Household-PickPlace-v0"
DIM = 128


def bag_of_words(text: str, dim: int = DIM) -> torch.Tensor:
    """A hashed bag of words: observation features for a non-language policy."""
    v = torch.zeros(dim)
    for word in text.lower().replace(".", " ").replace(",", " ").split():
        v[zlib.crc32(word.encode()) % dim] += 1.0
    return v


def household_episodes(n: int, seed: int, max_steps: int = 20) -> list[Episode]:
    """Episodes of an expert that follows its plan with a per-episode probability and
    otherwise picks a random admissible or invalid command: successes and failures.
    Features of step t describe the observation after step t."""
    env = gym.make(ENV, max_episode_steps=max_steps)
    rng = random.Random(seed)
    expert = env.unwrapped.expert_action
    episodes = []
    for i in range(n):
        _, info = env.reset(seed=seed * 1000 + i)
        skill = rng.random()
        feats, ground = [], []
        while True:
            r = rng.random()
            if r < skill:
                action = expert()
            elif r < skill + (1 - skill) * 0.8:
                action = rng.choice(info["admissible_actions"])
            else:
                action = "fly to the moon"
            obs, _, terminated, truncated, info = env.step(action)
            feats.append(bag_of_words(observation_text(obs)))
            ground.append(float(info["action_valid"]))
            if terminated or truncated:
                break
        episodes.append(
            Episode(torch.stack(feats), torch.tensor(ground), float(info["success"]), i)
        )
    env.close()
    return episodes


def as_rollout(episodes: list[Episode]) -> Rollout:
    """Episodes as one rollout, one column each, padded with valid=False."""
    T, N = max(len(e.features) for e in episodes), len(episodes)
    obs = torch.zeros(T, N, DIM)
    z = lambda dtype=torch.float32: torch.zeros(T, N, dtype=dtype)  # noqa: E731
    ends, valid, success, ground, task = (
        z(torch.bool),
        z(torch.bool),
        z(torch.bool),
        z(),
        z(torch.long),
    )
    for n, e in enumerate(episodes):
        L = len(e.features)
        obs[:L, n], ground[:L, n], valid[:L, n], task[:L, n] = e.features, e.grounding, True, e.task
        ends[L - 1, n], success[L - 1, n] = True, bool(e.final_reward)
    return Rollout(
        obs=obs,
        actions=z(torch.long),
        logprobs=z(),
        values=z(),
        rewards=z(),
        terminations=ends,
        truncations=z(torch.bool),
        env_rewards=z(),
        success=success,
        reward_state={"last_action_valid": ground, "task_id": task},
        valid=valid,
    )


@pytest.fixture(scope="module")
def episodes() -> tuple[list[Episode], list[Episode]]:
    return household_episodes(160, seed=1), household_episodes(60, seed=2)


@pytest.mark.parametrize("body", ["mlp", pytest.param("gru", marks=pytest.mark.slow)])
def test_estimator_sums_match_held_out_final_rewards_better_than_a_constant(episodes, body):
    train, held_out = episodes
    rate = sum(e.final_reward for e in train) / len(train)
    assert 0.2 < rate < 0.8, f"the trajectories must mix successes and failures, got {rate:.2f}"
    spa = SPAReward(SPAConfig(body=body, epochs=40, seed=0, device="cpu"))
    spa.add_episodes(train)
    spa.fit()
    scores = spa.evaluate(held_out)  # the constant is the training set's mean R
    assert scores["mse"] < 0.5 * scores["constant_mse"], scores


def test_with_beta_zero_each_episodes_rewards_sum_to_its_final_reward(episodes):
    train, held_out = episodes
    spa = SPAReward(
        SPAConfig(beta=0.0, residual="uniform", epochs=20, device="cpu", min_episodes=8)
    )
    spa.add_episodes(train)
    spa.fit()
    rollout = as_rollout(held_out)
    out = spa.relabel(rollout)
    sums = (out["reward"] * rollout.valid).sum(0)
    finals = torch.tensor([e.final_reward for e in held_out])
    torch.testing.assert_close(sums, finals, atol=1e-5, rtol=0)
    assert (out["reward"][~rollout.valid] == 0).all()
    # The shape of the rewards comes from the estimator: not the same on every step.
    assert out["progress"][rollout.valid].std() > 1e-3


def test_raw_contributions_sum_close_to_the_final_reward_on_training_episodes(episodes):
    train, _ = episodes
    spa = SPAReward(SPAConfig(beta=0.0, residual="none", epochs=60, device="cpu"))
    spa.add_episodes(train)
    spa.fit()
    sums = torch.stack([c.sum() for c in spa.contributions(train)])
    finals = torch.tensor([e.final_reward for e in train])
    assert float((sums - finals).abs().mean()) < 0.25  # a constant predictor: ~0.5


def test_step_reward_is_alpha_progress_plus_beta_grounding(episodes):
    _, held_out = episodes
    spa = SPAReward(SPAConfig(alpha=2.0, beta=0.25, epochs=2, device="cpu"))
    spa.add_episodes(held_out)
    spa.fit()
    rollout = as_rollout(held_out[:5])
    out = spa.relabel(rollout)
    for n, (e, c) in enumerate(zip(held_out[:5], spa.contributions(held_out[:5]), strict=True)):
        L = len(e.features)
        torch.testing.assert_close(out["reward"][:L, n], 2.0 * c + 0.25 * e.grounding)
        torch.testing.assert_close(out["grounding"][:L, n], 0.25 * e.grounding)


def test_released_variant_is_the_leave_one_out_advantage_plus_grounding_bonus():
    finals = torch.tensor([1.0, 0.0, 1.0, 0.7])
    # task 3 holds one rollout only: it keeps its own R, as SPA-RL's code does
    torch.testing.assert_close(
        leave_one_out_baseline(finals, [5, 5, 5, 3]), torch.tensor([0.5, -1.0, 0.5, 0.7])
    )
    eps = [
        Episode(torch.zeros(3, DIM), torch.tensor([1.0, 0.0, 0.0]), 1.0, 5),
        Episode(torch.zeros(2, DIM), torch.tensor([0.0, 1.0]), 0.0, 5),
        Episode(torch.zeros(2, DIM), torch.tensor([1.0, 1.0]), 1.0, 5),
    ]
    spa = SPAReward(SPAConfig(variant="released", device="cpu"))
    out = spa.relabel(as_rollout(eps))
    # R - mean of the others: 1 - 0.5, 0 - 1, 1 - 0.5; bonus 0.5 for valid steps and the last step
    torch.testing.assert_close(out["reward"][:, 0], torch.tensor([1.0, 0.5, 1.0]))
    torch.testing.assert_close(out["reward"][:2, 1], torch.tensor([-1.0, -0.5]))
    torch.testing.assert_close(out["reward"][:2, 2], torch.tensor([1.0, 1.0]))
    assert spa.trainings == 0  # the released variant uses no estimator


def test_split_episodes_skips_autoreset_steps_and_marks_cut_episodes():
    # env 0: an episode ends at t=1, t=2 is Gymnasium's autoreset step, the next runs to the end
    # env 1: one episode from the start, truncated at t=3, autoreset at t=4
    terms = torch.zeros(5, 2, dtype=torch.bool)
    truncs = torch.zeros(5, 2, dtype=torch.bool)
    valid = torch.ones(5, 2, dtype=torch.bool)
    terms[1, 0] = True
    valid[2, 0] = False
    truncs[3, 1] = True
    valid[4, 1] = False
    segs = split_episodes(terms, truncs, valid)
    assert [(s.env, s.start, s.stop, s.finished) for s in segs] == [
        (0, 0, 2, True),
        (0, 3, 5, False),
        (1, 0, 4, True),
    ]


def test_estimator_retrains_online_on_every_rollout(episodes):
    train, _ = episodes
    spa = SPAReward(SPAConfig(epochs=2, min_episodes=8, retrain_every=1, device="cpu"))
    spa.relabel(as_rollout(train[:20]))
    first = [p.clone() for p in spa.estimator.parameters()]
    spa.relabel(as_rollout(train[20:40]))
    assert spa.trainings == 2 and len(spa.buffer) == 40
    assert any(
        not torch.equal(a, b) for a, b in zip(first, spa.estimator.parameters(), strict=True)
    )


def test_with_too_few_episodes_the_estimator_waits(episodes):
    _, held_out = episodes
    # with too few episodes the estimator waits (c = 0) instead of fitting noise
    late = SPAReward(SPAConfig(min_episodes=50, device="cpu"))
    out = late.relabel(as_rollout(held_out[:10]))
    assert late.trainings == 0 and float(out["progress"].abs().sum()) == 0.0


def test_checkpoint_round_trip_keeps_predictions(tmp_path, episodes):
    train, held_out = episodes
    spa = SPAReward(SPAConfig(epochs=3, device="cpu"))
    spa.add_episodes(train[:30])
    spa.fit()
    save_checkpoint({"spa": spa.state_dict()}, tmp_path / "spa.pt")
    again = SPAReward(SPAConfig(epochs=3, device="cpu"))
    again.load_state_dict(load_checkpoint(tmp_path / "spa.pt")["spa"])  # weights_only load
    for a, b in zip(spa.contributions(held_out), again.contributions(held_out), strict=True):
        torch.testing.assert_close(a, b)
    assert len(again.buffer) == 30 and again.trainings == 1


def test_spa_reward_spec_parses():
    model = parse_reward_spec("spa:alpha=2;beta=0;body=gru;variant=released")
    assert isinstance(model, SPAReward)
    assert (model.config.alpha, model.config.beta, model.config.body) == (2.0, 0.0, "gru")
    assert isinstance(parse_reward_spec("spa:"), SPAReward)


def test_spa_reward_spec_names_bad_keys_and_values():
    with pytest.raises(RewardSpecError, match="Did you mean 'alpha'"):
        parse_reward_spec("spa:alpah=1")
    with pytest.raises(
        RewardSpecError, match="SPAConfig.body: expected one of mlp, gru, got 'lstm'"
    ):
        parse_reward_spec("spa:body=lstm")
    with pytest.raises(RewardSpecError, match="SPAConfig.beta: expected a float, got 'high'"):
        parse_reward_spec("spa:beta=high")


def test_spa_reward_refuses_a_per_step_call():
    model = parse_reward_spec("spa:alpha=2;beta=0;body=gru;variant=released")
    with pytest.raises(RewardError, match="needs whole rollouts"):
        model(None)


def test_ppo_learner_relabels_reach_rollouts_with_a_gru_estimator_over_observations(tmp_path):
    """The non-language path: agentgym's PPO hands SPA its rollouts (observation features,
    autoreset steps, episodes cut by the rollout's end) through the reward spec."""
    from agentgym.learners.logger import read_metrics
    from agentgym.learners.ppo import PPO
    from agentgym.testing.tiny import tiny_ppo_config

    config = tiny_ppo_config(
        env_id="agentgym/Reach-v0",
        reward="spa:body=gru;final_reward=return;min_episodes=2;epochs=3",
        update_epochs=1,
        seed=0,
    )
    agent = PPO(config, tmp_path)
    spa = agent.members[0].relabel
    assert isinstance(spa, SPAReward)
    agent.learn()
    agent.close()
    assert spa.trainings == 2 and spa.estimator.body == "gru"
    assert spa.estimator.norm.normalized_shape[0] == 10  # Reach's observation vector
    assert len(spa.buffer) == 8  # 4 envs x 2 rollouts, one 50-step episode each
    # the episodes cut by the first rollout's end are whole (13 + 37 steps) in the buffer
    assert all(len(e.features) == 50 for e in spa.buffer)
    rows = [r for r in read_metrics(tmp_path) if "reward_terms/progress" in r]
    assert len(rows) == 2 and all(r["reward_terms/grounding"] == pytest.approx(0.5) for r in rows)


def test_grounding_penalty_charges_invalid_steps_only():
    eps = [Episode(torch.zeros(3, DIM), torch.tensor([1.0, 0.0, 1.0]), 0.0, 0)]
    out = SPAReward(SPAConfig(beta=0.5, grounding="penalty", device="cpu")).relabel(as_rollout(eps))
    # no estimator yet (c = 0): the reward is -beta on the invalid step and 0 elsewhere
    torch.testing.assert_close(out["reward"][:, 0], torch.tensor([0.0, -0.5, 0.0]))
