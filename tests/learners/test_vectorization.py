"""Which vector env the learners step (``vectorization``) and the population's one batch.

``auto`` (the default) takes an env's native vector env when it has one; a learner's K
members step one vector env of K*N sub-envs, each member scoring its own rows; and none
of that changes what a member learns: native equals sync, a member in a population
equals the member alone, bit for bit on CPU.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import SyncVectorEnv

from agentgym.learners.ppo import PPO, Population, PPOConfig
from agentgym.learners.ppo.member_envs import MemberBatch, MemberEnvs
from agentgym.learners.rollout import Rollout
from agentgym.learners.sac import SAC, SACConfig, SACPopulation
from agentgym.reward_designers.library import program_path
from agentgym.testing.tiny import tiny_ppo_config
from agentgym.vector import NativeVectorEnv
from agentgym.wrappers import VectorRewardWrapper

BASE = tiny_ppo_config(total_steps=768, num_envs=4, num_steps=64, seed=3)  # 3 updates
SAC_BASE = SACConfig(
    env_id="agentgym/Reach-v0",
    total_steps=400,
    num_envs=2,
    learning_starts=100,
    batch_size=32,
    hidden_sizes=(32, 32),
    eval_episodes=0,
    checkpoint_every=0,
    device="cpu",
)


def _params(agent: PPO, k: int) -> torch.Tensor:
    return agent.net.flat.detach()[[k, agent.k + k]].clone()


def _trained(config: PPOConfig) -> torch.Tensor:
    agent = PPO(config)
    agent.learn()
    agent.close()
    return _params(agent, 0)


# -- the default ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env_id", "expected"),
    [("agentgym/Reach-v0", NativeVectorEnv), ("agentgym/HalfCheetah-v0", NativeVectorEnv)],
)
def test_learners_default_to_the_native_vector_env(env_id, expected):
    ppo = PPO(dataclasses.replace(BASE, env_id=env_id))
    sac = SAC(dataclasses.replace(SAC_BASE, env_id=env_id))
    try:
        assert PPOConfig().vectorization == SACConfig().vectorization == "auto"
        assert isinstance(ppo.batch.envs, expected) and ppo.batch.mode == "vector_entry_point"
        assert isinstance(sac.batch.envs, expected) and sac.batch.mode == "vector_entry_point"
    finally:
        ppo.close()
        sac.close()


def test_auto_keeps_per_env_envs_for_envs_without_a_native_vector_env():
    # CartPole-v1's vector_entry_point is Gymnasium's CartPoleVectorEnv, which seeds all
    # sub-envs from one generator: not a NativeVectorEnv, so auto keeps per-env envs.
    agent = PPO(dataclasses.replace(BASE, env_id="CartPole-v1"))
    try:
        assert isinstance(agent.batch.envs, SyncVectorEnv) and agent.batch.mode == "sync"
    finally:
        agent.close()


def test_native_without_a_native_vector_env_names_the_field():
    with pytest.raises(ValueError, match=r"PPOConfig.vectorization: 'native', but 'CartPole-v1'"):
        PPO(dataclasses.replace(BASE, env_id="CartPole-v1", vectorization="native"))
    with pytest.raises(ValueError, match=r"SACConfig.vectorization: 'native', but 'Pendulum-v1'"):
        SAC(dataclasses.replace(SAC_BASE, env_id="Pendulum-v1", vectorization="native"))
    with pytest.raises(ValueError, match=r"PPOConfig.vectorization: .*Did you mean 'native'"):
        PPOConfig(vectorization="natve")


# -- native equals sync ----------------------------------------------------------------
@pytest.mark.parametrize("reward", ["env", "reach"])
def test_ppo_on_native_trains_as_on_sync(reward, reach_program):
    """Three updates on Reach, with the env's reward and with the library's program (the
    reward model scores the native batch's state arrays): the same parameters, bitwise."""
    config = dataclasses.replace(BASE, reward="env" if reward == "env" else reach_program)
    native = _trained(dataclasses.replace(config, vectorization="native"))
    sync = _trained(dataclasses.replace(config, vectorization="sync"))
    assert torch.equal(native, sync)


def test_sac_on_native_trains_as_on_sync():
    digests = []
    for vectorization in ("native", "sync"):
        agent = SAC(dataclasses.replace(SAC_BASE, vectorization=vectorization))
        agent.learn()
        digests.append(agent.parameters_digest())
        agent.close()
    assert digests[0] == digests[1]


# -- a population on one batch -----------------------------------------------------------
def test_a_population_steps_one_vector_env_of_k_times_n(reach_program):
    pop = Population(BASE, ["env", reach_program, "sparse"], seeds=[3, 4, 5])
    try:
        assert isinstance(pop.batch.envs, NativeVectorEnv)
        assert pop.batch.envs.num_envs == 3 * BASE.num_envs
        assert not any(hasattr(member, "envs") for member in pop.members)  # no env of its own
    finally:
        pop.close()


@pytest.mark.parametrize("vectorization", ["native", "sync"])
def test_a_member_on_the_shared_batch_trains_as_the_member_alone(vectorization, reach_program):
    """Member 1 (the library program, seed 4) beside two others on one K*N batch ends
    with the parameters it has trained alone on N sub-envs, bitwise."""
    base = dataclasses.replace(BASE, vectorization=vectorization)
    pop = Population(base, ["env", reach_program, "sparse"], seeds=[3, 4, 5])
    pop.learn_all()
    pop.close()
    alone = _trained(dataclasses.replace(base, reward=reach_program, seed=4))
    assert torch.equal(_params(pop, 1), alone)


def test_a_sac_member_on_the_shared_batch_trains_as_the_member_alone(reach_program):
    pop = SACPopulation(SAC_BASE, ["sparse", reach_program], seeds=[7, 8])
    assert pop.batch.envs.num_envs == 2 * SAC_BASE.num_envs
    pop.learn_all()
    pop.close()
    alone = SAC(dataclasses.replace(SAC_BASE, reward=reach_program, seed=8))
    alone.learn()
    alone.close()
    assert pop.parameters_digest(1) == alone.parameters_digest()


def test_each_member_scores_its_rows_as_a_reward_wrapper_on_its_own_envs(reach_program):
    """Two members' programs on one native batch of 2*N give the rewards and terms that
    VectorRewardWrapper gives on each member's own per-env (sync) vector env, across
    autoresets (120 steps > Reach's 50)."""
    n = 3
    configs = [
        dataclasses.replace(BASE, num_envs=n, reward=reach_program, seed=0),
        dataclasses.replace(BASE, num_envs=n, reward="sparse", seed=10),
    ]
    members = [MemberEnvs(c, torch.device("cpu")) for c in configs]
    batch = MemberBatch(members, configs[0])
    alone = [
        VectorRewardWrapper(
            gym.make_vec("agentgym/Reach-v0", num_envs=n, vectorization_mode="sync"), c.reward
        )
        for c in configs
    ]
    try:
        assert isinstance(batch.envs, NativeVectorEnv)
        seeds = [[c.seed + i for i in range(n)] for c in configs]
        obs = batch.reset(seeds)
        for k, env in enumerate(alone):
            np.testing.assert_array_equal(obs[k], env.reset(seed=seeds[k])[0])
        valid = np.ones((2, n), dtype=bool)
        rng = np.random.default_rng(0)
        for _ in range(120):
            actions = rng.uniform(-1, 1, (2, n, 2)).astype(np.float32)
            steps = batch.step(actions, valid, [True, True])
            for k, env in enumerate(alone):
                obs_k, reward_k, term, trunc, info = env.step(actions[k])
                np.testing.assert_array_equal(steps.member(k).obs, obs_k)
                np.testing.assert_array_equal(steps.member(k).reward, reward_k.astype(np.float32))
                for name, value in info["reward_terms"].items():
                    np.testing.assert_array_equal(steps.member(k).info["reward_terms"][name], value)
                valid[k] = ~(term | trunc)
    finally:
        batch.close()
        for env in alone:
            env.close()


def test_the_members_statistics_equal_a_step_by_step_count_across_folds_and_a_stop():
    """MemberBatch logs each step's rows and folds them every LOG_STEPS steps: episode
    returns, lengths, success, the env's reward and the reward terms come out as a plain
    per-step count over each member's own MemberSteps gives them, across folds (200
    steps, 64 a fold), autoresets (Reach's 50-step episodes), a stats read mid-fold, a
    member stopped at step 90 (its later rows not counted) and two reward models' terms
    (the program's member stopped at step 150, mid-fold: its rows of that fold past the
    stop must not count what an earlier fold logged there)."""
    n, k_count = 4, 4
    # The library program's terms are dense (distance, control); sparse's mostly zero.
    rewards = ["env", "env", "sparse", str(program_path("Reach"))]
    configs = [
        dataclasses.replace(BASE, num_envs=n, reward=r, seed=k) for k, r in enumerate(rewards)
    ]
    members = [MemberEnvs(c, torch.device("cpu")) for c in configs]
    batch = MemberBatch(members, configs[0])
    expected = [{"finished": [], "reward": 0.0, "steps": 0, "terms": {}} for _ in range(k_count)]
    ret, length = np.zeros((k_count, n)), np.zeros((k_count, n), dtype=int)

    def check(k: int) -> None:
        got, want = batch.take_stats(k), expected[k]
        finished = want["finished"]
        assert got.get("episodes", 0.0) == len(finished)
        if finished:
            returns, lengths, successes = zip(*finished, strict=True)
            assert got["episode_return"] == pytest.approx(np.mean(returns), rel=1e-9)
            assert got["episode_length"] == pytest.approx(np.mean(lengths), rel=1e-12)
            assert got["success_rate"] == pytest.approx(np.mean(successes), rel=1e-12)
        assert got["env_reward"] == pytest.approx(want["reward"] / want["steps"], rel=1e-6)
        assert {key for key in got if key.startswith("reward_terms/")} == {
            f"reward_terms/{name}" for name in want["terms"]
        }
        for name, total in want["terms"].items():
            assert got[f"reward_terms/{name}"] == pytest.approx(total / want["steps"], abs=1e-9)
        want.update(finished=[], reward=0.0, steps=0, terms={})

    try:
        batch.reset([[10 * k + i for i in range(n)] for k in range(k_count)])
        valid = np.ones((k_count, n), dtype=bool)
        alive = [True] * k_count
        rng = np.random.default_rng(1)
        episodes = 0
        for t in range(200):
            if t == 90:
                alive[1] = False
            if t == 150:
                alive[3] = False  # the reward model's member: its later rows log no terms
            actions = rng.uniform(-1, 1, (k_count, n, 2)).astype(np.float32)
            steps = batch.step(actions, valid, alive)
            for k in range(k_count):
                if not alive[k]:
                    assert steps.member(k) is None
                    continue
                step, want = steps.member(k), expected[k]
                counted = valid[k]
                ret[k] += np.where(counted, step.env_reward, 0.0)
                length[k] += counted
                want["reward"] += float(np.where(counted, step.env_reward, 0.0).sum())
                want["steps"] += int(counted.sum())
                terms = step.info.get("reward_terms", {})  # none if all rows autoreset
                for name, values in terms.items():
                    if not name.startswith("_"):
                        mask = counted & terms.get(f"_{name}", True)
                        want["terms"][name] = want["terms"].get(name, 0.0) + float(
                            np.asarray(values, dtype=np.float64)[mask].sum()
                        )
                for i in np.flatnonzero(step.terminated | step.truncated):
                    want["finished"].append((ret[k, i], length[k, i], float(step.success[i])))
                    ret[k, i], length[k, i] = 0.0, 0
                    episodes += 1
                valid[k] = ~(step.terminated | step.truncated)
            if t in (29, 130):
                check(0)  # mid-fold reads: the logged steps are folded first
        for k in range(k_count):
            check(k)
        assert episodes >= 3 * 6  # autoresets in every member's rows
    finally:
        batch.close()


# -- frames ---------------------------------------------------------------------------
class MeanBrightness:
    """A rollout reward that scores frames: each frame's mean pixel value in [0, 1]."""

    name = "mean_brightness"
    needs_frames = True

    def __init__(self) -> None:
        self.frame_shapes: list[tuple[int, ...]] = []

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        assert rollout.frames is not None
        self.frame_shapes.append(tuple(rollout.frames.shape))
        return {"reward": rollout.frames.float().mean(dim=(-3, -2, -1)) / 255.0}


def test_a_frame_reward_falls_back_to_per_env_envs_that_render():
    config = dataclasses.replace(
        BASE, total_steps=256, num_envs=2, num_steps=32, render_width=32, render_height=24
    )
    reward = MeanBrightness()
    agent = PPO(config, relabel=reward)
    try:
        # Native vector envs do not render: auto takes the per-env envs, and says so.
        assert isinstance(agent.batch.envs, SyncVectorEnv) and agent.batch.mode == "sync"
        agent.learn()
    finally:
        agent.close()
    assert reward.frame_shapes == [(32, 2, 24, 32, 3)] * 4
    with pytest.raises(ValueError, match=r"PPOConfig.vectorization: 'native'.*does not render"):
        PPO(dataclasses.replace(config, vectorization="native"), relabel=MeanBrightness())


# -- failures --------------------------------------------------------------------------
class _Breaks(gym.Env):
    """Raises on its 10th step: a failure of the envs, not of any member's reward."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        if self.t == 10:
            raise RuntimeError("the simulator diverged")
        return np.zeros(2, np.float32), 0.0, False, False, {}


gym.register("agentgym-test/Breaks-v0", _Breaks, max_episode_steps=100)


def test_an_exception_of_the_shared_envs_stops_every_member():
    config = dataclasses.replace(BASE, env_id="agentgym-test/Breaks-v0", num_envs=2)
    pop = Population(config, ["env", "env"], seeds=[0, 1])
    results = pop.learn_all()
    pop.close()
    assert [r["status"] for r in results] == ["ERROR", "ERROR"]
    assert all("the simulator diverged" in r["error"] for r in results)
    single = PPO(config)
    try:
        with pytest.raises(RuntimeError, match="the simulator diverged"):
            single.learn()  # a single learner raises it
    finally:
        single.close()
