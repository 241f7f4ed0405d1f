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

pytest.importorskip("ray")
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


def _search(executor, out: Path) -> Path:
    with ScriptedOpenAIServer(SCRIPT) as server:
        config = _config(server)
        run, _ = open_run(config, out)
        Synthesis(config, run, executor=executor).run()
    return run.path


def _files(run: Path) -> set[str]:
    out = set()
    for path in (run / "iter_00").rglob("*"):
        rel = path.relative_to(run / "iter_00")
        if rel.parts[0] in WORKER_FILES or not path.is_file():
            continue
        # TensorBoard names its files after the host and the time
        out.add(str(rel.parent / "events") if "tfevents" in rel.name else str(rel))
    return out


def _close(a: object, b: object, key: str = "") -> None:
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5), (key, a, b)
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
