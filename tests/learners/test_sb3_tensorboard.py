"""An SB3 run logs the TensorBoard scalars of agentgym's PPO, so the two overlay.

SB3's own logger used to write its tags (rollout/ep_rew_mean, train/value_loss, ...) and
nothing else to logs/tb: no success rate, reward terms or evaluation of the run's rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentgym.runs.training import start_training_run, train_run


def _tags(run_dir: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    for events in sorted((run_dir / "logs" / "tb").glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"])
    return tags


def _numeric_keys(run_dir: Path) -> set[str]:
    from agentgym.learners.logger import read_metrics

    return {
        key
        for row in read_metrics(run_dir)
        for key, value in row.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    } - {"step", "time"}


@pytest.fixture(scope="module")
def runs(reach_program, tmp_path_factory) -> dict[str, Path]:
    """A tiny run of agentgym's PPO and one of SB3's PPO, same settings and reward."""
    folders = {}
    for learner in ("ppo", "sb3-ppo"):
        run = start_training_run(
            learner=learner,
            values={
                "env_id": "agentgym/Reach-v0",
                "total_steps": 128,
                "num_envs": 2,
                "num_steps": 32,
                "num_minibatches": 2,
                "update_epochs": 2,
                "eval_every": 64,
                "eval_episodes": 1,
                "device": "cpu",
                "reward": reach_program,
            },
            out=tmp_path_factory.mktemp(learner) / "run",
        )
        final = train_run(run, report=False)
        assert final["step"] == 128
        folders[learner] = run.path
    return folders


def test_sb3_tensorboard_has_the_tags_of_agentgyms_ppo(runs):
    ours, sb3 = _tags(runs["ppo"]), _tags(runs["sb3-ppo"])
    for tag in (
        "episode_return",
        "success_rate",
        "reward_terms/distance",
        "reward_terms/control",
        "eval/success_rate",
        "eval/mean_return",
        "loss/policy",
    ):
        assert tag in ours and tag in sb3
    # SB3 clips the gradient norm but never reports it: the one tag it cannot give.
    assert sb3 == ours - {"grad_norm"}
    assert not any(t.startswith(("rollout/", "train/", "time/")) for t in sb3)  # SB3's own


def test_tensorboard_holds_every_number_of_the_metrics_rows(runs):
    for run_dir in runs.values():
        assert _tags(run_dir) == _numeric_keys(run_dir)


def test_sb3_rows_count_the_epochs_of_each_update(runs):
    from agentgym.learners.logger import read_metrics

    epochs = [r["epochs"] for r in read_metrics(runs["sb3-ppo"]) if "loss/policy" in r]
    assert epochs == [2.0, 2.0]  # update_epochs=2; two updates of 2 envs x 32 steps
