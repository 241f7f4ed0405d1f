"""Diagnostics of a VLM reward on evaluation rollouts, and their section in report.html.

"The CLIP reward learns nothing" is the common complaint of VLM-RM users: the reward is
flat, or rises with something other than the task. At each evaluation the learner (or
``evaluate_clip_reward``) scores the evaluation frames with the VLM reward and writes

    vlm/diagnostics.json   one entry per evaluation: Pearson and Spearman correlation of
                           the VLM reward with the env's success flag and with its own
                           dense reward, per step and per episode, and reward statistics
    vlm/strip.png          frames of the latest evaluation episode with their rewards

so ``build`` (the report section, registered with ``RunDir.add_report_section``) can
rebuild the panel from the run folder alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from agentgym.reward_designers.clip.reward import ClipReward
    from agentgym.runs.report import ReportContext, Section

log = logging.getLogger(__name__)

VLM_DIR = "vlm"
DIAGNOSTICS = f"{VLM_DIR}/diagnostics.json"
STRIP = f"{VLM_DIR}/strip.png"
SECTION_TARGET = "agentgym.reward_designers.clip.report:build"
WEAK = 0.1
"""|Spearman| below this with the env's dense reward is flagged as a reward that may learn nothing."""


def pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Pearson correlation, or None when either series is constant (undefined)."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.size < 2 or x.std() < 1e-12 or y.std() < 1e-12:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties given their average rank (as scipy.stats.rankdata)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), np.float64)
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman rank correlation (Pearson of average ranks), or None when undefined."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.size < 2:
        return None
    return pearson(_ranks(x), _ranks(y))


def compute_diagnostics(
    vlm_reward: Sequence[float],
    success: Sequence[bool],
    env_reward: Sequence[float],
    episode: Sequence[int],
) -> dict[str, Any]:
    """Correlations of a VLM reward with the env's success flag and dense reward.

    All inputs are per step of the evaluation episodes (same length); ``episode`` names
    the episode of each step. Per-episode correlations compare the episode's mean VLM
    reward with its success (at its last step) and its env return.
    """
    r = np.asarray(vlm_reward, np.float64)
    s = np.asarray(success, bool).astype(np.float64)
    e = np.asarray(env_reward, np.float64)
    ep = np.asarray(episode)
    if not (len(r) == len(s) == len(e) == len(ep)):
        raise ValueError(
            f"vlm_reward, success, env_reward and episode must have one value per step, got "
            f"lengths {len(r)}, {len(s)}, {len(e)}, {len(ep)}"
        )
    ids = list(dict.fromkeys(ep.tolist()))
    ep_mean = np.array([r[ep == i].mean() for i in ids])
    ep_success = np.array([s[ep == i][-1] for i in ids])
    ep_return = np.array([e[ep == i].sum() for i in ids])
    return {
        "steps": int(len(r)),
        "episodes": len(ids),
        "reward_mean": float(r.mean()) if len(r) else None,
        "reward_std": float(r.std()) if len(r) else None,
        "reward_min": float(r.min()) if len(r) else None,
        "reward_max": float(r.max()) if len(r) else None,
        "success_rate": float(ep_success.mean()) if len(ids) else None,
        "step": {
            "pearson_success": pearson(r, s),
            "spearman_success": spearman(r, s),
            "pearson_env_reward": pearson(r, e),
            "spearman_env_reward": spearman(r, e),
        },
        "episode": {
            "pearson_success": pearson(ep_mean, ep_success),
            "spearman_success": spearman(ep_mean, ep_success),
            "pearson_env_return": pearson(ep_mean, ep_return),
            "spearman_env_return": spearman(ep_mean, ep_return),
        },
    }


def save_strip(
    frames: np.ndarray, rewards: Sequence[float], path: str | Path, count: int = 8
) -> Path:
    """A PNG of ``count`` frames spread over an episode, each titled with its reward,
    above the reward curve of the whole episode (marks at the frames shown)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = np.asarray(frames)
    rewards = np.asarray(rewards, np.float64)
    n = len(frames)
    if n == 0:
        raise ValueError("save_strip: no frames")
    picks = np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int))
    fig = plt.figure(figsize=(1.8 * len(picks), 3.6), dpi=90)
    grid = fig.add_gridspec(2, len(picks), height_ratios=[1.3, 1])
    for col, t in enumerate(picks):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(frames[t])
        ax.set_title(f"t={t}\nR={rewards[t]:.3f}", fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    ax.plot(np.arange(n), rewards, lw=1.2, color="#1f77b4")
    ax.plot(picks, rewards[picks], "o", ms=4, color="#d62728")
    ax.set_xlabel("step of the episode", fontsize=8)
    ax.set_ylabel("VLM reward", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_diagnostics(
    run_dir: str | Path,
    *,
    vlm_reward: Sequence[float],
    success: Sequence[bool],
    env_reward: Sequence[float],
    episode: Sequence[int],
    strip_frames: np.ndarray | None = None,
    strip_rewards: Sequence[float] | None = None,
    step: int | None = None,
    model: str = "",
) -> dict[str, Any]:
    """Append one evaluation's diagnostics to ``vlm/diagnostics.json`` (and draw
    ``vlm/strip.png``); register the report section in the run's manifest when the
    folder is a run folder. Returns the entry written."""
    root = Path(run_dir)
    entry = {
        "env_step": step,
        "model": model,
        **compute_diagnostics(vlm_reward, success, env_reward, episode),
    }
    path = root / DIAGNOSTICS
    path.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(path.read_text())["evaluations"] if path.is_file() else []
    history.append(entry)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"evaluations": history}, indent=1))
    tmp.replace(path)
    if strip_frames is not None and len(strip_frames):
        save_strip(
            strip_frames, strip_rewards if strip_rewards is not None else vlm_reward, root / STRIP
        )
    if (root / "manifest.json").is_file():
        from agentgym.runs import RunDir

        RunDir(root).add_report_section(SECTION_TARGET)
    return entry


def evaluate_clip_reward(
    reward: ClipReward,
    env_id: str,
    policy: Callable[[np.ndarray], np.ndarray],
    run_dir: str | Path,
    *,
    episodes: int = 4,
    seed: int = 0,
    step: int | None = None,
    max_steps: int = 10_000,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``episodes`` evaluation episodes of ``policy(obs [1, D]) -> actions [1, ...]``,
    rendering every step, score the frames with ``reward`` (a ClipReward) in one batch,
    and write the diagnostics into ``run_dir``. The env's own reward and success flag
    come from the env made with its own reward."""
    import gymnasium as gym

    env = gym.make(env_id, render_mode="rgb_array", **(env_kwargs or {}))
    frames: list[np.ndarray] = []
    env_rewards: list[float] = []
    successes: list[bool] = []
    episode_ids: list[int] = []
    try:
        for k in range(episodes):
            obs, info = env.reset(seed=seed + k)
            for _ in range(max_steps):
                action = policy(np.asarray(obs, dtype=np.float32)[None])[0]
                obs, r, terminated, truncated, info = env.step(action)
                frames.append(np.asarray(env.render(), dtype=np.uint8))
                env_rewards.append(float(info.get("env_reward", r)))
                successes.append(bool(info.get("success", False)))
                episode_ids.append(k)
                if terminated or truncated:
                    break
    finally:
        env.close()
    stacked = np.stack(frames)
    scores = reward.score_frames(stacked).detach().cpu().numpy()
    first = np.asarray(episode_ids) == 0
    return write_diagnostics(
        run_dir,
        vlm_reward=scores,
        success=successes,
        env_reward=env_rewards,
        episode=episode_ids,
        strip_frames=stacked[first],
        strip_rewards=scores[first],
        step=step,
        model=getattr(getattr(reward, "config", None), "model", ""),
    )


def _correlation(value: float | None) -> str:
    return "undefined (constant)" if value is None else f"{value:+.3f}"


def build(ctx: ReportContext) -> Section | None:
    """The report section "VLM reward diagnostics" (None when the run has none)."""
    from agentgym.runs.report import Section

    path = ctx.run.path / DIAGNOSTICS
    if not path.is_file():
        return None
    history = json.loads(path.read_text()).get("evaluations", [])
    if not history:
        return None
    last = history[-1]
    rows = [
        ("evaluation at env step", last.get("env_step")),
        ("steps / episodes scored", f"{last['steps']} / {last['episodes']}"),
        ("VLM reward mean ± std", f"{last['reward_mean']:.4f} ± {last['reward_std']:.4f}"),
        ("VLM reward range", f"[{last['reward_min']:.4f}, {last['reward_max']:.4f}]"),
    ]
    step, episode = last["step"], last["episode"]
    pairs = [
        ("success flag (per step)", step, "success"),
        ("env dense reward (per step)", step, "env_reward"),
        ("success (per episode, mean reward)", episode, "success"),
        ("env return (per episode, mean reward)", episode, "env_return"),
    ]
    corr = ctx.table(
        [
            (label, _correlation(of[f"pearson_{key}"]), _correlation(of[f"spearman_{key}"]))
            for label, of, key in pairs
        ],
        ("VLM reward vs", "Pearson", "Spearman"),
    )
    # Judge against the env's dense reward; envs whose reward is constant per step
    # (CartPole's +1 alive) leave only the success flag to judge against.
    rho, against = last["step"]["spearman_env_reward"], "the env's own reward"
    if rho is None:
        rho, against = last["step"]["spearman_success"], "the success flag"
    warn = ""
    if rho is None:
        warn = (
            '<p class="missing">Neither the env\'s reward nor its success flag varied in these '
            "episodes (or the VLM reward was constant): no correlation can be judged yet.</p>"
        )
    elif abs(rho) < WEAK:
        warn = (
            f'<p class="missing">The VLM reward barely moves with {against} '
            f"(|Spearman| = {abs(rho):.3f} &lt; {WEAK}): it may be teaching nothing about the "
            "task. Try other prompts, a baseline prompt with alpha &gt; 0, or a larger CLIP model.</p>"
        )
    trend = ""
    if len(history) > 1:
        xs = [h.get("env_step") or i for i, h in enumerate(history)]
        trend = ctx.plot(
            {
                "Spearman vs env reward": (
                    xs,
                    [h["step"]["spearman_env_reward"] or 0.0 for h in history],
                ),
                "Spearman vs success": (
                    xs,
                    [h["step"]["spearman_success"] or 0.0 for h in history],
                ),
            },
            title="VLM reward correlations over training",
            ylabel="Spearman",
        )
    strip = ""
    strip_path = ctx.run.path / STRIP
    if strip_path.is_file():
        strip = ctx.png(
            strip_path.read_bytes(), "frames of an evaluation episode with their VLM rewards"
        )
    model = ctx.escape(last.get("model", ""))
    body = (
        f"<p>VLM reward model: <code>{model}</code></p>"
        + ctx.table(rows)
        + corr
        + warn
        + trend
        + strip
    )
    return Section("VLM reward diagnostics", body, order=45)
