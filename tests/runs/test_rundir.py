"""RunDir: folder naming, refusing to overwrite, config.yaml round trip, manifest, metrics."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re

import pytest

from agentgym.config_fields import config_from_dict
from agentgym.learners.logger import MetricsWriter, read_metrics
from agentgym.learners.ppo import PPOConfig
from agentgym.runs import RunDir, RunExistsError, RunNotFoundError, build_manifest, rundir
from agentgym.runs.config import config_to_dict
from agentgym.runs.metrics import series


def _config(**changes):
    cfg = PPOConfig(reward="sparse", hidden_sizes=(32, 16), target_kl=0.02, **changes)
    return {
        "command": "train",
        "learner": "ppo",
        "env_id": cfg.env_id,
        "config": config_to_dict(cfg),
    }


def test_default_folder_is_dated_and_named_after_command_and_env(tmp_path):
    run = RunDir.create(
        command="train", env_id="agentgym/Reach-v0", config=_config(), root=tmp_path
    )
    assert re.fullmatch(r"\d{8}-\d{6}-train-Reach", run.path.name)


def test_a_second_run_in_the_same_second_gets_a_folder_of_its_own(tmp_path, monkeypatch):
    # The clock is held at one second: two real calls can straddle a second's edge.
    second = dt.datetime(2026, 12, 6, 22, 56, 0)
    monkeypatch.setattr(
        rundir, "default_run_name", functools.partial(rundir.default_run_name, when=second)
    )
    made = [
        RunDir.create(
            command="train", env_id="agentgym/Reach-v0", config=_config(), root=tmp_path
        ).path.name
        for _ in range(3)
    ]
    assert made == [
        "20261206-225600-train-Reach",
        "20261206-225600-train-Reach-2",
        "20261206-225600-train-Reach-3",
    ]


def test_config_yaml_loads_back_equal(tmp_path):
    cfg = PPOConfig(reward="sparse", hidden_sizes=(32, 16), target_kl=0.02, num_envs=3)
    run = RunDir.create(
        command="train",
        env_id=cfg.env_id,
        out=tmp_path / "r",
        config={"command": "train", "config": config_to_dict(cfg)},
    )
    loaded = config_from_dict(PPOConfig, run.read_config()["config"])
    assert loaded == cfg and isinstance(loaded.hidden_sizes, tuple)


def test_an_unknown_config_field_is_named_with_the_closest():
    with pytest.raises(ValueError, match="no field 'num_env'.*Did you mean 'num_envs'"):
        config_from_dict(PPOConfig, {"num_env": 2})


def _run_with_metrics(out):
    RunDir.create(command="train", env_id="agentgym/Reach-v0", config=_config(), out=out)
    (out / "logs").mkdir()
    (out / "logs" / "metrics.jsonl").write_text('{"step": 1}\n')


def test_refuses_to_overwrite_a_different_run_and_names_the_difference(tmp_path):
    out = tmp_path / "run"
    _run_with_metrics(out)
    with pytest.raises(RunExistsError, match=r"different run \(config.num_envs: 8 -> 2\)"):
        RunDir.create(
            command="train", env_id="agentgym/Reach-v0", config=_config(num_envs=2), out=out
        )
    assert read_metrics(out / "logs" / "metrics.jsonl") == [{"step": 1}]  # untouched


def test_the_same_run_again_is_refused_with_a_pointer_to_resume(tmp_path):
    out = tmp_path / "run"
    _run_with_metrics(out)
    with pytest.raises(RunExistsError, match="already holds this run; continue it with --resume"):
        RunDir.create(command="train", env_id="agentgym/Reach-v0", config=_config(), out=out)
    assert read_metrics(out / "logs" / "metrics.jsonl") == [{"step": 1}]  # untouched


def test_overwrite_replaces_a_run_with_the_new_one(tmp_path):
    out = tmp_path / "run"
    _run_with_metrics(out)
    RunDir.create(
        command="train",
        env_id="agentgym/Reach-v0",
        config=_config(num_envs=2),
        out=out,
        overwrite=True,
    )
    assert not (out / "logs").exists()
    assert RunDir.open(out).read_config()["config"]["num_envs"] == 2


def test_never_deletes_a_folder_that_is_not_a_run(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("x")
    with pytest.raises(RunExistsError, match="not a run folder"):
        RunDir.create(
            command="train", env_id="agentgym/Reach-v0", config=_config(), out=out, overwrite=True
        )
    assert (out / "thesis.tex").read_text() == "x"


def test_open_names_what_is_missing_and_lists_runs_inside(tmp_path):
    RunDir.create(command="train", env_id="agentgym/Reach-v0", config=_config(), out=tmp_path / "a")
    with pytest.raises(
        RunNotFoundError, match=r"expected config.yaml inside it \(it holds runs: a\)"
    ):
        RunDir.open(tmp_path)


def test_manifest_records_versions_seeds_device_git_and_machine(tmp_path):
    run = RunDir.create(
        command="train", env_id="agentgym/Reach-v0", config=_config(), out=tmp_path / "r"
    )
    run.write_manifest(
        build_manifest(command="train", seeds=[3, 4], device="cpu", argv=["agentgym", "x"])
    )
    manifest = json.loads(run.manifest_path.read_text())
    import gymnasium
    import numpy
    import torch

    assert manifest["packages"]["torch"] == torch.__version__
    assert manifest["packages"]["gymnasium"] == gymnasium.__version__
    assert manifest["packages"]["numpy"] == numpy.__version__
    assert manifest["packages"]["stable-baselines3"] is not None
    assert manifest["seeds"] == [3, 4] and manifest["device"] == "cpu"
    assert manifest["argv"] == ["agentgym", "x"]
    assert re.fullmatch(r"[0-9a-f]{40}", manifest["git"]["commit"])  # this checkout is git
    assert manifest["machine"]["cores"] >= 1 and manifest["machine"]["cpu"]


def test_a_report_section_is_listed_once_however_often_it_is_added(tmp_path):
    run = RunDir.create(
        command="train", env_id="agentgym/Reach-v0", config=_config(), out=tmp_path / "r"
    )
    run.write_manifest(
        build_manifest(command="train", seeds=[3, 4], device="cpu", argv=["agentgym", "x"])
    )
    run.add_report_section("pkg.mod:section")
    run.add_report_section("pkg.mod:section")
    assert run.read_manifest()["report_sections"] == ["pkg.mod:section"]


def test_git_revision_is_none_outside_a_checkout(tmp_path):
    from agentgym.runs.manifest import git_revision

    assert git_revision(tmp_path) is None


def _metrics_of_a_killed_run(path):
    with MetricsWriter(path) as writer:
        writer.write({"step": 10, "episode_return": 1.5, "loss/value": float("nan")})
        writer.write({"step": 20, "episode_return": 2.5})
    with path.open("a") as f:
        f.write('{"step": 30, "episode_ret')  # SIGKILL mid-write
    return read_metrics(path)


def test_metrics_round_trip_and_a_killed_run_partial_line(tmp_path):
    rows = _metrics_of_a_killed_run(tmp_path / "logs" / "metrics.jsonl")
    assert rows == [
        {"step": 10, "episode_return": 1.5, "loss/value": None},
        {"step": 20, "episode_return": 2.5},
    ]


def test_a_series_holds_the_rows_that_have_a_value(tmp_path):
    rows = _metrics_of_a_killed_run(tmp_path / "logs" / "metrics.jsonl")
    assert series(rows, "episode_return") == ([10.0, 20.0], [1.5, 2.5])
    assert series(rows, "loss/value") == ([], [])


def test_a_broken_line_before_the_last_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        read_metrics(path)
