"""``agentgym demo``: Reach's preset learner (SAC) with the human reward, evaluated, with a
report."""

from __future__ import annotations

import re

import pytest

from agentgym.commands.demo import human_reward, run_demo
from agentgym.runs import RunDir


def test_human_reward_is_the_library_program():
    assert human_reward("agentgym/Reach-v0").endswith("reward_designers/library/reach.py")


def test_a_task_without_a_human_reward_is_named_with_the_closest():
    with pytest.raises(
        FileNotFoundError, match="no human reward program for task 'Reech'. Did you mean 'reach'?"
    ):
        human_reward("agentgym/Reech-v0")


def test_run_demo_trains_evaluates_and_reports(tmp_path):
    run, final = run_demo(steps=1024, out=tmp_path / "demo", learning_starts=256, eval_episodes=2)
    assert isinstance(run, RunDir) and final["step"] == 1024
    config = run.read_config()
    assert config["command"] == "demo" and config["rewards"] == [human_reward("agentgym/Reach-v0")]
    html = run.report_path.read_text()
    assert "Evaluation video" in re.findall(r"<h2>(.*?)</h2>", html)
    assert "eval/success_rate" in final


@pytest.mark.slow
def test_make_demo_reaches_high_success_and_prints_the_report(agentgym_cli, tmp_path):
    done = agentgym_cli("demo", "--train-only", "--out", str(tmp_path / "d"), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"report: {tmp_path / 'd' / 'report.html'}" in done.stdout
    rate = float(re.search(r"evaluation success rate: (\d+)%", done.stdout).group(1)) / 100
    assert rate >= 0.9


def test_demo_trains_with_the_env_preset_and_records_it(tmp_path):
    from agentgym.presets import preset_for

    preset = preset_for("agentgym/Reach-v0")
    run, _ = run_demo(steps=512, out=tmp_path / "demo", eval_episodes=1, num_envs=2)
    stored = run.read_config()
    config = stored["config"]
    assert stored["learner"] == preset.learner == "sac"
    assert config["gamma"] == preset.config["gamma"] == 0.9  # the preset's, not SAC's default
    assert (config["num_envs"], config["eval_episodes"]) == (2, 1)  # overrides win
    assert stored["preset"]["name"] == "agentgym/Reach-v0"
    assert {"num_envs", "total_steps"} <= set(stored["preset"]["overrides"])


def test_demo_rejects_a_setting_of_another_learner_naming_the_preset(tmp_path):
    with pytest.raises(ValueError, match="--num-steps: not a setting of --learner sac.*Reach"):
        run_demo(steps=512, out=tmp_path / "demo", num_steps=64)
