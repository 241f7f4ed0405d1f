"""A synthesis iteration through the scripted LLM with ``--executor ray`` on a two-node
local cluster: the same run folder as the local executor's, a resume after the driver is
killed, and a hostile program contained on a node exactly as on this machine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from agentgym.executors.cluster import RayExecutor
from agentgym.executors.local import LocalExecutor
from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P
from tests.reward_designers.conftest import TINY_SEARCH

pytest.importorskip(
    "ray", reason="the ray extra is not installed (pip install agentgym[ray]; make installs it)"
)
pytestmark = [pytest.mark.ray, pytest.mark.slow]

SCRIPT = [P.GOOD, P.AWAY, P.BAD_SHAPE, P.GOOD_TEMPERED]
# Worker-level files of the iteration folder: the local executor's one worker writes them
# beside the samples, each Ray task on its node; not part of what a run folder means.
WORKER_FILES = {"request.json", "result.json", "stdout.log", "stderr.log", "home", "tmp", "vet"}


def _config(server: ScriptedOpenAIServer) -> SynthesisConfig:
    return SynthesisConfig(
        env_id="agentgym/Reach-v0",
        llm=f"openai:scripted-model@{server.base_url}",
        iterations=1,
        samples=4,
        final_seeds=0,
        **TINY_SEARCH,
    )


EVENTS: dict[str, list[tuple[str, dict]]] = {}


def _search(executor, out: Path) -> Path:
    events = EVENTS.setdefault(executor.name, [])
    with ScriptedOpenAIServer(SCRIPT) as server:
        config = _config(server)
        run, _ = open_run(config, out)
        Synthesis(config, run, executor=executor, on_event=lambda *e: events.append(e)).run()
    return run.path


def _files(run: Path) -> set[str]:
    out = set()
    for path in (run / "iter_00").rglob("*"):
        rel = path.relative_to(run / "iter_00")
        # The local worker's own files: iter_NN/vet/ and iter_NN/worker/{request.json, ...}
        own = rel.parts[0] == "worker" and len(rel.parts) > 1 and rel.parts[1] in WORKER_FILES
        if rel.parts[0] in WORKER_FILES or own or not path.is_file():
            continue
        # TensorBoard names its files after the host and the time
        out.add(str(rel.parent / "events") if "tfevents" in rel.name else str(rel))
    return out


def _close(a: object, b: object, key: str = "") -> None:
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5), (key, a, b)
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), key
        for x, y in zip(a, b, strict=True):
            _close(x, y, key)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), key
        for k in a:
            _close(a[k], b[k], f"{key}.{k}")
    else:
        assert a == b, (key, a, b)


@pytest.fixture(scope="module")
def both(ray_cluster, module_llm_cache, tmp_path_factory):
    work = tmp_path_factory.mktemp("executors")
    local = _search(LocalExecutor(), work / "local")
    remote = _search(RayExecutor(), work / "ray")
    return local, remote


def test_a_ray_iteration_leaves_the_run_folder_the_local_executor_leaves(both):
    local, remote = both
    assert _files(local) == _files(remote)
    results = {}
    for run in (local, remote):
        results[run] = [
            json.loads((run / f"iter_00/sample_{i:02d}/result.json").read_text()) for i in range(4)
        ]
    assert [r["status"] for r in results[local]] == ["trained", "trained", "rejected", "trained"]
    for a, b in zip(results[local], results[remote], strict=True):
        _close(a, b)
    for i in (0, 1, 3):
        rows = [
            (run / f"iter_00/sample_{i:02d}/train/logs/metrics.jsonl").read_text().splitlines()
            for run in (local, remote)
        ]
        assert len(rows[0]) == len(rows[1])
        for a, b in zip(*rows, strict=True):
            _close(_comparable(json.loads(a)), _comparable(json.loads(b)))


def _comparable(row: dict) -> dict:
    """A metrics row without timings, and without ``member``: a population of several
    (the local executor's one worker) numbers its members, one of one (a Ray task) does not."""
    return {
        k: v
        for k, v in row.items()
        if k != "member" and "time" not in k and "sps" not in k and "per_s" not in k
    }


def test_remote_training_progress_reaches_the_display(both):
    steps = [data["step"] for kind, data in EVENTS["ray"] if kind == "train_progress"]
    assert steps and max(steps) > 0 and all(0 <= s <= 2048 for s in steps)
    kinds = {name: [k for k, _ in EVENTS[name] if k != "train_progress"] for name in EVENTS}
    assert kinds["ray"] == kinds["local"]  # the same stages, in the same order


# -- the driver killed mid-iteration, then resumed -----------------------------------------
RESUME_SCRIPT = [P.GOOD, P.BAD_SHAPE, P.GOOD_TEMPERED, P.GOOD]


def _cli_search(server: ScriptedOpenAIServer, out: Path, address: str) -> list[str]:
    return [
        "reward", "synthesize", "--env", "agentgym/Reach-v0", "--designer", "eureka",
        "--llm", f"openai:scripted-model@{server.base_url}",
        "--iterations", "1", "--samples", "4", "--steps", "2048", "--learner", "ppo",
        "--num-envs", "4", "--num-steps", "64", "--eval-episodes", "2",
        "--final-seeds", "0", "--out", str(out),
        "--executor", "ray", "--ray-address", address,
    ]  # fmt: skip


def _stamps(sample: Path) -> list[int]:
    """When a sample's result and training logs were written (a retrained one's change)."""
    files = [sample / "result.json", sample / "train" / "logs" / "metrics.jsonl"]
    return [f.stat().st_mtime_ns for f in files if f.is_file()]


def test_a_ray_driver_killed_mid_iteration_resumes_locally_without_asking_or_retraining(
    ray_cluster, module_llm_cache, agentgym_cli, tmp_path
):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    samples = [out / "iter_00" / f"sample_{i:02d}" for i in range(4)]
    with ScriptedOpenAIServer(RESUME_SCRIPT) as server:
        args = _cli_search(server, out, ray_cluster.address)
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentgym", *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # two nodes of one CPU: two candidates train while the third waits its turn
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()
            finished = [s for s in samples if (s / "result.json").is_file()]
            trained = [s for s in finished if (s / "train").is_dir()]
            if trained and len(finished) < 4:
                break
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        finished = [s for s in samples if (s / "result.json").is_file()]
        assert trained and len(finished) < 4, "the kill came too late to test a resume"
        before = {s: _stamps(s) for s in finished}
        assert len(server.requests) == 1
        # resumed by the local executor: the run folder is the same whichever made it
        resumed = agentgym_cli(*args[: args.index("--executor")], cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "resuming" in resumed.stdout
        assert len(server.requests) == 1  # 0 new LLM calls
    for s, stamps in before.items():  # finished before the kill: not trained again
        assert _stamps(s) == stamps
    statuses = [json.loads((s / "result.json").read_text())["status"] for s in samples]
    assert statuses == ["trained", "rejected", "trained", "trained"]


# -- a hostile program on a node ------------------------------------------------------------
def _hostile_job(root: Path, name: str) -> object:
    from agentgym.executors import Job
    from agentgym.reward_designers.synthesis.stages import TRAIN_TARGET
    from agentgym.sandbox import Limits
    from tests.sandbox.corpus import ADVERSARIAL

    source = next(src for id_, src, _, _ in ADVERSARIAL if id_ == name)
    (root / "s").mkdir(parents=True)
    (root / "s" / "reward.py").write_text(source)
    settings = {"num_envs": 4, "num_steps": 64, "total_steps": 512, "eval_episodes": 1}
    return Job(
        TRAIN_TARGET,
        root,
        kwargs={"env_id": "agentgym/Reach-v0", "seeds": [0], "learner": "population",
                "config": settings},
        path_kwargs={"programs": ["s/reward.py"], "run_dirs": ["s/train"]},
        inputs=("s/reward.py",),
        outputs=("s/train",),
        limits=Limits.for_training(threads=1),
        deadline_s=25,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["infinite_loop", "forged_result_line"])
def test_a_hostile_program_is_contained_on_a_node_exactly_as_locally(ray_cluster, tmp_path, name):
    ran = {}
    for executor in (LocalExecutor(), RayExecutor()):
        job = _hostile_job(tmp_path / executor.name, name)
        (ran[executor.name],) = executor.run([job], lambda n, r: None)
    local, remote = ran["local"], ran["ray"]
    for field in ("ok", "code", "isolation", "process_limit", "returncode"):
        assert getattr(local, field) == getattr(remote, field), field
    if name == "infinite_loop":
        assert remote.code == "TIMEOUT" and "did not finish within 25 s" in remote.message
        # killed at the deadline: how many of its processes were still to reap is a race
        assert local.leftover >= 1 and remote.leftover >= 1
    else:  # the forged line printed is not a result: the member fails with its error
        assert remote.ok and local.ok and local.leftover == remote.leftover
        assert local.value[0]["status"] == remote.value[0]["status"] == "ERROR"
        # the path in the error is the driver's folder of each job, never the node's
        said = [
            ran[n].value[0]["error"].replace(str((tmp_path / n).resolve()), "ROOT") for n in ran
        ]
        assert said[0] == said[1] and "ROOT/s/reward.py: compute_reward raised" in said[0]


# -- agentgym reward eval: seeds and references as Ray tasks --------------------------------
def test_reward_eval_with_ray_gives_the_local_scores_and_folders(
    ray_cluster, agentgym_cli, reach_program, tmp_path
):
    scores = {}
    for name in ("local", "ray"):
        flags = ["--executor", "ray", "--ray-address", ray_cluster.address] if name == "ray" else []
        done = agentgym_cli(
            "reward", "eval", "--env", "agentgym/Reach-v0", "--reward", reach_program,
            "--seeds", "2", "--steps", "1024", "--learner", "ppo", "--num-envs", "4",
            "--num-steps", "64", "--eval-episodes", "2", "--out", str(tmp_path / name),
            "--json", *flags,
            # each run trains its own references: none comes from the other's cache
            env={"AGENTGYM_CACHE": str(tmp_path / f"cache-{name}")}, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        scores[name] = json.loads(done.stdout)
    local, remote = scores["local"], scores["ray"]
    assert set(remote["rewards"]) == {"reward", "sparse", "human"}
    for label in local["rewards"]:
        _close(local["rewards"][label]["success"], remote["rewards"][label]["success"], label)
        _close(local["rewards"][label]["returns"], remote["rewards"][label]["returns"], label)
    members = {
        name: sorted(p.name for p in (tmp_path / name).iterdir() if "_seed" in p.name)
        for name in scores
    }
    assert members["local"] == members["ray"] == [
        "human_seed0", "human_seed1", "reward_seed0", "reward_seed1", "sparse_seed0",
        "sparse_seed1",
    ]  # fmt: skip
