"""``agentgym reward synthesize`` end to end: kill it mid-iteration, rerun, nothing paid twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P

ROOT = Path(__file__).resolve().parents[2]


def _command(server: ScriptedOpenAIServer, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "agentgym",
        "reward",
        "synthesize",
        "--env",
        "agentgym/Reach-v0",
        "--designer",
        "eureka",
        "--llm",
        f"openai:scripted-model@{server.base_url}",
        "--iterations",
        "1",
        "--samples",
        "3",
        "--steps",
        "2048",
        "--num-envs",
        "4",
        "--eval-episodes",
        "2",
        "--final-seeds",
        "1",
        "--no-references",
        "--out",
        str(out),
        *extra,
    ]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "AGENTGYM_CACHE": str(tmp_path / "cache"),
        "OPENAI_API_KEY": "test-key-not-secret",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "160",
    }
    env.setdefault("MUJOCO_GL", "egl")
    return env


def test_killed_mid_iteration_resumes_with_zero_new_llm_calls(tmp_path):
    out = tmp_path / "run"
    with ScriptedOpenAIServer([P.GOOD, P.BAD_SHAPE, P.AWAY]) as server:
        proc = subprocess.Popen(
            _command(server, out),
            env=_env(tmp_path),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        rejected = out / "iter_00" / "sample_01" / "result.json"
        training = out / "iter_00" / "sample_00" / "train" / "logs" / "metrics.jsonl"
        deadline = time.monotonic() + 300
        # kill once the broken sample is finished and the others are training
        while not (rejected.is_file() and training.is_file()) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert rejected.is_file() and not (out / "iter_00" / "sample_00" / "result.json").is_file()
        assert len(server.requests) == 1
        finished_at = rejected.stat().st_mtime_ns

        done = subprocess.run(
            _command(server, out),
            env=_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(server.requests) == 1  # zero new LLM calls
    assert "resuming" in done.stdout and f"report: {out / 'report.html'}" in done.stdout
    assert rejected.stat().st_mtime_ns == finished_at  # the finished sample was not redone
    sessions = json.loads((out / "llm_usage.json").read_text())["sessions"]
    assert sessions[-1]["requests"] == 0 and sessions[-1]["cache_hits"] == 3
    statuses = [
        json.loads((out / "iter_00" / f"sample_{i:02d}" / "result.json").read_text())["status"]
        for i in range(3)
    ]
    assert statuses == ["trained", "rejected", "trained"]
    assert (out / "best_reward.py").is_file() and (out / "report.html").is_file()

    # a finished run, continued with --resume DIR: it trains nothing and asks nothing
    again = subprocess.run(
        [sys.executable, "-m", "agentgym", "reward", "synthesize", "--resume", str(out)],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stdout
    sessions = json.loads((out / "llm_usage.json").read_text())["sessions"]
    assert len(sessions) == 3 and sessions[-1]["requests"] == 0
    assert [s["requests"] for s in sessions] == [1, 0, 0]  # the killed run's request is accounted


def test_cli_errors_name_the_option(tmp_path):
    def run(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "agentgym", "reward", "synthesize", *a],
            env=_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    typo = run("--env", "agentgym/Reach-v0", "--designer", "eurika", "--llm", "openai:x")
    assert typo.returncode == 2 and "Did you mean 'eureka'?" in typo.stderr
    env = {k: v for k, v in _env(tmp_path).items() if k != "AGENTGYM_LLM"}
    missing = subprocess.run(
        [sys.executable, "-m", "agentgym", "reward", "synthesize", "--env", "agentgym/Reach-v0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "--llm" in missing.stderr
    bad_env = run("--env", "agentgym/Reech-v0", "--llm", "openai:x")
    assert bad_env.returncode == 2 and "Reach" in bad_env.stderr


@pytest.mark.slow
def test_reward_eval_reports_mean_spread_and_normalised_score(tmp_path):
    human = ROOT / "reward_designers" / "library" / "reach.py"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentgym",
            "reward",
            "eval",
            "--env",
            "agentgym/Reach-v0",
            "--reward",
            str(human),
            "--seeds",
            "2",
            "--steps",
            "2048",
            "--num-envs",
            "4",
            "--eval-episodes",
            "2",
            "--out",
            str(tmp_path / "ev"),
            "--json",
        ],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["rewards"]) == {"reward", "sparse", "human"}
    # the same program trained on the same seeds as the human reference: identical success
    assert result["rewards"]["reward"]["success"] == result["rewards"]["human"]["success"]
    cached = list((tmp_path / "cache" / "references").glob("*.json"))
    assert len(cached) == 1 and set(json.loads(cached[0].read_text())) == {"sparse", "human"}
