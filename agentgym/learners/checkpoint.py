"""Checkpoint files: written atomically, read back with ``weights_only=True``.

A checkpoint holds only tensors, numbers, strings, lists and dicts, so the safe
unpickler of ``torch.load(weights_only=True)`` reads it: loading a checkpoint never
runs code from the file.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "latest.pt"
CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: truncated, corrupt, or holding objects the
    safe unpickler refuses. The message names the file."""


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
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, pickle.UnpicklingError) as err:
        # torch reports a torn zip as RuntimeError and a refused global as UnpicklingError;
        # either way the file, not the caller, is at fault, so the message names it.
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt and cannot be loaded "
            f"({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''})"
        ) from err
    if not isinstance(state, dict):
        raise CheckpointError(
            f"checkpoint {path} holds a {type(state).__name__}, expected a dict of states"
        )
    return state


def check_checkpoint(path: str | Path) -> None:
    """Raise ``CheckpointError`` (naming the file) when ``path`` cannot be read back.

    ``.pt`` files are loaded with the safe unpickler; other files (SB3's ``.zip``) are
    checked as zip archives, every member's CRC included.
    """
    path = Path(path)
    if path.suffix == ".pt":
        load_checkpoint(path)
        return
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt and cannot be loaded ({err})"
        ) from err
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is corrupt: its member {bad!r} fails its CRC")


def reset_seeds(seed: int, resets: int, num_envs: int) -> list[int]:
    """Seeds of the sub-envs for the ``resets``-th reset of a run seeded ``seed``.

    Checkpoints are reset points of the envs (PPO's and SAC's learners reset every sub-env
    right after a checkpoint), so these seeds are the env state a checkpoint resumes from.
    """
    return [int(s) for s in np.random.SeedSequence([seed, resets]).generate_state(num_envs)]


def replay_mb(learner: str, env_id: str, config: Mapping[str, Any]) -> int:
    """The MB of one member's replay buffer under ``learner``'s ``config`` on ``env_id``,
    held in memory and in each of its checkpoints: a config with ``replay_bytes`` (SAC)
    has one (0.57 GB after 200k steps of Humanoid), the others 0 (their checkpoints,
    networks and optimisers, are small). For the sandbox limits of a training run
    (``Limits.for_training``)."""
    import gymnasium as gym
    from gymnasium.spaces import flatdim

    from agentgym.learners import LEARNER_CONFIGS

    full = LEARNER_CONFIGS.get(learner).from_dict({**config, "env_id": env_id})
    replay_bytes = getattr(full, "replay_bytes", None)
    if replay_bytes is None:
        return 0
    probe = gym.make(env_id)
    try:
        dims = flatdim(probe.observation_space), flatdim(probe.action_space)
    finally:
        probe.close()
    return -(-replay_bytes(*dims) // (1 << 20))
