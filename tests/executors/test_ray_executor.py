"""The Ray executor on a real two-node local cluster: results, deadlines, lost tasks."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from agentgym.executors import Job
from agentgym.executors.cluster import RayExecutor
from agentgym.sandbox import Code, Limits

pytest.importorskip(
    "ray", reason="the ray extra is not installed (pip install agentgym[ray]; make installs it)"
)
pytestmark = pytest.mark.ray

FAST = Limits(cpu_s=60, memory_mb=2048)


def _run(executor: RayExecutor, jobs: list[Job]) -> tuple[list, list[int]]:
    order: list[int] = []
    results = executor.run(jobs, lambda n, result: order.append(n))
    return results, order


def test_a_job_runs_in_a_sandbox_worker_on_a_node_and_its_outputs_come_back(ray_cluster, tmp_path):
    root = tmp_path / "job"
    (root / "in").mkdir(parents=True)
    (root / "in" / "source.txt").write_text("the driver's input")
    job = Job(
        "tests.executors.targets:copy_upper",
        root,
        path_kwargs={"source": "in/source.txt", "target": "out/copy.txt"},
        inputs=("in/source.txt",),
        outputs=("out",),
        limits=FAST,
        deadline_s=60,
    )
    (result,), order = _run(RayExecutor(), [job])
    assert result.ok, result
    assert order == [0]
    assert (root / "out" / "copy.txt").read_text() == "THE DRIVER'S INPUT"
    # the worker ran in a node's own folder (it left no worker files in the driver's),
    # whose path reads as the driver's in what came back; and it was sandboxed
    assert not (root / "request.json").exists() and not (root / "stdout.log").exists()
    assert result.value["cwd"] == str(root.resolve())
    assert result.value["pid"] != os.getpid()
    assert result.isolation.startswith(("bwrap", "netns", "rlimits"))
    assert result.value["pool_threads"] == "1"  # the task's one CPU, not the node's cores


def test_a_hung_task_is_cancelled_at_its_deadline_retried_then_coded(ray_cluster, tmp_path):
    hung = Job("tests.sandbox.hostile:spin", tmp_path / "hung", limits=FAST, deadline_s=120)
    quick = Job("os:getpid", tmp_path / "quick", limits=FAST, deadline_s=60)
    start = time.monotonic()
    results, order = _run(RayExecutor(retries=1, task_deadline_s=6), [hung, quick])
    assert results[0].code == Code.DEADLINE
    assert "did not finish within 6 s (2 attempts)" in results[0].message
    assert results[1].ok  # the rest went on
    assert order[0] == 1
    assert time.monotonic() - start < 60  # far from the worker's own 120 s


def _ray_task_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"ray::agentgym:"):
                found.append(int(entry.name))
    return found


def test_a_task_whose_worker_is_killed_is_retried_then_coded_executor_lost(ray_cluster, tmp_path):
    job = Job("tests.sandbox.hostile:spin", tmp_path / "lost", limits=FAST, deadline_s=120)
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:  # the Ray worker running our task, by its pid, each attempt
        while not stop.wait(0.5):
            for pid in _ray_task_pids():
                if pid not in killed:
                    killed.append(pid)
                    os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        (result,), _ = _run(RayExecutor(retries=1), [job])
    finally:
        stop.set()
        thread.join()
    assert len(killed) == 2
    assert result.code == Code.EXECUTOR_LOST
    assert "the Ray task was lost" in result.message and "(2 attempts)" in result.message
