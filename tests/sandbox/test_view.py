"""The worker's file view and its disk limits: only what Python needs, a bounded /tmp, a
quota on the run folder (agentgym/sandbox/view.py, worker.py)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from agentgym.sandbox import Code, Limits, run_in_worker
from agentgym.sandbox.isolation import available
from agentgym.sandbox.view import source_folders

FAST = Limits(memory_mb=1024, cpu_s=20, max_processes=32, file_size_mb=4, output_chars=100_000)
PROBES = "agentgym.sandbox.probes"
needs_bwrap = pytest.mark.skipif(available() != "bwrap", reason="bubblewrap is not usable here")


def call(tmp_path, target: str, limits: Limits = FAST, **kwargs):
    return run_in_worker(target, kwargs, run_dir=tmp_path / "w", limits=limits, deadline_s=30)


@needs_bwrap
def test_the_root_holds_only_the_system_python_and_the_run(tmp_path):
    root = call(tmp_path, "os:listdir", path="/")
    assert root.ok, root.message
    assert set(root.value) <= {
        "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "tmp",
        "sys", *(Path(p).resolve().parts[1] for p in (sys.base_prefix, sys.prefix)),
        (tmp_path / "w").resolve().parts[1],
    }  # fmt: skip
    etc = call(tmp_path, "os:listdir", path="/etc")
    assert "shadow" not in etc.value and "ld.so.cache" in etc.value
    assert not {"pip.conf", "gitconfig", "npmrc", "ssh", "sudoers"} & set(etc.value)


@needs_bwrap
def test_the_project_shows_its_packages_not_its_dotfiles_or_runs(tmp_path):
    import agentgym

    project = Path(agentgym.__file__).resolve().parent.parent
    listing = call(tmp_path, "os:listdir", path=str(project))
    assert listing.ok, listing.message
    visible = set(listing.value) - {(tmp_path / "w").resolve().relative_to("/").parts[0]}
    expected = {p.name for p in source_folders(project)}
    if Path(sys.prefix).resolve().parent == project:
        expected.add(Path(sys.prefix).name)  # the venv lives in the checkout
    assert visible <= expected
    assert ".git" not in visible and "runs" not in visible


@needs_bwrap
def test_tmp_is_a_bounded_tmpfs(tmp_path):
    result = call(
        tmp_path, f"{PROBES}:fill_disk", replace(FAST, tmp_mb=8), folder="tmp", limit_mb=8
    )
    assert result.ok and result.value["escaped"] is False
    assert "ENOSPC" in result.value["evidence"] and "after 8 MB" in result.value["evidence"]


def test_a_worker_that_fills_its_folder_is_killed_at_its_quota(tmp_path):
    result = call(
        tmp_path, f"{PROBES}:fill_disk", replace(FAST, disk_mb=8), folder=".", limit_mb=64
    )
    assert not result.ok and result.code == Code.OUTPUT_LIMIT
    assert "Limits.disk_mb=8" in result.detail
