"""The syscall filter: the kernel's administrative doors answer EPERM inside a worker.

The probes (agentgym/sandbox/probes.py) run as a real worker's target, not through the
vetter, which would reject them before they ran. That the filter, not the uid drop, is
what answers shows in two places: ``Seccomp: 2`` in the worker's status, and
unshare(CLONE_NEWUSER) and ptrace(PTRACE_TRACEME), which an unprivileged uid may call,
failing with EPERM.
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import replace

import pytest

from agentgym.sandbox import Limits, run_in_worker, seccomp

FAST = Limits(memory_mb=1024, cpu_s=20, max_processes=32, file_size_mb=8, output_chars=100_000)
PROBES = "agentgym.sandbox.probes"


def probe(tmp_path, target: str, limits: Limits = FAST, **kwargs):
    result = run_in_worker(
        f"{PROBES}:{target}", kwargs, run_dir=tmp_path / target, limits=limits, deadline_s=30
    )
    assert result.ok, f"{result.code}: {result.message}\n{result.detail}"
    return result.value


def test_the_program_checks_the_architecture_first_and_every_jump_lands_inside():
    code = seccomp.filter_program(spawn=False)
    insns = [struct.unpack("=HBBI", code[i : i + 8]) for i in range(0, len(code), 8)]
    assert insns[0] == (0x20, 0, 0, 4)  # load seccomp_data.arch
    assert insns[-1] == (0x06, 0, 0, seccomp.RET_ERRNO | errno.EPERM)  # unknown arch: EPERM
    for pc, (op, jt, jf, _) in enumerate(insns):
        if op & 0x07 == 0x05:  # a jump
            assert pc + 1 + max(jt, jf) < len(insns)
    denied = {k for op, _, _, k in insns if op == 0x15}
    for arch in ("x86_64", "aarch64"):
        numbers = seccomp.SYSCALLS[arch]
        assert {numbers[name] for name in seccomp.DENIED} <= denied
        assert numbers["execve"] in denied  # spawn=False


def test_spawning_adds_exec_and_fork_only_when_asked():
    with_spawn = seccomp.filter_program(spawn=True)
    without = seccomp.filter_program(spawn=False)
    assert len(without) > len(with_spawn)


@pytest.mark.skipif(not seccomp.supported(), reason=f"no filter for {platform.machine()}")
def test_mount_unshare_ptrace_and_keys_fail_with_eperm_in_the_worker(tmp_path):
    ident = probe(tmp_path, "identity")
    assert ident["Seccomp"] == "2" and ident["NoNewPrivs"] == "1"
    for target, kwargs in [
        ("mount_tmpfs", {}),
        ("unmount", {"path": "/proc"}),
        ("new_namespace", {}),
        ("ptrace", {}),
    ]:
        value = probe(tmp_path, target, **kwargs)
        assert value["escaped"] is False and "EPERM" in value["evidence"], (target, value)


@pytest.mark.skipif(not seccomp.supported(), reason=f"no filter for {platform.machine()}")
def test_a_dry_run_worker_starts_no_program_and_a_training_worker_may(tmp_path):
    blocked = probe(tmp_path / "dry", "spawn", replace(FAST, spawn=False))
    assert blocked["escaped"] is False and "Operation not permitted" in blocked["evidence"]
    allowed = probe(tmp_path / "train", "spawn", replace(FAST, spawn=True))
    assert allowed["escaped"] is True  # still inside the sandbox: its view, uid, filter


def test_with_the_filter_off_the_status_shows_none(tmp_path):
    # The control for the test above: Limits.seccomp off, no filter in the status.
    ident = probe(tmp_path, "identity", replace(FAST, seccomp=False))
    assert ident["Seccomp"] == "0"
