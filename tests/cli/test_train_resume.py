"""``agentgym train --resume``: a finished run is left byte-identical unless ``--steps``
extends it, and a broken checkpoint is reported (naming the file) with the run untouched."""

from __future__ import annotations

import hashlib
import pickle
import shutil
from pathlib import Path

import pytest

from agentgym.runs import RunDir
from agentgym.runs.training import start_training_run, train_run

BUDGET = 1024


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (TensorBoard's included) and its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, reach_program) -> Path:
    """A PPO run on Reach trained to its budget (status done)."""
    run = start_training_run(
        learner="ppo",
        values={
            "total_steps": BUDGET,
            "num_envs": 4,
            "num_steps": 128,
            "eval_episodes": 1,
            "checkpoint_every": 512,
            "reward": reach_program,
            "video": False,
        },
        out=tmp_path_factory.mktemp("finished") / "run",
    )
    train_run(run)
    assert run.read_manifest()["status"] == "done"
    return run.path


@pytest.fixture
def run_copy(finished_run, tmp_path) -> RunDir:
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return RunDir(copy)


@pytest.mark.parametrize("steps", [[], ["--steps", str(BUDGET)], ["--steps", "512"]])
def test_resuming_a_finished_run_changes_nothing(agentgym_cli, run_copy, steps):
    before = snapshot(run_copy.path)
    done = agentgym_cli("train", "--resume", str(run_copy.path), *steps)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already finished at step 1,024" in done.stdout and "--steps N" in done.stdout
    assert snapshot(run_copy.path) == before  # manifest, report, metrics, tb: byte-identical


def test_steps_larger_than_the_budget_extends_a_finished_run(agentgym_cli, run_copy):
    tb_files = sorted((run_copy.logs_dir / "tb").iterdir())
    done = agentgym_cli("train", "--resume", str(run_copy.path), "--steps", str(2 * BUDGET))
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = run_copy.read_manifest()
    assert manifest["status"] == "done" and manifest["final"]["step"] == 2 * BUDGET
    assert manifest["extended"] == [{"from": BUDGET, "to": 2 * BUDGET}]
    assert run_copy.read_config()["config"]["total_steps"] == 2 * BUDGET
    rows = run_copy.metrics()
    train_steps = [r["step"] for r in rows if "loss/policy" in r]
    assert train_steps == sorted(set(train_steps)) and train_steps[-1] == 2 * BUDGET
    eval_steps = [r["step"] for r in rows if "eval/success_rate" in r]
    assert eval_steps == sorted(set(eval_steps))  # no duplicate eval row at the old end
    assert eval_steps[-1] == 2 * BUDGET
    # The extension is one more TensorBoard file; resuming it again (finished) adds none.
    assert len(sorted((run_copy.logs_dir / "tb").iterdir())) == len(tb_files) + 1
    before = snapshot(run_copy.path)
    again = agentgym_cli("train", "--resume", str(run_copy.path), "--steps", str(2 * BUDGET))
    assert again.returncode == 0 and "already finished at step 2,048" in again.stdout
    assert snapshot(run_copy.path) == before


def test_resume_names_the_flags_it_refuses(agentgym_cli, run_copy):
    refused = agentgym_cli("train", "--resume", str(run_copy.path), "--env", "CartPole-v1")
    assert refused.returncode == 2
    assert "drop --env" in refused.stderr and "env_id" not in refused.stderr
    bad = agentgym_cli("train", "--resume", str(run_copy.path), "--steps", "0")
    assert bad.returncode == 2 and "--steps must be a positive" in bad.stderr


class Payload:
    """Unpickling this runs ``touch <path>``: what a poisoned checkpoint would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.path}",))


def _truncate(path: Path, tmp_path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garble(path: Path, tmp_path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100:4000] = bytes(3900)
    path.write_bytes(bytes(data))


def _poison(path: Path, tmp_path: Path) -> None:
    import torch

    torch.save({"format": 1, "payload": Payload(tmp_path / "pwned")}, path)


@pytest.mark.parametrize("damage", [_truncate, _garble, _poison])
def test_a_broken_checkpoint_is_named_and_leaves_the_run_as_it_was(
    agentgym_cli, run_copy, tmp_path, damage
):
    # A stopped run (not finished), so that --resume would train from the checkpoint.
    run_copy.update_manifest(status="interrupted")
    damage(run_copy.checkpoints_dir / "latest.pt", tmp_path)
    before = snapshot(run_copy.path)
    refused = agentgym_cli("train", "--resume", str(run_copy.path))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "checkpoints/latest.pt" in refused.stderr and "Traceback" not in refused.stderr
    assert "left as it was" in refused.stderr
    assert snapshot(run_copy.path) == before
    assert not (tmp_path / "pwned").exists()  # the safe unpickler ran nothing


def test_load_checkpoint_raises_a_checkpoint_error_naming_the_file(tmp_path):
    from agentgym.learners.checkpoint import CheckpointError, load_checkpoint

    path = tmp_path / "latest.pt"
    path.write_bytes(pickle.dumps({"a": 1})[:5])
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def test_an_sb3_checkpoint_resumes_without_unpickling_its_data(agentgym_cli, tmp_path):
    """SB3's ``PPO.load`` cloudpickle-loads the zip's "data"; agentgym reads back only its
    tensors (weights_only) and its own JSON, so a poisoned entry there runs nothing."""
    import base64
    import json
    import zipfile

    import cloudpickle

    run = start_training_run(
        learner="sb3-ppo",
        values={"total_steps": 1024, "num_envs": 4, "num_steps": 128, "eval_episodes": 1},
        out=tmp_path / "sb3",
    )
    train_run(run, callback=lambda row: False, report=False)  # stopped after its first row
    checkpoint = run.checkpoints_dir / "latest.zip"
    with zipfile.ZipFile(checkpoint) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    payload = base64.b64encode(cloudpickle.dumps(Payload(tmp_path / "pwned"))).decode()
    data["policy_class"] = {":type:": "<class 'type'>", ":serialized:": payload}
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(checkpoint, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)

    done = agentgym_cli("train", "--resume", str(run.path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "pwned").exists()
    assert run.read_manifest()["status"] == "done"
    steps = [r["step"] for r in run.metrics() if "loss/policy" in r]
    assert steps == sorted(set(steps)) and steps[-1] >= 1024  # continued from the checkpoint
