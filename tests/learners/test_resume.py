"""Checkpoints: a training process killed with SIGKILL at a random moment resumes to the
bit-identical result of an uninterrupted run (CPU)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from agentgym.learners.checkpoint import load_checkpoint
from agentgym.learners.logger import read_metrics
from agentgym.learners.ppo import PPO
from agentgym.testing.tiny import tiny_ppo_config

CONFIG = tiny_ppo_config(
    total_steps=8192, num_minibatches=4, update_epochs=4, checkpoint_every=512, seed=3
)

TRAIN = """
import sys
from pathlib import Path
from agentgym.learners.ppo.learner import PPO, PPOConfig
config = PPOConfig.from_dict(__import__("json").loads(sys.argv[1]))
run = Path(sys.argv[2])
agent = PPO.resume(run) if (run / "checkpoints" / "latest.pt").exists() else PPO(config, run)
agent.learn()
print(agent.parameters_digest())
"""


def _spawn(run: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", TRAIN, json.dumps(CONFIG.to_dict()), str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_at_a_random_moment_then_resume_is_bit_identical(tmp_path):
    reference = PPO(CONFIG, tmp_path / "reference")
    reference.learn()
    expected = reference.parameters_digest()
    reference.close()

    run = tmp_path / "killed"
    rng = random.Random()  # a different moment every run; printed on failure
    # Two kills, each a random delay after a randomly chosen checkpoint, and far enough
    # from the end that a fast machine cannot finish the run inside the delay.
    every = CONFIG.checkpoint_every
    targets = sorted(rng.sample(range(every, CONFIG.total_steps - 4 * every + 1, every), 2))
    kills = []
    for target in targets:
        proc = _spawn(run)
        latest = run / "checkpoints" / "latest.pt"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if latest.exists() and load_checkpoint(latest)["global_step"] >= target:
                break
            time.sleep(0.005)
        delay = rng.uniform(0.0, 0.1)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills.append((delay, load_checkpoint(latest)["global_step"]))
        else:
            proc.wait()
    assert kills, "the training process always finished before the kill; lower the delays"
    step_at_kill = kills[0][1]
    assert step_at_kill < CONFIG.total_steps, kills

    proc = _spawn(run)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1] == expected, f"kills (delay s, checkpoint step): {kills}"

    # The log of the resumed run has each step once, in order (rows past the checkpoint
    # that the killed process had written are dropped on resume).
    steps = [row["step"] for row in read_metrics(run) if "loss/policy" in row]
    assert (
        steps
        == sorted(set(steps))
        == [s for s in range(CONFIG.batch_size, CONFIG.total_steps + 1, CONFIG.batch_size)]
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Iterator[tuple[PPO, Path]]:
    """A learner trained for 512 steps and its checkpoint, alone in its folder."""
    agent = PPO(CONFIG.__class__(**{**CONFIG.to_dict(), "hidden_sizes": (32,), "total_steps": 512}))
    agent.learn()
    path = tmp_path_factory.mktemp("checkpoint") / "ckpt.pt"
    agent.save(path)
    yield agent, path
    agent.close()


def test_a_checkpoint_holds_only_tensors_and_plain_containers(saved):
    _, path = saved
    state = torch.load(path, weights_only=True)  # only tensors and plain containers inside
    assert state["global_step"] == 512 and state["config"]["hidden_sizes"] == [32]
    assert set(state["rng"]) == {"sampling", "torch"} and len(state["env_seeds"]) == CONFIG.num_envs


def test_a_loaded_checkpoint_restores_the_whole_learner(saved):
    agent, path = saved
    loaded = PPO.load(path)
    assert loaded.parameters_digest() == agent.parameters_digest()
    torch.testing.assert_close(loaded.obs_norm.rms.mean, agent.obs_norm.rms.mean, atol=0, rtol=0)
    torch.testing.assert_close(
        loaded.optimizer.exp_avg_sq, agent.optimizer.exp_avg_sq, atol=0, rtol=0
    )
    assert torch.equal(loaded.generators[0].get_state(), agent.generators[0].get_state())
    obs = torch.randn(1, 3, loaded.obs_dim)
    torch.testing.assert_close(loaded.net(obs)[0], agent.net(obs)[0], atol=1e-6, rtol=0)
    loaded.close()


def test_saving_leaves_no_temp_files_beside_the_checkpoint(saved):
    _, path = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["ckpt.pt"]


def test_resumed_log_drops_rows_past_the_checkpoint_and_torn_lines(tmp_path):
    from agentgym.learners.logger import RunLogger

    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [{"step": s, "loss/policy": 0.1} for s in (256, 512, 768)]
    text = (
        "".join(json.dumps(r) + "\n" for r in rows) + '{"step": 1024, "loss/pol'
    )  # killed mid-write
    (logs / "metrics.jsonl").write_text(text)
    logger = RunLogger(tmp_path, resume_step=512, tensorboard=False)
    logger.write({"step": 768, "loss/policy": 0.2})
    logger.close()
    assert [(r["step"], r["loss/policy"]) for r in read_metrics(tmp_path)] == [
        (256, 0.1),
        (512, 0.1),
        (768, 0.2),
    ]
