"""A synthesis training worker writes only its own folder: a worker that writes into the
parent's files, leaves links for the parent to follow, or fills its disk quota loses
nothing recorded before (real sandbox workers, real files)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agentgym.reward_designers.synthesis import SynthesisConfig
from agentgym.reward_designers.synthesis.candidates import FAILED, REJECTED, Candidate
from agentgym.reward_designers.synthesis.stages import CandidateStages
from agentgym.sandbox import Limits

HOSTILE = "tests.reward_designers.hostile_training"


class HostileStages(CandidateStages):
    """The real training stage, with a hostile target and a small file-size limit."""

    def __init__(self, path: Path, target: str) -> None:
        config = SynthesisConfig(
            env_id="agentgym/Reach-v0", designer="library", steps=64, learner="ppo"
        )
        super().__init__(path, config, task=None, critic=None, emit=lambda *a, **k: None)
        self.train_target = f"{HOSTILE}:{target}"

    def train_limits(self, *args: object) -> Limits:
        return Limits.for_training(threads=1, file_size_mb=4, cpu_s=60)


@pytest.fixture
def run(tmp_path) -> Path:
    """A synthesis run folder with a manifest, a report, best.json, a sample recorded
    (rejected) before training and one pending sample with its program."""
    run = tmp_path / "run"
    (run / "iter_00" / "sample_00").mkdir(parents=True)
    (run / "iter_00" / "sample_01").mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"status": "running"}))
    (run / "report.html").write_text("<html>report</html>")
    (run / "best.json").write_text(json.dumps({"best": None}))
    rejected = Candidate(0, 0, REJECTED, "BAD_SHAPE", "returned the wrong shape")
    (run / "iter_00" / "sample_00" / "result.json").write_text(json.dumps(rejected.to_dict()))
    (run / "iter_00" / "sample_00" / "reward.py").write_text("# rejected\n")
    (run / "iter_00" / "sample_01" / "reward.py").write_text(
        "def compute_reward(state, action):\n    return -state['distance']\n"
    )
    (run / "iter_00" / "sample_01" / "vet.json").write_text(json.dumps({"ok": True}))
    return run


def snapshot(run: Path) -> dict[str, str]:
    return {
        p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.rglob("*"))
        if p.is_file() and "worker" not in p.relative_to(run).parts and "train" not in p.parts
    }


def test_a_worker_writing_into_the_parents_files_changes_none_of_them(run):
    before = snapshot(run)
    done: dict[int, Candidate] = {}
    HostileStages(run, "write_parent_files").train(0, [1], {1: "llm"}, done)
    after = snapshot(run)
    after.pop("iter_00/sample_01/result.json")  # the one file the stage itself records
    assert after == before
    train = run / "iter_00" / "sample_01" / "train"
    attempts = json.loads((train / "attempts.json").read_text())
    assert len(attempts) == 7  # the worker ran and tried every file
    # Links it left are gone before the parent reads the member's folder as data.
    assert not any(p.is_symlink() for p in train.rglob("*"))
    assert not (train / "traces.json").exists()
    assert done[1].status == "trained"  # what it claimed; its scores are its own business


def test_a_worker_that_fills_its_disk_quota_fails_coded_and_loses_nothing(run):
    before = snapshot(run)
    done: dict[int, Candidate] = {}
    HostileStages(run, "fill_disk").train(0, [1], {1: "llm"}, done)
    assert done[1].status == FAILED and done[1].code == "OUTPUT_LIMIT", done[1]
    recorded = json.loads((run / "iter_00" / "sample_01" / "result.json").read_text())
    assert recorded["code"] == "OUTPUT_LIMIT"
    after = snapshot(run)
    after.pop("iter_00/sample_01/result.json")
    assert after == before
    filler = run / "iter_00" / "sample_01" / "train" / "filler.bin"
    assert filler.stat().st_size <= 4 * 2**20  # stopped at the limit
