"""SAC: the losses in closed form, the replay buffer, truncation against termination,
the population against the single learner, bit-identical resume, the CLI, and (slow)
learning Pendulum."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from agentgym.config_fields import field_docs
from agentgym.learners import LEARNERS
from agentgym.learners.logger import read_metrics
from agentgym.learners.sac import (
    SAC,
    ReplayBuffer,
    SACConfig,
    SACPopulation,
    actor_loss,
    alpha_loss,
    critic_loss,
    critic_target,
    squashed_gaussian,
)
from agentgym.learners.sac.learner import final_observations
from agentgym.runs import RunDir

# Small networks and batches: the algorithm is the same, the tests run in seconds.
TINY = SACConfig(
    env_id="agentgym/Reach-v0",
    total_steps=600,
    num_envs=2,
    learning_starts=200,
    batch_size=32,
    hidden_sizes=(32, 32),
    eval_episodes=0,
    checkpoint_every=0,
    log_every=100,
    device="cpu",
    seed=3,
)


# -- losses in closed form ------------------------------------------------------------
def test_critic_target_bootstraps_on_truncation_and_not_on_termination():
    rewards = torch.tensor([[1.0, 2.0, -1.0]])
    terminated = torch.tensor([[0.0, 1.0, 0.0]])  # the first and last are truncated or mid-episode
    next_q1 = torch.tensor([[3.0, 5.0, -2.0]])
    next_q2 = torch.tensor([[4.0, 1.0, -3.0]])
    next_logp = torch.tensor([[-1.0, 0.5, 2.0]])
    alpha = torch.tensor([0.2])
    y = critic_target(rewards, terminated, next_q1, next_q2, next_logp, alpha, gamma=0.9)
    # y = r + gamma (1 - term) (min(Q1', Q2') - alpha logp')
    expected = [
        1.0 + 0.9 * (3.0 - 0.2 * -1.0),
        2.0,  # terminated: no bootstrap at all
        -1.0 + 0.9 * (-3.0 - 0.2 * 2.0),
    ]
    torch.testing.assert_close(y, torch.tensor([expected]))


def test_critic_actor_and_alpha_losses_in_closed_form():
    q1 = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    q2 = torch.tensor([[2.0, 0.0], [1.0, -1.0]])
    y = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    # 1/2 (mean (Q1 - y)^2 + mean (Q2 - y)^2), per member
    torch.testing.assert_close(
        critic_loss(q1, q2, y),
        torch.tensor([0.5 * ((1 + 1) / 2 + (4 + 1) / 2), 0.5 * ((1 + 1) / 2 + (0 + 4) / 2)]),
    )
    logp = torch.tensor([[-1.0, 1.0], [2.0, 0.0]])
    alpha = torch.tensor([0.5, 2.0])
    # mean(alpha logp - min(Q1, Q2))
    torch.testing.assert_close(
        actor_loss(logp, q1, q2, alpha),
        torch.tensor([((-0.5 - 1.0) + (0.5 - 0.0)) / 2, ((4.0 - 0.0) + (0.0 + 1.0)) / 2]),
    )
    log_alpha = torch.tensor([math.log(0.5), 0.0], requires_grad=True)
    loss = alpha_loss(log_alpha, logp, target_entropy=-2.0)
    # -mean(log alpha (logp + H)): the gradient on log alpha is -mean(logp + H)
    torch.testing.assert_close(
        loss, torch.tensor([-math.log(0.5) * ((-3.0 + -1.0) / 2), 0.0]), rtol=0, atol=1e-6
    )
    loss.sum().backward()
    torch.testing.assert_close(log_alpha.grad, torch.tensor([2.0, 1.0]))
    # A descent step raises alpha when the entropy -logp is below the target, lowers it above.
    for logp_value, direction in ((3.0, 1.0), (1.0, -1.0)):
        log_alpha = torch.zeros(1, requires_grad=True)
        alpha_loss(log_alpha, torch.full((1, 4), logp_value), -2.0).sum().backward()
        assert -log_alpha.grad.sign().item() == direction


def test_critic_layer_norm_normalises_each_hidden_layer_of_each_row():
    """``critic_layer_norm``: every hidden layer of every critic row is (h - mean) / sqrt(var
    + 1e-5) over its features before the ReLU, computed by hand here; the actor is untouched
    and no parameter is added."""
    from agentgym.learners.sac.networks import ActorCritics

    plain = ActorCritics(5, 2, (8, 4), [0, 1])
    normed = ActorCritics(5, 2, (8, 4), [0, 1], critic_layer_norm=True)
    assert [p.shape for p in plain.parameters()] == [p.shape for p in normed.parameters()]
    normed.load_state_dict(plain.state_dict())
    obs, actions = torch.randn(2, 3, 5), torch.rand(2, 3, 2) * 2 - 1
    x = torch.cat([obs, actions], -1)
    for member in range(2):
        for row in normed.critic_rows(member):
            h = x[member]
            layers = list(zip(normed.critic.weights, normed.critic.biases, strict=True))
            for j, (w, b) in enumerate(layers):
                h = h @ w[row] + b[row]
                if j < len(layers) - 1:
                    mean = h.mean(-1, keepdim=True)
                    var = ((h - mean) ** 2).mean(-1, keepdim=True)
                    h = torch.relu((h - mean) / torch.sqrt(var + 1e-5))
            q = normed.q_values(obs, actions)[0 if row < 2 else 1]  # Q1 rows, then Q2
            torch.testing.assert_close(q[member], h.squeeze(-1))
    assert not torch.allclose(normed.q_values(obs, actions)[0], plain.q_values(obs, actions)[0])
    torch.testing.assert_close(normed.policy(obs)[0], plain.policy(obs)[0])


def test_tanh_log_prob_correction_matches_a_direct_computation():
    gen = torch.Generator().manual_seed(0)
    mean = torch.randn(2, 64, 3, generator=gen, dtype=torch.float64) * 2
    log_std = torch.randn(2, 64, 3, generator=gen, dtype=torch.float64) * 0.5
    noise = torch.randn(2, 64, 3, generator=gen, dtype=torch.float64)
    sample = squashed_gaussian(mean, log_std, noise)
    u = mean + log_std.exp() * noise
    gaussian = torch.distributions.Normal(mean, log_std.exp()).log_prob(u).sum(-1)
    # log pi(a) = log N(u) - sum log |d tanh(u)/du| = log N(u) - sum log(1 - tanh(u)^2)
    direct = gaussian - torch.log(1 - torch.tanh(u) ** 2).sum(-1)
    torch.testing.assert_close(sample.action, torch.tanh(u))
    torch.testing.assert_close(sample.logp, direct)
    tanh_normal = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(mean, log_std.exp()),
        torch.distributions.transforms.TanhTransform(),
    )
    torch.testing.assert_close(sample.logp, tanh_normal.log_prob(torch.tanh(u)).sum(-1))
    # Far in the tails tanh(u) rounds to 1 and log(1 - tanh^2) would be -inf; ours stays finite.
    far = squashed_gaussian(torch.full((1, 1, 1), 30.0), torch.zeros(1, 1, 1), torch.zeros(1, 1, 1))
    assert torch.isfinite(far.logp).all()
    torch.testing.assert_close(
        far.logp, torch.tensor([[-0.5 * math.log(2 * math.pi) - 2 * (math.log(2) - 30.0)]])
    )


# -- replay buffer ---------------------------------------------------------------------
def _step(value: float, k: int = 1, n: int = 2) -> dict[str, torch.Tensor]:
    full = torch.full((k, n), value)
    return {
        "obs": full.unsqueeze(-1).expand(k, n, 3).clone(),
        "actions": full.unsqueeze(-1).expand(k, n, 2).clone(),
        "rewards": full.clone(),
        "next_obs": (full + 0.5).unsqueeze(-1).expand(k, n, 3).clone(),
        "terminations": torch.zeros(k, n),
    }


def test_replay_buffer_wraps_around_and_samples_shaped_batches():
    buf = ReplayBuffer(1, capacity=5, obs_dim=3, act_dim=2, device=torch.device("cpu"))
    for t in range(4):  # 8 transitions into 5 slots: the first three are overwritten
        buf.add(**_step(float(t)), keep=np.ones((1, 2), bool))
    assert buf.size.tolist() == [5] and buf.pos.tolist() == [3]
    # steps wrote slots (0, 1), (2, 3), (4, 0), (1, 2): step 0 and step 1's first row are gone
    assert buf.rewards[0, :5].tolist() == [2.0, 3.0, 3.0, 1.0, 2.0]
    torch.testing.assert_close(buf.next_obs[0, :5, 0], buf.obs[0, :5, 0] + 0.5)
    batch = buf.sample(7, [torch.Generator().manual_seed(0)])
    assert batch.obs.shape == (1, 7, 3) and batch.next_obs.shape == (1, 7, 3)
    assert batch.actions.shape == (1, 7, 2)
    assert batch.rewards.shape == (1, 7) and batch.terminations.shape == (1, 7)
    assert set(batch.rewards[0].tolist()) <= {1.0, 2.0, 3.0}  # never an overwritten step 0


def test_replay_members_are_independent():
    cpu = torch.device("cpu")
    pair = ReplayBuffer(2, capacity=8, obs_dim=3, act_dim=2, device=cpu)
    alone = ReplayBuffer(1, capacity=8, obs_dim=3, act_dim=2, device=cpu)
    keep_pair = np.array([[True, True], [True, False]])  # member 1 skips a row (a reset step)
    for t in range(3):
        data = _step(float(t), k=2)
        data["rewards"][1] += 100.0  # member 1's data is recognisable
        pair.add(**data, keep=keep_pair)
        alone.add(**_step(float(t)), keep=np.ones((1, 2), bool))
    assert pair.size.tolist() == [6, 3] and pair.pos.tolist() == [6, 3]
    assert pair.rewards[1, :3].tolist() == [100.0, 101.0, 102.0]  # the kept rows, in order
    batch = pair.sample(16, [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)])
    lone = alone.sample(16, [torch.Generator().manual_seed(1)])
    assert torch.equal(batch.rewards[0], lone.rewards[0])  # member 0 as if alone
    assert batch.rewards[1].min() >= 100.0  # member 1 only ever sees its own rows
    state = pair.member_state(1)
    restored = ReplayBuffer(1, capacity=8, obs_dim=3, act_dim=2, device=cpu)
    restored.load_member_states([state])
    assert restored.size.tolist() == [3]
    assert torch.equal(restored.rewards[0, :3], pair.rewards[1, :3])


# -- truncation and termination in the learner -----------------------------------------
class _Counter(gym.Env):
    """obs = [t]; terminates after ``terminate_at`` steps when it is set."""

    def __init__(self, terminate_at: int | None = None) -> None:
        self.observation_space = spaces.Box(-100.0, 100.0, (1,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.terminate_at = terminate_at
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([float(self.t)], np.float32), 1.0, terminated, False, {}


gym.register("agentgym-test/Truncates-v0", lambda: _Counter(None), max_episode_steps=3)
gym.register("agentgym-test/Terminates-v0", lambda: _Counter(3), max_episode_steps=100)


def _stored(env_id: str, steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    config = dataclasses.replace(
        TINY, env_id=env_id, num_envs=1, total_steps=steps, learning_starts=10_000
    )
    agent = SAC(config)
    agent.learn()
    n = int(agent.replay.size[0])
    obs, next_obs = agent.replay.obs[0, :n, 0], agent.replay.next_obs[0, :n, 0]
    terminations = agent.replay.terminations[0, :n]
    agent.close()
    return obs, next_obs, terminations


@pytest.mark.parametrize(
    ("env_id", "terminated"),
    [("agentgym-test/Truncates-v0", 0.0), ("agentgym-test/Terminates-v0", 1.0)],
)
def test_episode_ends_store_the_final_observation_and_only_termination_stops_bootstrap(
    env_id, terminated
):
    # 8 vector steps: two episodes of 3 steps, each followed by its autoreset step.
    obs, next_obs, terminations = _stored(env_id, 8)
    assert obs.tolist() == [0, 1, 2, 0, 1, 2]  # the autoreset steps are not transitions
    assert next_obs.tolist() == [1, 2, 3, 1, 2, 3]  # t = 3 is the final obs, not a reset one
    assert terminations.tolist() == [0, 0, terminated, 0, 0, terminated]


def test_same_step_autoreset_takes_the_final_observation_from_info():
    envs = gym.make_vec(
        "agentgym-test/Terminates-v0",
        num_envs=2,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
    )
    envs.reset(seed=[0, 1])
    for _ in range(2):
        envs.step(np.zeros((2, 1), np.float32))
    obs, _, terminated, _, info = envs.step(np.zeros((2, 1), np.float32))
    assert terminated.all() and obs[:, 0].tolist() == [0, 0]  # already reset
    assert final_observations(obs, info, AutoresetMode.SAME_STEP)[:, 0].tolist() == [3, 3]
    assert final_observations(obs, info, AutoresetMode.NEXT_STEP) is obs
    envs.close()


# -- population, resume ----------------------------------------------------------------
NAN_AFTER_A_WHILE = """
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    bad = state["joint_vel"].abs().sum(-1) > 3.0  # happens within a few steps of random actions
    return torch.where(bad, torch.full_like(d, float("nan")), -d), {"distance": -d}
"""


def test_population_of_one_is_the_single_learner_and_members_are_independent(tmp_path):
    single = SAC(TINY)
    single.learn()
    expected = single.parameters_digest()
    single.close()
    one = SACPopulation(TINY, ["env"], seeds=[TINY.seed])
    one.learn_all()
    assert one.parameters_digest(0) == expected  # bitwise
    one.close()
    program = tmp_path / "nan_reward.py"
    program.write_text(NAN_AFTER_A_WHILE)
    pop = SACPopulation(TINY, ["env", str(program), "env"], seeds=[TINY.seed, 4, 5])
    results = pop.learn_all()
    assert [r["status"] for r in results] == ["DONE", "NONFINITE", "DONE"]
    assert results[1]["step"] < TINY.total_steps
    # Member 0 trained bit for bit as the lone learner: nothing crossed over from the
    # member whose reward went NaN, nor from member 2.
    assert pop.parameters_digest(0) == expected
    assert all(torch.isfinite(p).all() for p in pop.nets.parameters())
    # The stopped member's checkpoint is its state at the stop, and its rows still hold
    # it: Adam's momentum did not move them after it stopped.
    stopped = pop.member_state(1)
    assert stopped["status"] == "NONFINITE"
    for now, then in zip(pop.nets.actor.member_rows([1]), stopped["actor"], strict=True):
        assert torch.equal(now, then)
    pop.close()
    alone = SAC(dataclasses.replace(TINY, seed=5))
    alone.learn()
    assert pop.parameters_digest(2) == alone.parameters_digest()
    alone.close()


@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
def test_resume_from_a_checkpoint_is_bit_identical(tmp_path, compile):
    config = dataclasses.replace(TINY, checkpoint_every=300, norm_obs=True, compile=compile)
    straight = SAC(config)
    straight.learn()
    expected = straight.parameters_digest()
    straight.close()

    first = SAC(config, tmp_path)
    first.learn(callback=lambda row: row["step"] < 300)  # stops at the checkpoint
    assert first.global_step == 300
    first.close()
    resumed = SAC.resume(tmp_path)
    assert int(resumed.replay.size[0]) > 0 and resumed.global_step == 300
    resumed.learn()
    assert resumed.parameters_digest() == expected
    resumed.close()
    steps = [row["step"] for row in read_metrics(tmp_path) if "loss/value" in row]
    assert steps == sorted(set(steps)) and steps[-1] == config.total_steps
    if compile:
        # The compiled step keeps its Adam moments in the optimisers' state, so the
        # checkpoint is an ordinary one that the eager learner continues.
        eager = SAC.load(tmp_path / "checkpoints" / "latest.pt")
        eager.configs[0] = dataclasses.replace(eager.config, compile=False, total_steps=700)
        state = eager.optimizers["critic"].member_state(0)
        assert state["step"] > 0
        eager.learn()
        assert eager.global_step == 700 and eager.parameters_digest() != expected
        eager.close()


def test_a_ppo_checkpoint_is_refused_by_name(tmp_path):
    from agentgym.learners.checkpoint import save_checkpoint

    save_checkpoint({"format": 1, "config": {}}, tmp_path / "checkpoints" / "latest.pt")
    with pytest.raises(ValueError, match="expected 'sac-1'"):
        SAC.resume(tmp_path)


# -- config and requests ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("batch_size", 0, "SACConfig.batch_size: expected a positive int, got 0"),
        ("tau", 0.0, "SACConfig.tau: expected a float in (0, 1]"),
        ("gamma", 1.5, "SACConfig.gamma: expected a float in [0, 1], got 1.5"),
        ("learning_starts", -1, "SACConfig.learning_starts: expected an int >= 0"),
        ("buffer_size", 1, "SACConfig.buffer_size: expected at least num_envs (2)"),
        ("vectorization", "asink", "Did you mean 'async'?"),
        ("hidden_sizes", (), "SACConfig.hidden_sizes"),
    ],
)
def test_config_errors_name_the_field(field, value, message):
    with pytest.raises(ValueError) as err:
        dataclasses.replace(TINY, **{field: value})
    assert message in str(err.value)


def test_every_config_field_has_a_docstring_and_round_trips():
    helps = field_docs(SACConfig)
    assert set(helps) == set(SACConfig.__dataclass_fields__)
    assert SACConfig.from_dict(TINY.to_dict()) == TINY
    with pytest.raises(ValueError, match="Did you mean 'batch_size'"):
        SACConfig.from_dict({"batch_sise": 3})


def test_check_request_names_the_action_space_of_a_discrete_env():
    cls = LEARNERS.get("sac")
    with pytest.raises(ValueError, match=r"SACConfig.env_id 'CartPole-v1'.*Discrete\(2\)"):
        cls.check_request(dataclasses.replace(TINY, env_id="CartPole-v1"), ["env"])
    cls.check_request(dataclasses.replace(TINY, env_id="Pendulum-v1"), ["env"])
    population = LEARNERS.get("sac-population")
    assert population.several_rewards and population.member_learner == "sac"


# -- the CLI ---------------------------------------------------------------------------
SMALL = ["--num-envs", "2", "--learning-starts", "100", "--batch-size", "32"]
SMALL += ["--hidden-sizes", "32", "32", "--eval-episodes", "2", "--log-every", "100"]


def test_train_sac_through_the_cli_writes_a_run_folder_and_a_report(agentgym_cli, tmp_path):
    out = tmp_path / "run"
    done = agentgym_cli(
        "train", "--learner", "sac", "--env", "agentgym/Reach-v0", "--steps", "300",
        *SMALL, "--no-video", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "report.html").is_file() and (out / "checkpoints" / "latest.pt").is_file()
    rows = read_metrics(out)
    keys = set().union(*rows)
    assert {
        "step",
        "steps_per_s",
        "episode_return",
        "episode_length",
        "success_rate",
        "env_reward",
        "loss/value",
        "loss/policy",
        "loss/alpha",
        "loss/entropy",
        "alpha",
        "eval/success_rate",
        "eval/mean_return",
    } <= keys
    report = (out / "report.html").read_text()
    assert "entropy coefficient (alpha)" in report and "value loss" in report


def test_sac_population_through_the_cli_trains_a_member_per_reward(agentgym_cli, tmp_path):
    reach = Path(__file__).resolve().parents[2] / "reward_designers" / "library" / "reach.py"
    out = tmp_path / "pop"
    done = agentgym_cli(
        "train", "--learner", "sac-population", "--reward", "env", "--reward", str(reach),
        "--seeds", "0", "1", "--steps", "200", *SMALL, "--no-video", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    members = sorted((out / "members").iterdir())
    assert [m.name for m in members] == ["00-env", "01-reach"]
    for member, reward, seed in zip(members, ["env", str(reach)], [0, 1], strict=True):
        run = RunDir.open(member)
        config = run.read_config()
        assert config["learner"] == "sac" and config["config"]["reward"] == reward
        assert config["config"]["seed"] == seed and run.read_manifest()["status"] == "done"
        assert (member / "checkpoints" / "latest.pt").is_file()
        assert read_metrics(member)[-1]["step"] == 200
    assert (out / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--learner", "sac", "--env", "CartPole-v1"], "SAC needs continuous actions"),
        (["--learner", "sac", "--num-steps", "8"], "--num-steps: not a setting of --learner sac"),
        (
            ["--learner", "ppo", "--tau", "0.01"],
            "--tau: not a setting of --learner ppo (it is of --learner sac | sac-population)",
        ),
        (["--learner", "sac", "--tau", "2"], "SACConfig.tau: expected a float in (0, 1]"),
    ],
)
def test_bad_requests_fail_before_a_run_folder_is_made(agentgym_cli, tmp_path, args, message):
    out = agentgym_cli("train", *args, cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in " ".join(out.stderr.split())
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


# -- learning (slow) -------------------------------------------------------------------
@pytest.mark.slow
def test_sac_learns_pendulum_within_20k_steps():
    config = SACConfig(
        env_id="Pendulum-v1",
        total_steps=20_000,
        eval_episodes=10,
        checkpoint_every=0,
        device="cpu",
        seed=0,
    )
    agent = SAC(config)
    result = agent.learn()
    agent.close()
    assert result["status"] == "DONE"
    assert result["eval/mean_return"] > -400, result


# -- the compiled gradient step ------------------------------------------------------
def _learner_parts(members: int, seed: int = 0, critic_layer_norm: bool = False):
    from agentgym.learners.sac.networks import ActorCritics
    from agentgym.learners.sac.optim import StackedAdam

    nets = ActorCritics(
        6, 2, (16, 16), [seed + m for m in range(members)], critic_layer_norm=critic_layer_norm
    )
    log_alpha = torch.zeros(members, requires_grad=True)
    k = members
    optimizers = {
        "actor": StackedAdam(nets.actor.parameters(), lambda m: [m], 1e-3),
        "critic": StackedAdam(nets.critic.parameters(), lambda m: [m, k + m], 1e-3),
        "alpha": StackedAdam([log_alpha], lambda m: [m], 1e-3),
    }
    return nets, optimizers, log_alpha


@pytest.mark.parametrize(
    "autotune, critic_layer_norm", [(True, False), (False, False), (True, True)]
)
def test_compiled_gradient_step_equals_the_eager_one(autotune, critic_layer_norm):
    """Ten steps of two members, the second with weight 0 (a stopped member): networks,
    targets, log alpha, Adam moments and statistics agree to float tolerance."""
    from agentgym.learners.sac.compiled import compiled_update
    from agentgym.learners.sac.replay import ReplayBatch
    from agentgym.learners.sac.update import sac_update

    k, b = 2, 32
    runs = []
    for update in (sac_update, compiled_update):
        nets, optimizers, log_alpha = _learner_parts(k, critic_layer_norm=critic_layer_norm)
        generators = [torch.Generator().manual_seed(10 + m) for m in range(k)]
        data = torch.Generator().manual_seed(99)
        stats = []
        for _ in range(10):
            batch = ReplayBatch(
                obs=torch.randn(k, b, 6, generator=data),
                actions=torch.rand(k, b, 2, generator=data) * 2 - 1,
                rewards=torch.randn(k, b, generator=data),
                next_obs=torch.randn(k, b, 6, generator=data),
                terminations=(torch.rand(k, b, generator=data) < 0.1).float(),
            )
            stats.append(
                update(
                    nets,
                    optimizers,
                    log_alpha,
                    batch,
                    gamma=0.99,
                    tau=0.05,
                    target_entropy=-2.0,
                    autotune=autotune,
                    weight=torch.tensor([1.0, 0.0]),
                    generators=generators,
                )
            )
        moments = [
            s["exp_avg_sq"] for opt in optimizers.values() for s in opt.optimizer.state.values()
        ]
        runs.append((list(nets.parameters()), log_alpha.detach().clone(), moments, stats))
    (p_eager, a_eager, m_eager, s_eager), (p_comp, a_comp, m_comp, s_comp) = runs
    for eager, compiled in zip(p_eager, p_comp, strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(a_comp, a_eager, rtol=1e-4, atol=1e-6)
    for eager, compiled in zip(m_eager, m_comp, strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-3, atol=1e-9)
    assert s_comp[-1].keys() == s_eager[-1].keys()
    for name in s_eager[-1]:
        torch.testing.assert_close(s_comp[-1][name], s_eager[-1][name], rtol=1e-4, atol=1e-5)
    # Only the training member's temperature moves, and only when it is tuned.
    assert (float(a_comp[0]) != 0.0) == autotune
    assert float(a_comp[1]) == 0.0


def test_replay_mb_is_what_a_full_checkpoint_holds_and_the_training_limits_make_room(tmp_path):
    """A SAC checkpoint holds each member's replay buffer (Humanoid at 200k steps: 0.57 GB
    a member, so 3 seeds overran the sandbox's 1 GB folder quota at the last checkpoint);
    ``replay_mb`` is its size and ``Limits.for_training`` makes room for it."""
    from agentgym.learners.checkpoint import load_checkpoint, replay_mb
    from agentgym.sandbox import Limits

    config = dataclasses.replace(TINY, checkpoint_every=600)
    agent = SAC(config, tmp_path)
    agent.learn()
    agent.close()
    state = load_checkpoint(tmp_path / "checkpoints" / "latest.pt")
    held = sum(v.numel() * v.element_size() for v in state["replay"].values() if torch.is_tensor(v))
    full = config.replay_bytes(agent.obs_dim, agent.act_dim)
    # 590 of 600 slots filled (autoreset steps are not transitions): the bytes per row match
    assert held == state["replay"]["size"] * (full // config.capacity) and 0.9 * full < held <= full
    big = {"total_steps": 2_000_000, "buffer_size": 1_000_000}
    mb = replay_mb("sac", "agentgym/Reach-v0", big)
    assert mb == -(
        -dataclasses.replace(TINY, **big).replay_bytes(agent.obs_dim, agent.act_dim) // 2**20
    )
    assert replay_mb("ppo", "agentgym/Reach-v0", {}) == 0
    limits = Limits.for_training(mb, 3, threads=1)
    # Two checkpoints a member (the new one is written beside the old), one per file.
    assert limits.disk_mb >= Limits.disk_mb + 6 * mb and limits.file_size_mb >= mb
    assert limits.memory_mb >= Limits.for_training().memory_mb + 3 * mb
