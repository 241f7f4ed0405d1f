"""The local executor with several workers: jobs sharing a root run at once, each in a
private copy of it, and their outputs come back; a population splits over the workers."""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest

from agentgym.executors import Job, LocalExecutor, make_executor
from agentgym.executors.local import PRIVATE
from agentgym.executors.options import add_executor_options, executor_from_args
from agentgym.sandbox import Limits

FAST = Limits(cpu_s=60, memory_mb=2048)


@pytest.mark.parametrize(
    ("workers", "groups"),
    [
        (1, [[0, 1, 2, 3, 4, 5, 6, 7]]),
        (2, [[0, 1, 2, 3], [4, 5, 6, 7]]),
        (3, [[0, 1, 2], [3, 4, 5], [6, 7]]),
        (16, [[0], [1], [2], [3], [4], [5], [6], [7]]),
    ],
)
def test_a_population_splits_into_near_equal_contiguous_groups(workers, groups):
    assert LocalExecutor(workers).member_groups(list(range(8))) == groups


def test_workers_default_to_the_cores_and_a_bad_count_names_the_field():
    assert LocalExecutor().workers == len(os.sched_getaffinity(0))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="LocalExecutor.workers: expected an int >= 1"):
            LocalExecutor(bad)


def test_the_workers_flag_reaches_the_executor_and_is_refused_for_ray():
    parser = argparse.ArgumentParser()
    add_executor_options(parser)
    assert executor_from_args(parser.parse_args(["--workers", "3"])).workers == 3
    with pytest.raises(ValueError, match="--workers: expected an integer >= 1, got 0"):
        executor_from_args(parser.parse_args(["--workers", "0"]))
    with pytest.raises(ValueError, match="--workers: only with --executor local"):
        make_executor("ray", workers=2)


def _jobs(root: Path, count: int, seconds: float) -> list[Job]:
    (root / "in").mkdir(parents=True)
    jobs = []
    for n in range(count):
        (root / "in" / f"source{n}.txt").write_text(f"input of job {n}")
        jobs.append(
            Job(
                "tests.executors.targets:copy_upper_slowly",
                root,
                kwargs={"seconds": seconds},
                path_kwargs={"source": f"in/source{n}.txt", "target": f"out{n}/copy.txt"},
                inputs=(f"in/source{n}.txt",),
                outputs=(f"out{n}",),
                limits=FAST,
                deadline_s=60,
            )
        )
    return jobs


def test_jobs_sharing_a_root_run_at_once_and_their_outputs_come_back(tmp_path):
    root = tmp_path / "run"
    jobs = _jobs(root, 3, seconds=3.0)
    # the third sets its own env pool threads; the others get the cores split two ways
    jobs[2] = dataclasses.replace(
        jobs[2], kwargs={"seconds": 0.1}, limits=dataclasses.replace(FAST, pool_threads=3)
    )
    (root / "out1").mkdir(parents=True)
    (root / "out1" / "stale.txt").write_text("a killed run's leftover")
    reported: list[int] = []
    threads: set[int] = set()

    def on_result(n, result):
        reported.append(n)
        threads.add(threading.get_ident())

    results = LocalExecutor(2).run(jobs, on_result)
    assert [r.ok for r in results] == [True, True, True], results
    assert sorted(reported) == [0, 1, 2]
    for n, result in enumerate(results):
        assert (root / f"out{n}" / "copy.txt").read_text() == f"INPUT OF JOB {n}"
        # it ran in a private copy, said as the job's root in what came back
        assert result.value["cwd"] == str(root.resolve())
        assert result.value["target"] == str(root.resolve() / f"out{n}" / "copy.txt")
    split = str(max(1, len(os.sched_getaffinity(0)) // 2))
    assert [r.value["pool_threads"] for r in results] == [split, split, "3"]
    assert not (root / "out1" / "stale.txt").exists()
    assert sorted(p.name for p in root.iterdir()) == ["in", "out0", "out1", "out2"]
    first, second = (r.value for r in results[:2])
    assert first["start"] < second["end"] and second["start"] < first["end"]  # overlapped


def test_one_worker_runs_the_jobs_in_place_one_after_the_other(tmp_path):
    root = tmp_path / "run"
    results = LocalExecutor(1).run(_jobs(root, 2, seconds=0.5), lambda n, r: None)
    assert [r.ok for r in results] == [True, True], results
    first, second = (r.value for r in results)
    assert first["end"] <= second["start"]
    # alone on the machine: its env pools keep their default, every core
    assert first["pool_threads"] == second["pool_threads"] == os.environ.get("AGENTGYM_NUM_THREADS")
    assert (root / "result.json").exists()  # the worker's own files, in the root itself
    assert not (root / PRIVATE).exists()


def test_a_failing_callback_stops_the_other_running_worker_at_once_keeping_its_output(
    tmp_path,
):
    root = tmp_path / "run"
    quick, slow = _jobs(root, 2, seconds=0.0)
    slow = Job(
        "tests.executors.targets:copy_upper_then_spin",
        root,
        path_kwargs={"source": "in/source1.txt", "target": "spun/copy.txt"},
        inputs=("in/source1.txt",),
        outputs=("spun",),
        limits=FAST,
        deadline_s=120,
    )

    def on_result(n, result):
        # Fail once the spinning job has written its partial output (its worker may
        # start after the quick one ended, on a busy machine).
        partial = root / PRIVATE / "job_01" / "spun" / "copy.txt"
        deadline = time.monotonic() + 60
        while not partial.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        raise RuntimeError(f"the driver failed on job {n}")

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="the driver failed on job 0"):
        LocalExecutor(2).run([quick, slow], on_result)
    # the spinning worker was killed within a poll, not waited for (its CPU limit is 60 s)
    assert time.monotonic() - start < 30
    assert not (root / PRIVATE).exists()
    # what each wrote came back, the cancelled one's partial output too (as in place)
    assert (root / "out0" / "copy.txt").read_text() == "INPUT OF JOB 0"
    assert (root / "spun" / "copy.txt").read_text() == "INPUT OF JOB 1"
