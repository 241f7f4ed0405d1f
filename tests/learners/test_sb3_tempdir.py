"""SB3 through our adapter leaves no ``SB3-*`` folder in the temp dir.

SB3's default logger (``stable_baselines3.common.logger.configure`` with no folder)
makes ``<tempdir>/SB3-<date-time>`` on every ``learn`` unless a logger was set; the
trainer sets one that writes into the run folder, so a run leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from stable_baselines3.common.logger import configure

from agentgym.learners.ppo import PPOConfig
from agentgym.learners.sb3 import resume_sb3_ppo, train_sb3_ppo


def _sb3_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("SB3-*")}


def test_training_and_resuming_through_the_adapter_make_no_sb3_temp_folder(
    reach_program, tmp_path, monkeypatch
):
    # A temp dir of this test's own, so that SB3 runs of other processes cannot show up.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    config = PPOConfig(
        reward=reach_program,  # through AgentgymRewardVecEnv
        num_envs=2,
        num_steps=16,
        num_minibatches=2,
        update_epochs=1,
        total_steps=64,
        checkpoint_every=32,
        eval_episodes=1,
        device="cpu",
        seed=1,
    )
    before = _sb3_folders()
    assert train_sb3_ppo(config, tmp_path / "run")["step"] == 64
    resumed = resume_sb3_ppo(dataclasses.replace(config, total_steps=96), tmp_path / "run")
    assert resumed["step"] == 96
    assert _sb3_folders() == before
    # SB3's default logger does write there, so the check above could have failed.
    configure(format_strings=[])
    assert len(_sb3_folders() - before) == 1
