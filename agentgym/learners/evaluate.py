"""Evaluation episodes of a deterministic policy, with an optional video of the first one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

log = logging.getLogger(__name__)

MAX_EVAL_STEPS = 100_000  # a guard for envs registered without a time limit


def make_eval_env(env_id: str, render: bool, width: int, height: int) -> tuple[gym.Env, bool]:
    """The env for evaluation; (env, renders). Frame size is passed where the env takes it."""
    if not render:
        return gym.make(env_id), False
    modes = gym.spec(env_id).kwargs.get("render_modes") or []
    try:
        env = gym.make(env_id, render_mode="rgb_array", width=width, height=height)
    except TypeError:  # envs with a fixed frame size (CartPole) take no width/height
        env = gym.make(env_id, render_mode="rgb_array")
    except gym.error.Error as err:
        log.warning("%s cannot render (%s; modes %s): evaluating without video", env_id, err, modes)
        return gym.make(env_id), False
    return env, True


def write_video(frames: list[np.ndarray], path: Path, fps: int) -> Path:
    """Write frames as mp4 (H.264 through imageio-ffmpeg) or gif, by the path's suffix."""
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gif":
        imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
    else:
        # macro_block_size=1 keeps odd frame sizes instead of resizing them.
        imageio.mimsave(path, frames, fps=fps, macro_block_size=1)
    return path


def run_episodes(
    env_id: str,
    policy: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seed: int,
    video_path: Path | None = None,
    width: int = 224,
    height: int = 224,
) -> dict[str, Any]:
    """Run ``episodes`` episodes (reset seeds seed, seed+1, ...) with ``policy(obs [1, D])``.

    Returns success_rate (when the env reports ``info["success"]``), fitness (the mean
    task fitness, ``info["fitness"]`` at each episode's end, when the env reports it),
    mean_return (the env's own reward), mean_length, and video (the path written, if any).
    """
    env, renders = make_eval_env(env_id, video_path is not None, width, height)
    returns, lengths, successes, fitnesses = [], [], [], []
    frames: list[np.ndarray] = []
    try:
        for episode in range(episodes):
            obs, info = env.reset(seed=seed + episode)
            record = renders and episode == 0
            if record:
                frames.append(np.asarray(env.render()))
            total, steps, done = 0.0, 0, False
            while not done and steps < MAX_EVAL_STEPS:
                action = policy(np.asarray(obs, dtype=np.float32)[None])[0]
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(info.get("env_reward", reward))
                steps += 1
                done = terminated or truncated
                if record:
                    frames.append(np.asarray(env.render()))
            returns.append(total)
            lengths.append(steps)
            if "success" in info:
                successes.append(float(info["success"]))
            if "fitness" in info:
                fitnesses.append(float(info["fitness"]))
        fps = int(env.metadata.get("render_fps") or 30)
    finally:
        env.close()
    result: dict[str, Any] = {
        "mean_return": float(np.mean(returns)),
        "mean_length": float(np.mean(lengths)),
    }
    if successes:
        result["success_rate"] = float(np.mean(successes))
    if fitnesses:
        result["fitness"] = float(np.mean(fitnesses))
    if frames and video_path is not None:
        result["video"] = str(write_video(frames, Path(video_path), fps))
    return result
