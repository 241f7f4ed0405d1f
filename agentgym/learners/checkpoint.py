"""Checkpoint files: written atomically, read back with ``weights_only=True``.

A checkpoint holds only tensors, numbers, strings, lists and dicts, so the safe
unpickler of ``torch.load(weights_only=True)`` reads it: loading a checkpoint never
runs code from the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from agentgym.learners.ppo import PPO

LATEST = "latest.pt"
CHECKPOINT_FORMAT = 1


def reset_seeds(seed: int, resets: int, num_envs: int) -> list[int]:
    """Seeds of the sub-envs for the ``resets``-th reset of a run seeded ``seed``.

    Checkpoints are reset points (see ppo.py), so these seeds are the env state a
    checkpoint resumes from.
    """
    return [int(s) for s in np.random.SeedSequence([seed, resets]).generate_state(num_envs)]


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    A process killed at any moment leaves either the previous file or the new one, never
    a torn one (``os.replace`` is atomic on POSIX within a file system).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint`` (safe unpickler only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location=device, weights_only=True)


def member_checkpoint(agent: PPO, k: int) -> dict[str, Any]:
    """Member k's checkpoint: a single-learner checkpoint that PPO.resume can read."""
    rows = torch.tensor([k, agent.k + k], device=agent.device)
    sl = slice(k, k + 1)
    return {
        "format": CHECKPOINT_FORMAT,
        "config": agent.configs[k].to_dict(),
        "global_step": agent.global_step,
        "resets": agent.resets,
        "elapsed": agent.elapsed,
        "status": agent.status[k],
        "params": agent.net.flat.detach()[rows].clone(),
        "adam": {
            "exp_avg": agent.optimizer.exp_avg[rows].clone(),
            "exp_avg_sq": agent.optimizer.exp_avg_sq[rows].clone(),
            "steps": agent.optimizer.steps[sl].clone(),
        },
        "obs_norm": {key: v[sl].clone() for key, v in agent.obs_norm.rms.state_dict().items()},
        "reward_norm": {key: v[sl].clone() for key, v in agent.reward_norm.state_dict().items()},
        "rng": {"sampling": agent.generators[k].get_state(), "torch": torch.get_rng_state()},
        # Env state at resume is reset_seeds(seed, resets): stored for inspection.
        "env_seeds": reset_seeds(agent.configs[k].seed, agent.resets, agent.configs[k].num_envs),
    }


def restore_members(agent: PPO, states: Sequence[dict[str, Any]]) -> None:
    """Load K member checkpoints (from member_checkpoint) into a K-member learner."""
    dev = agent.device
    with torch.no_grad():
        agent.net.flat.copy_(
            torch.cat(
                [
                    torch.cat([s["params"][0:1] for s in states]),
                    torch.cat([s["params"][1:2] for s in states]),
                ]
            ).to(dev)
        )

    def cat_rows(key):
        return torch.cat(
            [
                torch.cat([s["adam"][key][0:1] for s in states]),
                torch.cat([s["adam"][key][1:2] for s in states]),
            ]
        ).to(dev)

    agent.optimizer.load_state_dict(
        {
            "exp_avg": cat_rows("exp_avg"),
            "exp_avg_sq": cat_rows("exp_avg_sq"),
            "steps": torch.cat([s["adam"]["steps"] for s in states]),
        }
    )
    agent.obs_norm.load_state_dict(
        {key: torch.cat([s["obs_norm"][key] for s in states]) for key in ("mean", "var", "count")}
    )
    agent.reward_norm.load_state_dict(
        {
            key: torch.cat([s["reward_norm"][key] for s in states])
            for key in ("mean", "var", "count", "returns")
        }
    )
    for gen, s in zip(agent.generators, states, strict=True):
        gen.set_state(s["rng"]["sampling"].cpu())  # generator states are CPU byte tensors
    torch.set_rng_state(states[0]["rng"]["torch"].cpu())
    agent.global_step = int(states[0]["global_step"])
    agent.resets = int(states[0]["resets"])
    agent.elapsed = float(states[0]["elapsed"])
    agent.status = [str(s["status"]) for s in states]
