"""Jobs, their paths and what crosses back from a node: checked without a cluster."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from agentgym.executors import Job, Resources, make_executor
from agentgym.executors.progress import last_step
from agentgym.executors.transfer import ArtifactRefused, pack, relocate, result_from_dict, unpack
from agentgym.sandbox import Code, WorkerResult


def test_job_paths_become_absolute_under_whichever_root_runs_it(tmp_path):
    job = Job(
        "os:getpid",
        tmp_path / "driver",
        kwargs={"seeds": [0]},
        path_kwargs={"programs": ["s0/reward.py"], "log": "s0/log.txt"},
    )
    node = tmp_path / "node"
    assert job.arguments(node) == {
        "seeds": [0],
        "programs": [str(node.resolve() / "s0/reward.py")],
        "log": str(node.resolve() / "s0/log.txt"),
    }


@pytest.mark.parametrize("bad", ["/etc/passwd", "../up", "a/../../b", ""])
def test_a_job_path_outside_its_root_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="Job paths: expected a relative path"):
        Job("os:getpid", tmp_path, outputs=(bad,))


def test_resources_name_the_bad_field():
    with pytest.raises(ValueError, match="Resources.gpus"):
        Resources(gpus=-1)
    with pytest.raises(ValueError, match="Resources.cpus"):
        Resources(cpus=0, gpus=0)
    assert Resources(cpus=0, gpus=0.25).gpus == 0.25  # a quarter GPU, no CPU reserved


def test_make_executor_names_the_flag():
    assert make_executor().name == "local"
    with pytest.raises(ValueError, match="--executor: expected one of local, ray"):
        make_executor("dask")
    with pytest.raises(ValueError, match="--ray-address: only with --executor ray"):
        make_executor("local", "10.0.0.1:6379")


def test_outputs_travel_as_a_tar_and_land_in_place(tmp_path):
    node = tmp_path / "node"
    (node / "s0" / "train" / "logs").mkdir(parents=True)
    (node / "s0" / "train" / "logs" / "metrics.jsonl").write_text('{"step": 64}\n')
    (node / "s0" / "train" / "model.pt").write_bytes(b"\x00" * 100)
    (node / "s0" / "reward.py").write_text("not asked for")
    data = pack(node, ("s0/train", "s1/train"))  # s1 wrote nothing: skipped
    driver = tmp_path / "driver"
    assert unpack(data, driver, ("s0/train",)) == 2
    assert last_step(driver / "s0" / "train" / "logs" / "metrics.jsonl") == 64
    assert (driver / "s0" / "train" / "model.pt").read_bytes() == b"\x00" * 100
    assert not (driver / "s0" / "reward.py").exists()


def test_a_link_left_by_the_program_is_neither_packed_nor_unpacked(tmp_path):
    node = tmp_path / "node"
    (node / "out").mkdir(parents=True)
    os.symlink("/etc/passwd", node / "out" / "passwd")
    assert unpack(pack(node, ("out",)), tmp_path / "driver", ("out",)) == 0
    # a tar made by anything else, holding a link: refused whole
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        link = tarfile.TarInfo("out/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ArtifactRefused, match="not a file or folder"):
        unpack(buffer.getvalue(), tmp_path / "driver", ("out",))


def test_artifacts_outside_the_declared_outputs_or_too_big_are_refused(tmp_path):
    node = tmp_path / "node"
    (node / "other").mkdir(parents=True)
    (node / "other" / "x").write_text("x" * 1000)
    data = pack(node, ("other",))
    with pytest.raises(ArtifactRefused, match="outside"):
        unpack(data, tmp_path / "driver", ("out",))
    with pytest.raises(ArtifactRefused, match="more than the 100 allowed"):
        unpack(data, tmp_path / "driver", ("other",), max_bytes=100)
    with pytest.raises(ArtifactRefused, match="not a tar"):
        unpack(b"x" * 600, tmp_path / "driver", ("other",))
    assert not (tmp_path / "driver" / "other").exists()


def test_a_worker_result_comes_back_field_by_field():
    result = WorkerResult(ok=False, code=Code.TIMEOUT, message="late", value=None, wall_s=1.5)
    assert result_from_dict(result.to_dict()) == result
    with pytest.raises(ValueError, match="unknown code 'PWNED'"):
        result_from_dict({**result.to_dict(), "code": "PWNED"})
    with pytest.raises(ValueError, match="WorkerResult.ok"):
        result_from_dict({**result.to_dict(), "ok": "yes"})


def test_last_step_reads_the_end_of_a_growing_file(tmp_path):
    path = Path(tmp_path / "metrics.jsonl")
    assert last_step(path) == 0
    path.write_text("".join(f'{{"step": {s}, "x": 1}}\n' for s in range(0, 5000, 64)) + '{"st')
    assert last_step(path) == 4992


def test_the_nodes_folder_is_said_as_the_drivers_in_what_comes_back():
    node, driver = "/tmp/agentgym-job-x1", "/runs/r/iter_00"
    value = {"error": f"{node}/s/reward.py: compute_reward raised", "steps": [1, f"{node}/a"]}
    assert relocate(value, node, driver) == {
        "error": f"{driver}/s/reward.py: compute_reward raised",
        "steps": [1, f"{driver}/a"],
    }


def test_executor_flags_in_the_wrong_combination_are_named_before_any_run(
    agentgym_cli, isolated_llm_cache, tmp_path
):
    base = ["reward", "eval", "--env", "agentgym/Reach-v0", "--reward", "sparse"]
    address = agentgym_cli(*base, "--ray-address", "10.0.0.1:6379", cwd=tmp_path)
    assert address.returncode == 2
    assert "--ray-address: only with --executor ray" in address.stderr
    gpus = agentgym_cli(*base, "--executor", "ray", "--ray-gpus", "-1", cwd=tmp_path)
    assert gpus.returncode == 2 and "Resources.gpus: expected a number >= 0" in gpus.stderr
    assert not list(tmp_path.glob("runs/*"))
