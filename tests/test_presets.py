"""Training presets: each task's learner, settings and budget, laid under the user's flags
and recorded in the run folder."""

from __future__ import annotations

import yaml

import agentgym  # noqa: F401  (registers envs and their presets)
from agentgym.learners import LEARNER_CONFIGS, LEARNERS
from agentgym.presets import PRESETS, Preset, all_presets, preset_for, resolve


def test_every_preset_names_a_registered_env_and_learner_and_real_config_fields():
    import gymnasium as gym

    for preset in all_presets():
        gym.spec(preset.env_id)
        assert preset.learner in LEARNERS
        fields = set(LEARNER_CONFIGS.get(preset.learner).__dataclass_fields__)
        assert set(preset.config) <= fields, preset.env_id


def test_every_preset_says_where_its_numbers_came_from_and_what_they_reached():
    for preset in all_presets():
        assert preset.source and preset.measured.get("human_success") is not None, preset.env_id


def test_a_preset_may_not_fix_what_is_chosen_per_run():
    import pytest

    with pytest.raises(ValueError, match="set per run"):
        Preset(env_id="x", learner="ppo", steps=10, config={"seed": 1})


def test_resolve_lays_the_users_values_over_the_preset_and_records_the_overrides():
    plan = resolve("agentgym/CartPole-v0", None, {"env_id": "agentgym/CartPole-v0", "gamma": 0.9})
    preset = preset_for("agentgym/CartPole-v0")
    assert plan.learner == preset.learner and plan.preset == "agentgym/CartPole-v0"
    assert plan.values["gamma"] == 0.9
    assert plan.values["num_envs"] == preset.config["num_envs"]
    assert plan.values["total_steps"] == preset.steps
    assert plan.overrides == ("gamma",)


def test_a_value_equal_to_the_presets_is_not_an_override():
    preset = preset_for("agentgym/CartPole-v0")
    plan = resolve("agentgym/CartPole-v0", None, {"num_envs": preset.config["num_envs"]})
    assert plan.overrides == ()


def test_another_learner_or_no_preset_starts_from_the_learners_defaults():
    other = resolve("agentgym/CartPole-v0", "sb3-ppo", {"gamma": 0.9})
    assert other.preset is None and other.values == {"gamma": 0.9}
    off = resolve("agentgym/CartPole-v0", None, {}, use_preset=False)
    assert off.preset is None and off.learner == "ppo" and off.values == {}


def test_another_learner_with_a_preset_of_its_own_takes_it_and_the_default_stays():
    env_id = "agentgym/HalfCheetah-v0"
    default, ppo = preset_for(env_id), preset_for(env_id, "ppo")
    assert default.learner == "sac" and ppo is not None and ppo is not default
    assert default in all_presets() and ppo in all_presets()
    plain = resolve(env_id, None, {})
    assert plain.learner == "sac" and plain.values["total_steps"] == default.steps
    asked = resolve(env_id, "ppo", {"num_envs": 8})
    assert (asked.learner, asked.preset, asked.overrides) == ("ppo", env_id, ("num_envs",))
    assert asked.values["total_steps"] == ppo.steps and asked.values["num_envs"] == 8
    assert asked.values["num_steps"] == ppo.config["num_steps"]
    assert PRESETS.get(env_id) is default and preset_for(env_id, "sb3-ppo") is None


def test_a_second_preset_for_the_same_env_and_learner_is_refused():
    import pytest

    from agentgym.presets import register_preset

    twin = Preset(env_id="agentgym/HalfCheetah-v0", learner="ppo", steps=10, source="x")
    with pytest.raises(ValueError, match="registered twice"):
        register_preset(twin, default=False)


def test_an_env_without_a_preset_trains_ppo_with_its_defaults():
    plan = resolve("CartPole-v1", None, {"total_steps": 5})
    assert (plan.learner, plan.preset, plan.values) == ("ppo", None, {"total_steps": 5})


def test_train_records_the_preset_and_the_users_overrides(agentgym_cli, tmp_path):
    out = tmp_path / "run"
    result = agentgym_cli(
        "train", "--env", "agentgym/CartPole-v0", "--steps", "512", "--eval-episodes", "1",
        "--no-video", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["preset"] == {
        "name": "agentgym/CartPole-v0",
        "overrides": ["eval_episodes", "total_steps", "video"],
    }
    assert config["learner"] == "ppo"
    assert config["config"]["num_envs"] == preset_for("agentgym/CartPole-v0").config["num_envs"]
    summary = (out / "report.html").read_text()
    assert (
        "training preset</th><td>agentgym/CartPole-v0 "
        "(overridden: eval_episodes, total_steps, video)</td>" in summary
    )


def test_a_flag_of_another_learner_names_the_preset_that_chose_the_learner(agentgym_cli, tmp_path):
    preset = preset_for("agentgym/Reach-v0")
    out = agentgym_cli("train", "--env", "agentgym/Reach-v0", "--num-steps", "8", cwd=tmp_path)
    assert out.returncode == 2 and list(tmp_path.iterdir()) == []
    message = " ".join(out.stderr.split())
    assert f"not a setting of --learner {preset.learner}" in message
    assert "agentgym/Reach-v0's preset" in message and "--learner ppo" in message


def test_tune_searches_sac_in_an_sqlite_study_that_resumes(tmp_path):
    import json

    from agentgym.presets import tune

    storage, out = tmp_path / "study.db", tmp_path / "best.json"
    argv = ["--env", "agentgym/Reach-v0", "--learner", "sac", "--steps", "200", "--seeds", "0"]
    argv += ["--eval-episodes", "1", "--storage", str(storage), "--out", str(out)]
    assert tune.main([*argv, "--trials", "2"]) == 0
    report = json.loads(out.read_text())
    assert report["learner"] == "sac" and report["trials"] == 2
    assert set(report["best"]) == set(tune.SAC_SPACE)
    assert 0.0 <= report["measured"]["success"] <= 1.0
    # The study is in the SQLite file: asking for 2 trials again runs none.
    assert tune.main([*argv, "--trials", "2"]) == 0
    assert json.loads(out.read_text())["trials"] == 2
