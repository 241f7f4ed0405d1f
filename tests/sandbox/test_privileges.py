"""A worker with nothing to lose: no capabilities, no uid 0, no secrets, nothing of the host.

The probe runs in a real worker (tests/sandbox/hostile.py:probe_privileges) and reports
what it could see; each assertion is one door that must stay shut. On this machine the
tests run as root, which is the case that matters: a worker mapped to root outside would
own root's files.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from agentgym.sandbox import Limits, run_in_worker
from agentgym.sandbox.isolation import available

FAST = Limits(memory_mb=1024, cpu_s=20, max_processes=32, file_size_mb=8, output_chars=100_000)
SECRET = "sk-test-privileges-0123456789"

needs_bwrap = pytest.mark.skipif(available() != "bwrap", reason="bubblewrap is not usable here")


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    os.environ["OPENAI_API_KEY"] = SECRET
    os.environ["AGENTGYM_TEST_PLAIN"] = "plain-value"
    try:
        run_dir = tmp_path_factory.mktemp("privileges") / "worker"
        result = run_in_worker(
            "tests.sandbox.hostile:probe_privileges",
            {},
            run_dir=run_dir,
            limits=FAST,
            deadline_s=30,
        )
    finally:
        del os.environ["OPENAI_API_KEY"], os.environ["AGENTGYM_TEST_PLAIN"]
    assert result.ok, f"{result.code}: {result.message}\n{result.detail}"
    return result, run_dir


@needs_bwrap
def test_the_worker_has_no_capabilities_and_no_new_privileges(probe):
    result, _ = probe
    caps = result.value["caps"]
    for name in ("CapEff", "CapPrm", "CapBnd"):
        assert int(caps[name], 16) == 0, caps
    assert caps["NoNewPrivs"] == "1"


@needs_bwrap
def test_the_worker_is_not_root_even_when_agentgym_is(probe):
    result, _ = probe
    assert result.value["uid"] != 0 and result.value["euid"] != 0
    assert result.isolation == "bwrap"


@needs_bwrap
def test_the_worker_sees_no_shadow_no_homes_and_no_host_sockets(probe):
    result, run_dir = probe
    value = result.value
    assert value["shadow"] is False or Path("/etc/shadow").stat().st_size == 0
    # /root and /home hold only the way down to the Python installation, bound back.
    for folder in ("root", "home"):
        python = {
            Path(p).resolve().relative_to(f"/{folder}").parts[0]
            for p in (sys.base_prefix, sys.prefix)
            if Path(f"/{folder}") in Path(p).resolve().parents
        }
        assert set(value[folder]) <= python, value[folder]
    assert value["run"] == [] and value["var_run"] == [] and value["sockets"] == []
    # /tmp holds only the way down to the worker's own run folder and, when the project is
    # checked out under /tmp (a CI clone), to the Python environment and package, bound back.
    import agentgym

    needed = [run_dir, Path(sys.prefix).resolve(), Path(agentgym.__file__).resolve().parent]
    allowed = {p.relative_to("/tmp").parts[0] for p in needed if Path("/tmp") in p.parents}
    assert run_dir.relative_to("/tmp").parts[0] in value["tmp"] or Path("/tmp") not in (
        run_dir.parents
    )
    assert set(value["tmp"]) <= allowed, value["tmp"]


def test_the_environment_is_stripped_to_the_allowlist(probe):
    result, _ = probe
    env = result.value["env"]
    assert "OPENAI_API_KEY" not in env and "AGENTGYM_TEST_PLAIN" not in env
    assert SECRET not in repr(result.value) and SECRET not in result.stdout_tail


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop inside bubblewrap is root's path")
def test_without_setpriv_the_worker_keeps_uid_0_without_capabilities_and_says_so(
    tmp_path, monkeypatch
):
    # A PATH where bubblewrap exists and setpriv does not, as on a machine without util-linux.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bwrap").symlink_to(shutil.which("bwrap"))
    monkeypatch.setenv("PATH", str(bin_dir))
    result = run_in_worker(
        "tests.sandbox.hostile:probe_privileges",
        {},
        run_dir=tmp_path / "worker",
        limits=FAST,
        deadline_s=30,
    )
    assert result.ok, f"{result.code}: {result.message}\n{result.detail}"
    assert result.isolation == "bwrap-root" and result.value["uid"] == 0
    assert int(result.value["caps"]["CapEff"], 16) == 0
    assert result.value["shadow"] is False or Path("/etc/shadow").stat().st_size == 0
