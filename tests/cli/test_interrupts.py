"""SIGTERM and SIGINT stop ``agentgym train`` and ``agentgym reward synthesize`` like
Ctrl-C: status "interrupted", nothing finished is lost, and ``--resume`` continues."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentgym.runs import RunDir
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.cli.test_synthesize import WIDE, _search
from tests.reward_designers import synthesis_programs as P
from tests.sandbox.leftovers import processes_mentioning

BUDGET = 16384


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.is_file():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def _train(out: Path) -> list[str]:
    return [
        sys.executable, "-m", "agentgym", "train", "--env", "agentgym/Reach-v0",
        "--learner", "ppo", "--steps", str(BUDGET), "--num-envs", "4", "--num-steps", "128",
        "--checkpoint-every", "512", "--eval-episodes", "1", "--no-video", "--out", str(out),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "sig",
    [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_during_train_leaves_an_interrupted_run_that_resumes(agentgym_cli, tmp_path, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _train(out), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    _wait_for(out / "checkpoints" / "latest.pt", proc)
    proc.send_signal(sig)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 128 + sig, output
    assert f"agentgym train --resume {out}" in output
    run = RunDir.open(out)
    manifest = run.read_manifest()
    assert manifest["status"] == "interrupted" and "final" not in manifest
    stopped_at = max(r["step"] for r in run.metrics())
    assert stopped_at < BUDGET and run.report_path.is_file()

    done = agentgym_cli("train", "--resume", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = run.read_manifest()
    assert manifest["status"] == "done" and manifest["final"]["step"] == BUDGET
    steps = [r["step"] for r in run.metrics() if "loss/policy" in r]
    assert steps == sorted(set(steps)) and steps[-1] == BUDGET  # continued, not restarted


@pytest.mark.slow  # ~45 s: a search trained twice
def test_sigterm_during_synthesis_is_interrupted_and_resumes_without_new_llm_calls(
    agentgym_cli, module_llm_cache, tmp_path
):
    out = tmp_path / "run"
    with ScriptedOpenAIServer([P.GOOD, P.BAD_SHAPE, P.GOOD_TEMPERED]) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentgym", *_search(server, out)],
            env={**os.environ, **WIDE},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        rejected = out / "iter_00" / "sample_01" / "result.json"
        _wait_for(rejected, proc)
        worker = out / "iter_00" / "worker"  # the candidates train in it or private copies
        deadline = time.monotonic() + 300
        while not any(worker.glob("**/sample_00/logs/metrics.jsonl")):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "sample_00 did not start training"
            time.sleep(0.05)
        finished_at = rejected.stat().st_mtime_ns
        proc.send_signal(signal.SIGTERM)  # to the CLI alone, as `kill PID` does
        output = proc.communicate(timeout=120)[0]
        assert proc.returncode == 128 + signal.SIGTERM, output
        assert f"reward synthesize --resume {out}" in output
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
        assert processes_mentioning(str(out)) == []  # the training worker was stopped too
        assert not (out / "iter_00" / "sample_00" / "result.json").is_file()
        assert len(server.requests) == 1

        resumed = agentgym_cli("reward", "synthesize", "--resume", str(out), env=WIDE, cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert len(server.requests) == 1  # finished candidates cost no new LLM call
    assert rejected.stat().st_mtime_ns == finished_at  # recorded before: kept, not redone
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"
    statuses = [
        json.loads((out / "iter_00" / f"sample_{i:02d}" / "result.json").read_text())["status"]
        for i in range(3)
    ]
    assert statuses == ["trained", "rejected", "trained"]


def test_sigterm_during_reward_eval_stops_its_workers_and_keeps_what_they_wrote(tmp_path):
    """``reward eval`` in two local workers (private copies of its folder): SIGTERM ends
    it as Ctrl-C does, the workers are stopped and their partial runs come back."""
    out = tmp_path / "eval"
    argv = [
        sys.executable, "-m", "agentgym", "reward", "eval", "--env", "agentgym/Reach-v0",
        "--reward", "env", "--seeds", "2", "--steps", "200000", "--no-references",
        "--workers", "2", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv,
        env={**os.environ, **WIDE},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    private = out / ".workers"
    deadline = time.monotonic() + 300
    while len(list(private.glob("job_*/reward_seed*/logs/metrics.jsonl"))) < 2:
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the two workers did not start training"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "interrupted" in output
    assert processes_mentioning(str(out)) == []  # both workers were stopped
    assert not private.exists()
    for seed in (0, 1):
        assert (out / f"reward_seed{seed}" / "logs" / "metrics.jsonl").is_file()
    assert not (out / "eval.json").exists()
