"""VLM reward diagnostics (correlations, frame strip, report section) and `agentgym vlm score`."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest

from agentgym.cli import main
from agentgym.reward_designers.clip import reward_from_spec
from agentgym.reward_designers.clip.report import (
    DIAGNOSTICS,
    STRIP,
    compute_diagnostics,
    evaluate_clip_reward,
    pearson,
    spearman,
    write_diagnostics,
)


def test_correlations_against_closed_forms() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert pearson(x, [2 * v + 1 for v in x]) == pytest.approx(1.0)
    assert pearson(x, [-v for v in x]) == pytest.approx(-1.0)
    # Monotone but not linear: Spearman 1, Pearson below 1.
    cubic = [v**3 for v in x]
    assert spearman(x, cubic) == pytest.approx(1.0)
    assert pearson(x, cubic) < 0.99
    # Ties get average ranks: ranks of [1, 2, 2, 3] are [0, 1.5, 1.5, 3].
    assert spearman([1, 2, 2, 3], [0, 1.5, 1.5, 3]) == pytest.approx(1.0)
    # Hand value: x = [1, 2, 3], y = [1, 3, 2] -> r = 0.5.
    assert pearson([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    # A constant series has no correlation (a flat VLM reward must not read as 0).
    assert pearson(x, [1.0] * 5) is None and spearman(x, [1.0] * 5) is None


def test_diagnostics_per_step_and_per_episode() -> None:
    # Two episodes: the second succeeds and its VLM reward rises with the env reward.
    vlm = [0.1, 0.2, 0.3, 0.5, 0.6, 0.9]
    env = [0.0, 0.1, 0.2, 0.4, 0.5, 1.0]
    success = [False, False, False, False, False, True]
    episode = [0, 0, 0, 1, 1, 1]
    d = compute_diagnostics(vlm, success, env, episode)
    assert d["steps"] == 6 and d["episodes"] == 2 and d["success_rate"] == 0.5
    assert d["step"]["spearman_env_reward"] == pytest.approx(1.0)
    assert d["step"]["pearson_success"] == pytest.approx(np.corrcoef(vlm, success)[0, 1])
    assert d["episode"]["spearman_success"] == pytest.approx(1.0)


def test_diagnostics_want_one_value_per_step() -> None:
    vlm = [0.1, 0.2, 0.3, 0.5, 0.6, 0.9]
    env = [0.0, 0.1, 0.2, 0.4, 0.5, 1.0]
    episode = [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="one value per step"):
        compute_diagnostics(vlm, [False] * 5, env, episode)


def _run_with_two_evaluations(tmp_path):
    """A run folder with the diagnostics of a flat and of a task-following VLM reward."""
    from agentgym.runs import RunDir

    run = RunDir.create(
        command="train",
        env_id="agentgym/CartPole-v0",
        config={"env_id": "agentgym/CartPole-v0"},
        out=tmp_path / "run",
    )
    run.write_manifest({"created": "now"})
    frames = np.random.default_rng(0).integers(0, 256, (6, 24, 24, 3), dtype=np.uint8)
    for step, vlm in ((1000, [0.5] * 6), (2000, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])):
        write_diagnostics(
            run.path,
            vlm_reward=vlm,
            success=[False] * 5 + [True],
            env_reward=[1.0, 2, 3, 4, 5, 6],
            episode=[0] * 6,
            strip_frames=frames,
            step=step,
            model="tiny",
        )
    return run


def test_written_diagnostics_rebuild_the_report_panel(tmp_path) -> None:
    from agentgym.runs import build_report

    run = _run_with_two_evaluations(tmp_path)
    history = json.loads((run.path / DIAGNOSTICS).read_text())["evaluations"]
    assert [h["env_step"] for h in history] == [1000, 2000]
    assert history[0]["step"]["spearman_env_reward"] is None  # flat reward
    assert history[1]["step"]["spearman_env_reward"] == pytest.approx(1.0)
    assert iio.imread(run.path / STRIP).shape[-1] in (3, 4)
    assert "agentgym.reward_designers.clip.report:build" in run.read_manifest()["report_sections"]
    html = build_report(run.path).read_text()
    assert "VLM reward diagnostics" in html and "Spearman" in html and "+1.000" in html
    assert "(failed)" not in html and "barely moves" not in html


def test_the_panel_flags_a_reward_unrelated_to_the_task(tmp_path) -> None:
    from agentgym.runs import build_report

    run = _run_with_two_evaluations(tmp_path)
    # Ranks of [1, 2, 3, 3, 2, 1] against [1..6] have zero covariance: Spearman 0.
    write_diagnostics(
        run.path,
        vlm_reward=[1.0, 2, 3, 3, 2, 1],
        success=[False] * 6,
        env_reward=[1.0, 2, 3, 4, 5, 6],
        episode=[0] * 6,
        step=3000,
    )
    html = build_report(run.path).read_text()
    assert (
        "barely moves with the env&#x27;s own reward" in html
        or "barely moves with the env's own reward" in html
    )


def test_evaluate_clip_reward_on_rendered_episodes(tiny_clip: str, tmp_path) -> None:
    reward = reward_from_spec(f"model={tiny_clip};goal=the arm is up;baseline=the arm;alpha=0.5")
    rng = np.random.default_rng(0)
    entry = evaluate_clip_reward(
        reward,
        "agentgym/Reach-v0",
        lambda obs: rng.uniform(-1, 1, (1, 2)).astype(np.float32),
        tmp_path,
        episodes=2,
        seed=0,
        step=123,
        env_kwargs={"width": 48, "height": 48},
    )
    assert entry["steps"] == 100 and entry["episodes"] == 2 and entry["env_step"] == 123
    assert entry["reward_std"] > 0  # frames differ, so the rewards do
    assert (tmp_path / STRIP).is_file()


def test_vlm_score_command_on_a_folder_of_images(tiny_clip: str, tmp_path, capsys) -> None:
    frames = np.random.default_rng(0).integers(0, 256, (4, 40, 52, 3), dtype=np.uint8)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):
        iio.imwrite(folder / f"{i:03d}.png", f)
    out = tmp_path / "scores.json"
    plot = tmp_path / "plot.png"
    args = [
        "vlm",
        "score",
        "--model",
        tiny_clip,
        "--goal",
        "the pole is up",
        "--baseline",
        "the pole is fallen",
        "--alpha",
        "0.5",
        str(folder),
        "--plot",
        str(plot),
        "--json",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    reference = (
        reward_from_spec(
            f"model={tiny_clip};goal=the pole is up;baseline=the pole is fallen;"
            "alpha=0.5;cache_size=0"
        )
        .score_frames(frames)
        .numpy()
    )
    np.testing.assert_allclose(result["rewards"], reference, atol=1e-5)
    assert result["frames"] == ["000.png", "001.png", "002.png", "003.png"]
    assert f"{reference[2]:.5f}" in printed
    assert iio.imread(plot).ndim == 3


def test_vlm_score_command_on_a_video(tiny_clip: str, tmp_path) -> None:
    frames = np.random.default_rng(0).integers(0, 256, (4, 40, 52, 3), dtype=np.uint8)
    out = tmp_path / "scores.json"
    video = tmp_path / "clip.gif"
    iio.imwrite(video, frames, duration=100, loop=0)
    assert (
        main(
            [
                "vlm",
                "score",
                "--model",
                tiny_clip,
                "--goal",
                "x",
                "--alpha",
                "0",
                str(video),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert len(json.loads(out.read_text())["rewards"]) == 4
    assert (tmp_path / "clip-clip.png").is_file()


def test_vlm_score_errors(tiny_clip: str, tmp_path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (
        main(["vlm", "score", "--model", tiny_clip, "--goal", "x", "--alpha", "0", str(empty)]) == 2
    )
    assert "holds no" in capsys.readouterr().out
    assert main(["vlm", "score", "--model", tiny_clip, "--goal", "x", str(empty)]) == 2
    assert "baseline= is required" in capsys.readouterr().out


def test_train_cartpole_with_clip_reward_end_to_end(tiny_clip: str, tmp_path) -> None:
    """`agentgym train --env agentgym/CartPole-v0 --reward clip:...` relabels rollouts of
    rendered frames; the evaluation hook then writes the correlation panel of the report."""
    from agentgym.learners.logger import read_metrics
    from agentgym.runs import build_report

    run = tmp_path / "run"
    spec = f"clip:model={tiny_clip};goal=the pole is upright;baseline=the pole is fallen;alpha=0.5"
    assert (
        main(
            [
                "train",
                "--env",
                "agentgym/CartPole-v0",
                "--reward",
                spec,
                "--steps",
                "1024",
                "--num-envs",
                "4",
                "--num-steps",
                "64",
                "--eval-every",
                "1024",
                "--eval-episodes",
                "1",
                "--no-video",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    rows = read_metrics(run / "logs" / "metrics.jsonl")
    clip_terms = [r["reward_terms/clip"] for r in rows if "reward_terms/clip" in r]
    assert clip_terms and all(0.0 < v < 1.5 for v in clip_terms)
    # The training reward is CLIP alone: CartPole's own `alive` term is the env's reward
    # (logged as env_reward), not one of its components, so the report does not plot it
    # among the reward terms.
    terms = {k for r in rows for k in r if k.startswith("reward_terms/")}
    assert terms == {"reward_terms/clip"}
    assert any("env_reward" in r for r in rows)
    # The learner's evaluation called the reward's diagnose hook: the panel's data is in
    # the run folder, and the report train wrote shows it.
    diagnostics = json.loads((run / "vlm" / "diagnostics.json").read_text())
    assert diagnostics, "the evaluation hook wrote no diagnostics"
    html = (run / "report.html").read_text()
    assert "VLM reward diagnostics" in html and "Spearman" in html
    assert 'alt="clip"' in html and 'alt="alive"' not in html  # the reward-term plots
    assert "VLM reward diagnostics" in build_report(run).read_text()
