"""``agentgym reward synthesize`` end to end: kill it mid-iteration, rerun, nothing paid twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P

# rich wraps output at the terminal width; wide, a long "report: PATH" line stays whole
WIDE = {"COLUMNS": "160"}


def _search(server: ScriptedOpenAIServer, out: Path) -> list[str]:
    """``agentgym reward synthesize``: Eureka on Reach (its preset: SAC), one iteration of
    three samples."""
    return [
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
        "--final-steps",  # else the preset's full budget
        "2048",
        "--learning-starts",  # Reach's preset is SAC: a small one, to train in seconds
        "256",
        "--hidden-sizes",
        "32",
        "32",
        "--eval-episodes",
        "2",
        "--final-seeds",
        "1",
        "--no-references",
        "--out",
        str(out),
    ]


@dataclass
class KilledSearch:
    out: Path
    rejected: Path  # the result of the sample that finished before the kill
    finished_at: int  # its mtime
    resumed: subprocess.CompletedProcess
    requests_after_resume: int
    sessions_after_resume: list[dict]


@pytest.fixture(scope="module")
def killed_search(agentgym_cli, module_llm_cache, tmp_path_factory) -> KilledSearch:
    """A search killed once a broken sample is finished and the others are training,
    then run again with the same command."""
    work = tmp_path_factory.mktemp("killed")
    out = work / "run"
    # Two sound programs: AWAY would not reach training past the trajectory filter.
    with ScriptedOpenAIServer([P.GOOD, P.BAD_SHAPE, P.GOOD_TEMPERED]) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentgym", *_search(server, out)],
            env={**os.environ, **WIDE},
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        rejected = out / "iter_00" / "sample_01" / "result.json"
        worker = out / "iter_00" / "worker"

        def training() -> bool:
            # in the worker's folder, or in a private copy of it (several local workers)
            return any(worker.glob("**/sample_00/logs/metrics.jsonl"))

        deadline = time.monotonic() + 300
        # kill once the broken sample is finished and the others are training
        while not (rejected.is_file() and training()) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert rejected.is_file() and not (out / "iter_00" / "sample_00" / "result.json").is_file()
        assert len(server.requests) == 1
        finished_at = rejected.stat().st_mtime_ns
        resumed = agentgym_cli(*_search(server, out), env=WIDE, cwd=work)
        requests = len(server.requests)
    sessions = json.loads((out / "llm_usage.json").read_text())["sessions"]
    return KilledSearch(out, rejected, finished_at, resumed, requests, sessions)


def test_killed_mid_iteration_resumes_with_zero_new_llm_calls(killed_search):
    done = killed_search.resumed
    assert done.returncode == 0, done.stdout + done.stderr
    assert killed_search.requests_after_resume == 1  # zero new LLM calls
    assert "resuming" in done.stdout
    assert f"report: {killed_search.out / 'report.html'}" in done.stdout
    last = killed_search.sessions_after_resume[-1]
    assert last["requests"] == 0 and last["cache_hits"] == 3


def test_a_resumed_search_keeps_finished_samples_and_trains_the_rest(killed_search):
    out = killed_search.out
    assert killed_search.rejected.stat().st_mtime_ns == killed_search.finished_at  # not redone
    statuses = [
        json.loads((out / "iter_00" / f"sample_{i:02d}" / "result.json").read_text())["status"]
        for i in range(3)
    ]
    assert statuses == ["trained", "rejected", "trained"]
    assert (out / "best_reward.py").is_file() and (out / "report.html").is_file()


def test_resume_dir_of_a_finished_search_trains_nothing_and_asks_nothing(
    agentgym_cli, killed_search, tmp_path
):
    out = killed_search.out
    again = agentgym_cli("reward", "synthesize", "--resume", str(out), env=WIDE, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stdout
    sessions = json.loads((out / "llm_usage.json").read_text())["sessions"]
    assert len(sessions) == 3 and sessions[-1]["requests"] == 0
    assert [s["requests"] for s in sessions] == [1, 0, 0]  # the killed run's request is accounted


def test_a_designer_typo_is_named_with_the_closest(agentgym_cli, isolated_llm_cache, tmp_path):
    typo = agentgym_cli(
        "reward", "synthesize", "--env", "agentgym/Reach-v0", "--designer", "eurika",
        "--llm", "openai:x", env=WIDE, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert typo.returncode == 2 and "Did you mean 'eureka'?" in typo.stderr


def test_a_search_without_an_llm_asks_for_one(agentgym_cli, isolated_llm_cache, tmp_path):
    missing = agentgym_cli(
        "reward", "synthesize", "--env", "agentgym/Reach-v0",
        env={**WIDE, "AGENTGYM_LLM": None}, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and "--llm" in missing.stderr


def test_an_env_typo_is_named_with_the_closest(agentgym_cli, isolated_llm_cache, tmp_path):
    bad_env = agentgym_cli(
        "reward", "synthesize", "--env", "agentgym/Reech-v0", "--llm", "openai:x",
        env=WIDE, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert bad_env.returncode == 2 and "Reach" in bad_env.stderr


@pytest.mark.slow
def test_reward_eval_reports_mean_spread_and_normalised_score(
    agentgym_cli, isolated_llm_cache, reach_program, tmp_path
):
    done = agentgym_cli(
        "reward",
        "eval",
        "--env",
        "agentgym/Reach-v0",
        "--reward",
        reach_program,
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
        env=WIDE,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["rewards"]) == {"reward", "sparse", "human"}
    # the same program trained on the same seeds as the human reference: identical success
    assert result["rewards"]["reward"]["success"] == result["rewards"]["human"]["success"]
    cached = list((isolated_llm_cache / "references").glob("*.json"))
    assert len(cached) == 1 and set(json.loads(cached[0].read_text())) == {"sparse", "human"}


def test_a_flag_of_another_learner_names_the_preset_and_the_way_out(
    agentgym_cli, isolated_llm_cache, tmp_path
):
    wrong = agentgym_cli(
        "reward", "synthesize", "--env", "agentgym/Reach-v0", "--llm", "openai:x",
        "--num-steps", "64", env=WIDE, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "--num-steps: not a setting of --learner sac" in wrong.stderr
    assert "--learner ppo (or --no-preset)" in wrong.stderr


def test_reward_eval_trains_with_the_preset_and_records_it(
    agentgym_cli, isolated_llm_cache, tmp_path
):
    done = agentgym_cli(
        "reward", "eval", "--env", "agentgym/CartPole-v0", "--reward", "sparse",
        "--seeds", "1", "--steps", "512", "--num-steps", "16", "--eval-episodes", "1",
        "--no-references", "--out", str(tmp_path / "ev"), env=WIDE, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert result["learner"] == "population"
    assert result["preset"] == {
        "name": "agentgym/CartPole-v0",
        "overrides": ["num_steps", "total_steps"],
    }
    # the preset's settings under the flags given
    from agentgym.presets import preset_for

    preset = preset_for("agentgym/CartPole-v0").config
    assert (result["config"]["num_envs"], result["config"]["num_steps"]) == (preset["num_envs"], 16)
    assert result["config"]["total_steps"] == 512
    assert result["config"]["gamma"] == preset["gamma"] != 0.99  # not PPOConfig's default


def test_synthesize_fails_at_once_on_a_refused_loopback_port(isolated_llm_cache, tmp_path, capsys):
    import socket

    from agentgym.cli import main

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    start = time.perf_counter()
    code = main(
        ["reward", "synthesize", "--env", "agentgym/Reach-v0", "--llm", f"openai:m@{url}"]
        + ["--iterations", "1", "--samples", "1", "--steps", "2048", "--out", str(tmp_path / "r")]
    )
    # It used to retry a refused connection with backoff for ~45 s.
    assert code != 0 and time.perf_counter() - start < 20
    err = " ".join(capsys.readouterr().err.split())
    assert "connection refused" in err and url in err
