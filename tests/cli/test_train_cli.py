"""``agentgym train``: options from PPOConfig, clear errors, complete run folders for
every learner, and --resume."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentgym.config_fields import field_docs
from agentgym.learners.ppo import PPOConfig
from agentgym.runs import RunDir
from agentgym.runs.training import start_training_run, train_run

TINY = ["--num-envs", "4", "--num-steps", "128", "--eval-episodes", "2"]


def test_help_has_every_ppoconfig_field_with_its_docstring(agentgym_cli):
    out = agentgym_cli("train", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    helps = field_docs(PPOConfig)
    for name in PPOConfig.__dataclass_fields__:
        if name in ("env_id", "total_steps", "reward"):
            continue  # --env, --steps, --reward
        assert f"--{name.replace('_', '-')}" in text, name
        assert helps[name].split(".")[0] in text, name
    assert "--no-norm-obs" in text and "--hidden-sizes INT [INT ...]" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-envs", "0"], "PPOConfig.num_envs: expected a positive int, got 0"),
        (["--num-minibatches", "3"], "PPOConfig.num_minibatches"),
        (["--gamma", "1.5"], "PPOConfig.gamma: expected a float in [0, 1], got 1.5"),
        (["--learner", "sb3"], "unknown learner 'sb3'. Did you mean 'sb3-ppo'?"),
        (["--env", "agentgym/Reech-v0"], "Did you mean: `Reach`?"),
        (["--reward", "sparce"], "part 'sparce' is not a reward; Did you mean 'sparse'?"),
        (["--reward", "missing.py"], "no such program file"),
        (["--env", "CartPole-v1", "--reward", "sparse"], "'CartPole-v1' is not an agentgym env"),
        (
            ["--reward", "env", "--reward", "sparse"],
            "only --learner population trains several rewards",
        ),
        (["--vectorization", "asink"], "Did you mean 'async'?"),
        (["--resume", "."], "is not a run folder: expected config.yaml"),
    ],
)
def test_bad_options_give_an_error_naming_the_field_and_write_nothing(
    agentgym_cli, tmp_path, args, message
):
    out = agentgym_cli("train", "--learner", "ppo", *args, cwd=tmp_path)  # a later one wins
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []  # no half-made run folder


def test_argparse_rejects_a_bad_type_naming_the_option(agentgym_cli):
    out = agentgym_cli("train", "--learner", "ppo", "--num-envs", "many")
    assert out.returncode == 2 and "argument --num-envs: invalid int value: 'many'" in out.stderr


@pytest.fixture(scope="module")
def sb3_run(agentgym_cli, reach_program, tmp_path_factory) -> Path:
    """A finished ``agentgym train --learner sb3-ppo`` run folder (3 rollouts of 512 steps)."""
    out = tmp_path_factory.mktemp("sb3") / "run"
    done = agentgym_cli(
        "train",
        "--learner",
        "sb3-ppo",
        "--reward",
        reach_program,
        "--steps",
        "1536",
        "--seed",
        "2",
        *TINY,
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_sb3_ppo_run_records_its_config_and_a_done_manifest(sb3_run):
    run = RunDir.open(sb3_run)
    config = run.read_config()
    assert config["learner"] == "sb3-ppo" and config["config"]["num_steps"] == 128
    assert run.read_manifest()["status"] == "done"
    assert run.read_manifest()["packages"]["stable-baselines3"]


def test_sb3_ppo_writes_the_metric_rows_of_agentgyms_ppo(sb3_run, training_row_keys):
    train = [r for r in RunDir.open(sb3_run).metrics() if "loss/policy" in r]
    assert [r["step"] for r in train] == [512, 1024, 1536]
    assert training_row_keys <= set(train[-1])  # the rows of agentgym's PPO, so the same report
    assert train[-1]["loss/entropy"] > 0  # the entropy, not SB3's negated entropy loss


def test_sb3_ppo_run_keeps_its_eval_video_checkpoint_and_tensorboard_logs(sb3_run):
    rows = RunDir.open(sb3_run).metrics()
    final_eval = [r for r in rows if "eval/success_rate" in r][-1]
    assert final_eval["step"] == 1536 and (sb3_run / final_eval["eval/video"]).is_file()
    assert (sb3_run / "checkpoints" / "latest.zip").is_file()
    assert (sb3_run / "logs" / "tb").is_dir()


def test_sb3_ppo_report_has_the_sections_of_a_ppo_report(sb3_run, report_sections):
    html = RunDir.open(sb3_run).report_path.read_text()
    assert re.findall(r"<h2>(.*?)</h2>", html) == report_sections


def test_refuses_to_overwrite_a_run_unless_asked(agentgym_cli, sb3_run):
    again = agentgym_cli(
        "train", "--learner", "sb3-ppo", "--steps", "1024", *TINY, "--out", str(sb3_run)
    )
    assert again.returncode == 2
    assert (
        "already holds a different run" in again.stderr
        and "total_steps: 1536 -> 1024" in again.stderr
    )


@pytest.fixture(scope="module", params=["ppo", "sb3-ppo"])
def resumed_run(request, agentgym_cli, reach_program, tmp_path_factory):
    """A run of the learner ``request.param`` stopped after its first row, then continued
    by ``agentgym train --resume``: (learner, run, last step before the stop, the resume's
    process)."""
    learner = request.param
    run = start_training_run(
        learner=learner,
        values={
            "total_steps": 2048,
            "num_envs": 4,
            "num_steps": 128,
            "eval_episodes": 1,
            "reward": reach_program,
        },
        out=tmp_path_factory.mktemp("resume") / "run",
    )
    first = train_run(run, callback=lambda row: False, report=False)  # stop after the first row
    assert first["step"] < 2048
    assert run.read_manifest()["status"] == "stopped"
    stopped_at = max(r["step"] for r in run.metrics())
    done = agentgym_cli("train", "--resume", str(run.path))
    return learner, run, stopped_at, done


def test_resume_continues_a_stopped_run_to_its_budget(resumed_run):
    learner, run, stopped_at, done = resumed_run
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = run.read_manifest()
    assert manifest["status"] == "done" and manifest["resumed"] is True
    steps = [r["step"] for r in run.metrics() if "loss/policy" in r]
    assert steps == sorted(set(steps))  # continued, not restarted
    assert steps[0] <= stopped_at < steps[1]
    # SB3 can only stop a rollout after its first vector step, so it ends one step later.
    assert steps[-1] == (2048 if learner == "ppo" else 2048 + 4)
    assert "report:" in done.stdout and run.report_path.is_file()


def test_resume_refuses_a_changed_setting_naming_its_flag(agentgym_cli, resumed_run):
    _, run, _, _ = resumed_run
    refused = agentgym_cli("train", "--resume", str(run.path), "--num-envs", "8")
    assert refused.returncode == 2 and "drop --num-envs" in refused.stderr


def test_population_resume_continues_every_member_to_its_budget(
    agentgym_cli, reach_program, tmp_path
):
    run = start_training_run(
        learner="population",
        values={"total_steps": 2048, "num_envs": 4, "num_steps": 128, "eval_episodes": 1},
        rewards=[reach_program, "sparse"],
        seeds=[1, 2],
        out=tmp_path / "pop",
    )
    first = train_run(run, callback=lambda row: False, report=False)  # stop after the first row
    assert run.read_manifest()["status"] == "stopped"
    stopped = [max(r["step"] for r in m.metrics()) for m in run.members()]
    assert all(step < 2048 for step in stopped), (first, stopped)
    done = agentgym_cli("train", "--resume", str(run.path))
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = run.read_manifest()
    assert manifest["status"] == "done" and manifest["resumed"] is True
    for member, stopped_at in zip(run.members(), stopped, strict=True):
        steps = [r["step"] for r in member.metrics() if "loss/policy" in r]
        assert steps == sorted(set(steps))  # continued, not restarted
        assert steps[0] <= stopped_at < steps[1] and steps[-1] == 2048


def test_default_run_folder_goes_under_runs(agentgym_cli, tmp_path):
    done = agentgym_cli(
        "train", "--learner", "ppo", "--steps", "512", *TINY, "--no-video", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    [folder] = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}-train-Reach", folder.name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["learner"] == "ppo" and manifest["device"] == "cpu"
    assert f"report: runs/{folder.name}/report.html" in done.stdout


NAN_PROGRAM = """import torch


def compute_reward(state, action):
    broken = state["fingertip_pos"][:, 0] * float("nan")
    return broken, {"broken": broken}
"""


@pytest.fixture(scope="module")
def population_run(agentgym_cli, reach_program, tmp_path_factory) -> tuple[Path, list[str]]:
    """A finished ``--learner population`` run of three rewards, the last one NaN from its
    first step: (the run folder, the rewards in order)."""
    work = tmp_path_factory.mktemp("population")
    nan_program = work / "nan_reward.py"
    nan_program.write_text(NAN_PROGRAM)
    rewards = [reach_program, "sparse", str(nan_program)]
    out = work / "pop"
    done = agentgym_cli(
        "train",
        "--learner",
        "population",
        "--reward",
        rewards[0],
        "--reward",
        rewards[1],
        "--reward",
        rewards[2],
        "--seeds",
        "1",
        "2",
        "3",
        "--steps",
        "1024",
        *TINY,
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out, rewards


def test_population_writes_a_sub_run_per_member_with_its_reward_and_seed(population_run):
    out, rewards = population_run
    top = RunDir.open(out)
    assert top.read_config()["rewards"] == rewards
    members = top.members()
    assert [m.path.name for m in members] == ["00-reach", "01-sparse", "02-nan_reward"]
    for member, reward, seed in zip(members, rewards, [1, 2, 3], strict=True):
        config = member.read_config()["config"]
        assert (config["reward"], config["seed"]) == (reward, seed)
        assert member.report_path.is_file() and member.metrics()
    assert max(r["step"] for r in members[0].metrics()) == 1024


def test_a_nonfinite_member_stops_alone_and_the_population_finishes(population_run):
    out, _ = population_run
    top = RunDir.open(out)
    statuses = [m.read_manifest()["status"] for m in top.members()]
    assert statuses == ["done", "done", "nonfinite"]  # the broken member stopped alone
    assert top.read_manifest()["status"] == "done"


def test_population_report_links_and_compares_its_members(population_run):
    top = RunDir.open(population_run[0])
    html = top.report_path.read_text()
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    assert titles[:2] == ["Summary", "Population"]
    for member in top.members():
        assert f'<a href="members/{member.path.name}/report.html">' in html
    assert "<td>nonfinite</td>" in html


def test_population_wants_one_seed_per_reward(agentgym_cli, tmp_path):
    mismatch = agentgym_cli(
        "train",
        "--learner",
        "population",
        "--reward",
        "env",
        "--reward",
        "sparse",
        "--seeds",
        "1",
        cwd=tmp_path,
    )
    assert (
        mismatch.returncode == 2
        and "--seeds: expected one seed per reward (2), got 1" in mismatch.stderr
    )


@pytest.mark.slow
def test_resume_after_sigkill_finishes_the_run(agentgym_cli, reach_program, tmp_path):
    import os
    import signal
    import time

    out = tmp_path / "killed"
    args = [
        "train",
        "--learner",
        "ppo",
        "--reward",
        reach_program,
        "--steps",
        "16384",
        "--checkpoint-every",
        "2048",
        "--no-video",
        *TINY,
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgym", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    checkpoint = out / "checkpoints" / "latest.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.is_file(), "the run wrote no checkpoint before the deadline"
    assert RunDir.open(out).read_manifest()["status"] == "running"  # killed: nobody said otherwise
    done = agentgym_cli("train", "--resume", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    run = RunDir.open(out)
    assert run.read_manifest()["status"] == "done"
    steps = [r["step"] for r in run.metrics() if "loss/policy" in r]
    assert steps == list(range(512, 16384 + 1, 512))  # every row once: none lost, none repeated


def test_train_help_states_the_video_default_train_applies(capsys):
    from agentgym.catalog import renders
    from agentgym.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    start = help_text.index("--video, --no-video")
    video = help_text[start : help_text.index("--render-width", start)]
    # train records evaluation videos wherever the env renders; the help said False
    assert "default: False" not in video and "on for envs that render" in video
    assert renders("agentgym/Reach-v0") and not renders("agentgym/Household-v0")
