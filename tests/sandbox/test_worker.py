"""The worker alone (no static check): what a program that slipped past the AST could do.

Each hostile target runs in a real confined worker; the tests assert the containment
itself: canaries unchanged, 0 bytes on the loopback canary, no secret in any output or
file, the parent alive, and no process left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentgym.sandbox import Code, Limits, run_in_worker
from agentgym.sandbox.isolation import available
from tests.sandbox.leftovers import files_text, processes_mentioning

HOSTILE = "tests.sandbox.hostile"
FAST = Limits(memory_mb=1024, cpu_s=20, max_processes=32, file_size_mb=8, output_chars=100_000)

needs_bwrap = pytest.mark.skipif(available() != "bwrap", reason="bubblewrap is not usable here")


def run(target: str, tmp_path: Path, limits: Limits = FAST, deadline_s: float = 30.0, **kwargs):
    run_dir = tmp_path / "worker"
    result = run_in_worker(
        f"{HOSTILE}:{target}", kwargs, run_dir=run_dir, limits=limits, deadline_s=deadline_s
    )
    assert processes_mentioning(str(run_dir)) == [], "a worker process outlived its run"
    return result, run_dir


def assert_no_secret(result, run_dir: Path, secret: str) -> None:
    for text in (
        result.message,
        result.detail,
        result.stdout_tail,
        result.stderr_tail,
        repr(result.value),
    ):
        assert secret not in text
    assert secret not in files_text(run_dir)


def test_environment_is_scrubbed(tmp_path, secret):
    result, run_dir = run("read_environment", tmp_path)
    assert result.ok, result.detail
    env = result.value
    assert secret not in repr(env)
    assert not any(k in env for k in ("OPENAI_API_KEY", "HF_TOKEN"))
    assert env["HOME"] == str(run_dir / "home")
    assert_no_secret(result, run_dir, secret)


@needs_bwrap
def test_secret_file_under_home_is_hidden(tmp_path, secret, secret_file):
    result, run_dir = run("read_file", tmp_path, path=str(secret_file))
    assert not result.ok and result.code == Code.RUNTIME_ERROR
    assert "FileNotFoundError" in result.message
    assert_no_secret(result, run_dir, secret)


@needs_bwrap
def test_cannot_write_outside_run_folder(tmp_path, canary_file):
    before = canary_file.read_bytes()
    result, _ = run("write_file", tmp_path, path=str(canary_file))
    assert not result.ok and result.code == Code.RUNTIME_ERROR
    # /var/tmp is not in the worker's file view at all (agentgym.sandbox.view).
    assert "No such file or directory" in result.message, result.message
    result, _ = run("shell_write", tmp_path, path=str(canary_file))
    assert canary_file.read_bytes() == before


def test_writes_inside_run_folder_and_uses_threads(tmp_path):
    result, run_dir = run(
        "train_like",
        tmp_path,
        limits=Limits(threads=2, cpu_s=60),
        run_dir_file=str(tmp_path / "worker" / "out.txt"),
        threads=2,
    )
    assert result.ok, result.detail
    assert result.value["threads"] == 2 and result.value["finite"]
    assert result.value["cwd"] == str(run_dir)
    assert (run_dir / "out.txt").is_file()


@pytest.mark.parametrize("isolation", ["bwrap", "netns"])
def test_no_network_to_loopback_canary(tmp_path, canary_server, isolation):
    if isolation == "bwrap" and available() != "bwrap":
        pytest.skip("bubblewrap is not usable here")
    if available() == "rlimits":
        pytest.skip("no network namespaces on this machine")
    before = canary_server.received
    result, _ = run(
        "connect",
        tmp_path,
        limits=Limits(**{**FAST.__dict__, "isolation": isolation}),
        port=canary_server.port,
    )
    assert not result.ok and result.code == Code.RUNTIME_ERROR
    # "-root" says, never hides, that a worker outside bubblewrap kept uid 0.
    assert result.isolation in (isolation, f"{isolation}-root")
    assert canary_server.received == before == 0


def test_rlimits_isolation_is_reported_not_hidden(tmp_path):
    result, _ = run(
        "read_environment", tmp_path, limits=Limits(**{**FAST.__dict__, "isolation": "rlimits"})
    )
    assert result.ok and result.isolation in ("rlimits", "rlimits-root")


def test_a_worker_that_keeps_root_is_reported_as_such(tmp_path):
    result, _ = run(
        "probe_privileges", tmp_path, limits=Limits(**{**FAST.__dict__, "isolation": "rlimits"})
    )
    assert result.ok
    assert result.isolation.endswith("-root") == (result.value["uid"] == 0)


def test_detached_daemon_is_killed(tmp_path):
    token = "987654.321"
    result, _ = run("spawn_daemon", tmp_path, token=token)
    assert result.ok
    assert processes_mentioning(f"sleep {token}") == []


def test_fork_bomb_is_bounded_and_cleaned_up(tmp_path):
    result, _ = run("fork_bomb", tmp_path, deadline_s=20, seconds=2.0)
    if result.ok:
        # The pids cgroup (or RLIMIT_NPROC) refused forks beyond max_processes.
        assert result.process_limit in ("cgroup", "nproc")
        assert 1 <= result.value < FAST.max_processes
    else:
        assert result.code in (Code.TIMEOUT, Code.RUNTIME_ERROR)
    # The forked sleepers are gone: killed by the worker's sweep (result.leftover counts
    # those) or, under bwrap, by the kernel when the pid namespace's init exited first.
    assert processes_mentioning(str(tmp_path)) == []


def test_killing_the_parent_fails(tmp_path):
    result, _ = run("kill_parent", tmp_path, pid=os.getpid())
    # Still here: in the pid namespace the parent's pid names nothing (or is not ours to kill).
    assert os.getpid() > 0
    assert result.ok and "returned -1" in result.value or result.ok is False


def test_wall_clock_deadline(tmp_path):
    result, _ = run("spin", tmp_path, deadline_s=3)
    assert not result.ok and result.code == Code.TIMEOUT
    assert 2.5 < result.wall_s < 15


def test_cpu_limit(tmp_path):
    result, _ = run("spin", tmp_path, limits=Limits(**{**FAST.__dict__, "cpu_s": 1}), deadline_s=60)
    assert not result.ok and result.code == Code.TIMEOUT
    assert "CPU seconds" in result.message


def test_memory_limit(tmp_path):
    result, _ = run("hog_memory", tmp_path)
    assert not result.ok and result.code == Code.MEMORY


def test_flood_on_a_raw_file_descriptor(tmp_path):
    result, run_dir = run("flood_fd", tmp_path, total_mb=200)
    assert not result.ok and result.code == Code.OUTPUT_LIMIT
    assert (run_dir / "stdout.log").stat().st_size <= FAST.file_size_mb * 1024 * 1024
    assert len(result.stdout_tail) <= 4000


def test_the_targets_value_comes_back_as_json(tmp_path):
    result = run_in_worker("os:getpid", {}, run_dir=tmp_path / "w", limits=FAST, deadline_s=20)
    assert result.ok and isinstance(result.value, int)


def test_an_exception_in_the_target_is_a_runtime_error_naming_it(tmp_path):
    result = run_in_worker(
        "os:cpu_count", {"bogus": 1}, run_dir=tmp_path / "w2", limits=FAST, deadline_s=20
    )
    assert not result.ok and result.code == Code.RUNTIME_ERROR and "TypeError" in result.message
