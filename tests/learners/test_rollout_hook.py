"""The rollout-level reward hook, run folder logs, evaluation videos, config errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from agentgym.learners.logger import read_metrics
from agentgym.learners.ppo import PPO, PPOConfig
from agentgym.learners.rollout import Rollout, RolloutRewardModel
from agentgym.rewards import REWARD_KINDS
from agentgym.testing.tiny import tiny_ppo_config

# 64 steps a rollout cross the end of Reach's 50-step episodes and an autoreset step.
BASE = tiny_ppo_config(num_steps=64, seed=1)


class SuccessRelabel:
    """Rewards the success flag over the whole rollout; remembers what it saw."""

    name = "success-relabel"
    needs_frames = False

    def __init__(self, reward_scale: float = 1.0, needs_frames: bool = False) -> None:
        self.scale = reward_scale
        self.needs_frames = needs_frames
        self.seen: list[Rollout] = []

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        self.seen.append(rollout)
        reward = rollout.success.float() * self.scale
        return {"reward": reward, "success_bonus": reward}


@pytest.fixture(scope="module")
def relabelled(tmp_path_factory) -> tuple[SuccessRelabel, Path]:
    """A SuccessRelabel hook after a whole PPO run on it, and the run's folder."""
    run_dir = tmp_path_factory.mktemp("relabelled")
    model = SuccessRelabel()
    agent = PPO(BASE, run_dir, relabel=model)
    agent.learn()
    agent.close()
    return model, run_dir


def test_a_relabel_class_keeps_the_rollout_reward_model_protocol():
    assert isinstance(SuccessRelabel(), RolloutRewardModel)


def test_the_hook_gets_every_rollout_once(relabelled):
    model, _ = relabelled
    assert len(model.seen) == BASE.total_steps // BASE.batch_size


def test_the_rollout_holds_every_per_step_tensor_and_the_reward_state(relabelled):
    model, _ = relabelled
    r = model.seen[0]
    t, n = BASE.num_steps, BASE.num_envs
    assert r.obs.shape == (t, n, 10) and r.actions.shape == (t, n, 2)
    for name in (
        "logprobs",
        "values",
        "rewards",
        "env_rewards",
        "terminations",
        "truncations",
        "success",
        "valid",
    ):
        assert getattr(r, name).shape == (t, n), name
    assert r.frames is None
    assert set(r.reward_state) == {"fingertip_pos", "target_pos", "joint_pos", "joint_vel"}
    assert r.reward_state["target_pos"].shape == (t, n, 2)


def test_the_rollout_marks_the_truncation_and_the_autoreset_step(relabelled):
    r = relabelled[0].seen[0]
    # Reach episodes are 50 steps: step 49 truncates, step 50 is an autoreset step.
    assert r.truncations[49].all() and not r.valid[50].any() and r.valid[:50].all()


def test_the_rollout_env_rewards_are_the_envs_own(relabelled):
    r = relabelled[0].seen[0]
    # The per-step reward (the env's, no wrapper) equals -distance - control.
    tip_to_target = r.reward_state["fingertip_pos"] - r.reward_state["target_pos"]
    distance = torch.linalg.vector_norm(tip_to_target, dim=-1)
    assert torch.all(r.env_rewards[r.valid] <= -distance[r.valid] + 1e-5)


def test_the_hooks_reward_terms_are_logged(relabelled):
    model, run_dir = relabelled
    rows = [row for row in read_metrics(run_dir) if "loss/policy" in row]
    expected = float(
        torch.stack([(x.success & x.valid).float().sum() / x.valid.sum() for x in model.seen[-1:]])[
            0
        ]
    )
    assert rows[-1]["reward_terms/success_bonus"] == pytest.approx(expected, abs=1e-6)


def test_the_learner_trains_on_the_relabelled_reward_so_a_nan_stops_the_run():
    class NanRelabel(SuccessRelabel):
        def relabel(self, rollout):
            return {"reward": torch.full_like(rollout.rewards, float("nan"))}

    agent = PPO(BASE, relabel=NanRelabel())
    result = agent.learn()
    agent.close()
    assert result["status"] == "NONFINITE" and result["step"] == BASE.num_envs


def test_a_reward_spec_with_relabel_becomes_the_rollout_hook_and_gets_frames():
    made = []

    def factory(args: str, spec):
        model = SuccessRelabel(reward_scale=float(args), needs_frames=True)
        made.append(model)
        return model

    kind = f"test-relabel-{id(made)}"
    REWARD_KINDS.register(kind, factory)
    config = dataclasses.replace(
        BASE, reward=f"{kind}:2.0", total_steps=256, num_steps=64, render_width=48, render_height=40
    )
    agent = PPO(config)
    agent.learn()
    agent.close()
    (model,) = made
    (rollout,) = model.seen
    assert rollout.frames.shape == (64, 4, 40, 48, 3) and rollout.frames.dtype == torch.uint8
    assert rollout.frames.float().std() > 0  # real rendered images, not blanks


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory) -> tuple[Path, dict]:
    """A 512-step run evaluated (2 episodes, with video) and checkpointed every 256
    steps: (its folder, the final row)."""
    run_dir = tmp_path_factory.mktemp("evaluated")
    config = dataclasses.replace(
        BASE,
        total_steps=512,
        eval_every=256,
        eval_episodes=2,
        video=True,
        render_width=64,
        render_height=64,
        checkpoint_every=256,
    )
    agent = PPO(config, run_dir)
    final = agent.learn()
    agent.close()
    return run_dir, final


def test_a_training_and_an_evaluation_row_every_256_steps(evaluated_run):
    run_dir, final = evaluated_run
    rows = read_metrics(run_dir)
    train = [r for r in rows if "loss/policy" in r]
    evals = [r for r in rows if "eval/success_rate" in r]
    assert [r["step"] for r in train] == [256, 512] and [r["step"] for r in evals] == [256, 512]
    assert final["eval/success_rate"] == evals[-1]["eval/success_rate"]


def test_training_rows_have_every_documented_key(evaluated_run, training_row_keys):
    train = [r for r in read_metrics(evaluated_run[0]) if "loss/policy" in r]
    assert training_row_keys - set(train[-1]) == set()


def test_the_env_reward_is_the_sum_of_its_logged_terms(evaluated_run):
    train = [r for r in read_metrics(evaluated_run[0]) if "loss/policy" in r]
    assert train[-1]["env_reward"] == pytest.approx(
        train[-1]["reward_terms/distance"] + train[-1]["reward_terms/control"], abs=1e-6
    )


def test_each_evaluation_writes_a_video_of_a_whole_episode(evaluated_run):
    import imageio.v3 as iio

    run_dir, _ = evaluated_run
    evals = [r for r in read_metrics(run_dir) if "eval/success_rate" in r]
    for row in evals:
        video = run_dir / row["eval/video"]
        assert (
            video.is_file()
            and video.stat().st_size > 1000
            and video.name == f"eval_{row['step']}.mp4"
        )
    frames = iio.imread(run_dir / evals[0]["eval/video"])
    assert frames.shape[1:] == (64, 64, 3) and len(frames) == 51  # reset frame + 50 steps


def test_the_run_folder_gets_tensorboard_events_and_a_checkpoint(evaluated_run):
    run_dir, _ = evaluated_run
    assert any(
        p.name.startswith("events.out.tfevents") for p in (run_dir / "logs" / "tb").iterdir()
    )
    assert (run_dir / "checkpoints" / "latest.pt").is_file()


def test_cartpole_discrete_actions_and_no_success_flag():
    config = dataclasses.replace(BASE, env_id="CartPole-v1", eval_episodes=2)
    agent = PPO(config)
    result = agent.learn()
    assert "success_rate" not in result and "eval/success_rate" not in result
    assert result["eval/mean_length"] >= 8  # CartPole returns +1 per step
    assert result["eval/mean_return"] == result["eval/mean_length"]
    agent.close()


def test_async_vector_env_trains_like_sync():
    sync = PPO(dataclasses.replace(BASE, num_envs=2, num_minibatches=2, total_steps=256))
    sync.learn()
    asyn = PPO(
        dataclasses.replace(
            BASE, num_envs=2, num_minibatches=2, total_steps=256, vectorization="async"
        )
    )
    asyn.learn()
    assert asyn.parameters_digest() == sync.parameters_digest()
    sync.close()
    asyn.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vectorization", "asnyc", "Did you mean 'async'"),
        (
            "num_minibatches",
            3,
            r"PPOConfig.num_minibatches: expected a divisor of num_envs \* num_steps",
        ),
        ("device", "tpu", "PPOConfig.device"),
        ("gamma", 1.5, "PPOConfig.gamma"),
    ],
)
def test_config_errors_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        PPOConfig(**{field: value})


def test_unsupported_spaces_are_named():
    with pytest.raises(ValueError, match="Box observation space"):
        PPO(dataclasses.replace(BASE, env_id="FrozenLake-v1"))
