"""The worker's syscall filter: the kernel's administrative doors answer EPERM.

A reward program never needs to mount a file system, trace a process, make a namespace,
touch the kernel keyring, load BPF or a module, or read another process's memory; every
one of those is a way out of a sandbox or into the kernel's attack surface. The uid drop
and the empty capability sets already make most of them fail, but only as long as no
kernel bug says otherwise; the filter removes them from reach altogether, under every
isolation (``rlimits`` included), because ``_child`` installs it before the target loads.

The BPF program is generated here (``struct``-packed ``sock_filter`` instructions)
rather than through libseccomp: no dependency to install (Debian's python3-seccomp binds
only the system Python; the PyPI bindings need libseccomp's shared library at run time),
no C library between the policy and the kernel, and ``DENIED`` is the whole policy,
readable in one place. It checks the architecture first (x86_64 and aarch64,
the only ones agentgym runs on); a syscall made under another ABI (i386 through
``int 0x80``, x32) is refused outright, because its numbers mean other calls.
"""

from __future__ import annotations

import errno
import platform
import struct

DENIED: tuple[str, ...] = (
    # File systems and the root: leaving the sandbox's view.
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "open_by_handle_at",
    "name_to_handle_at",
    "swapon",
    "swapoff",
    "quotactl",
    # Namespaces: a new user namespace gives back every capability inside it.
    "unshare",
    "setns",
    # Other processes: reading or steering them.
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # The kernel itself: keys, BPF, perf, modules, kexec, io_uring, userfaultfd.
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "fanotify_init",
    "lookup_dcookie",
    "syslog",
    # The machine: clock, host name, power, accounting, terminals.
    "reboot",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "acct",
    "vhangup",
)
"""Syscalls that fail with EPERM in a worker (``clone`` with a namespace flag too)."""

SYSCALLS: dict[str, dict[str, int]] = {
    # From the kernel's asm/unistd_64.h and asm-generic/unistd.h.
    "x86_64": {
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
        "mount_setattr": 442, "open_by_handle_at": 304, "name_to_handle_at": 303,
        "swapon": 167, "swapoff": 168, "quotactl": 179, "unshare": 272, "setns": 308,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
        "pidfd_getfd": 438, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
        "perf_event_open": 298, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "userfaultfd": 323, "fanotify_init": 300, "lookup_dcookie": 212, "syslog": 103,
        "reboot": 169, "settimeofday": 164, "clock_settime": 227, "adjtimex": 159,
        "sethostname": 170, "setdomainname": 171, "acct": 163, "vhangup": 153,
        "iopl": 172, "ioperm": 173, "clone": 56, "clone3": 435, "fork": 57, "vfork": 58,
        "execve": 59, "execveat": 322,
    },
    "aarch64": {
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
        "mount_setattr": 442, "open_by_handle_at": 265, "name_to_handle_at": 264,
        "swapon": 224, "swapoff": 225, "quotactl": 60, "unshare": 97, "setns": 268,
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
        "pidfd_getfd": 438, "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280,
        "perf_event_open": 241, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "userfaultfd": 282, "fanotify_init": 262, "lookup_dcookie": 18, "syslog": 116,
        "reboot": 142, "settimeofday": 170, "clock_settime": 112, "adjtimex": 171,
        "sethostname": 161, "setdomainname": 162, "acct": 89, "vhangup": 58,
        "clone": 220, "clone3": 435, "execve": 221, "execveat": 281,
    },
}  # fmt: skip
"""Syscall numbers per architecture; x86_64 adds its port-I/O calls (iopl, ioperm) and the
fork/vfork that aarch64 does not have."""

NO_SPAWN: tuple[str, ...] = ("execve", "execveat", "fork", "vfork")
"""Also denied when the worker may not start processes (``clone`` without CLONE_THREAD too)."""

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_BIT = 0x40000000
"""x86_64 syscalls with this bit set use the x32 ABI: the same calls under other numbers."""
NAMESPACE_FLAGS = 0x7E020000
"""CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (linux/sched.h)."""
CLONE_THREAD = 0x00010000
"""A clone with this flag makes a thread; without it, a process."""

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ = 0x15
_JGE = 0x35
_JSET = 0x45
_RET = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # offsets in struct seccomp_data (little endian)


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _arch_block(arch: str, spawn: bool) -> list[bytes]:
    numbers = SYSCALLS[arch]
    eperm = _insn(_RET, RET_ERRNO | errno.EPERM)
    allow = _insn(_RET, RET_ALLOW)
    block = [_insn(_LD_W_ABS, _NR)]
    if arch == "x86_64":
        block += [_insn(_JGE, X32_BIT, 0, 1), eperm]
    denied = [*DENIED, *(("iopl", "ioperm") if arch == "x86_64" else ())]
    if not spawn:
        denied += [name for name in NO_SPAWN if name in numbers]
    for name in denied:
        block += [_insn(_JEQ, numbers[name], 0, 1), eperm]
    # clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc fall
    # back to clone, whose flags it can (the approach of Docker's default profile).
    block += [_insn(_JEQ, numbers["clone3"], 0, 1), _insn(_RET, RET_ERRNO | errno.ENOSYS)]
    clone = [_insn(_LD_W_ABS, _ARG0_LOW), _insn(_JSET, NAMESPACE_FLAGS, 0, 1), eperm]
    if not spawn:
        clone += [_insn(_JSET, CLONE_THREAD, 0, 1), allow, eperm]
    block += [_insn(_JEQ, numbers["clone"], 0, len(clone)), *clone, allow]
    return block


def filter_program(spawn: bool = True) -> bytes:
    """The filter as raw ``sock_filter`` instructions (8 bytes each), for every known arch.

    Layout: load the arch; for each known one, a block that denies ``DENIED`` (and, when
    ``spawn`` is false, ``NO_SPAWN`` and process-making clones) and ends in ALLOW; any
    other arch gets EPERM for every call.
    """
    program = [_insn(_LD_W_ABS, _ARCH)]
    for arch, audit in AUDIT_ARCH.items():
        block = _arch_block(arch, spawn)
        if len(block) > 255:
            raise ValueError(f"the {arch} block has {len(block)} instructions; jumps reach 255")
        program += [_insn(_JEQ, audit, 0, len(block)), *block]
    program.append(_insn(_RET, RET_ERRNO | errno.EPERM))
    return b"".join(program)


def supported() -> bool:
    """Whether this machine's architecture is one the filter knows."""
    return platform.machine() in SYSCALLS


def install(spawn: bool = True) -> None:
    """Set no_new_privs and load the filter into this process (and all it starts);
    with ``spawn`` false, the process can start threads but no process and no program.

    Raises OSError when the kernel refuses: a worker without its filter must not run.
    """
    import ctypes

    if not supported():
        raise OSError(errno.ENOSYS, f"no seccomp filter for architecture {platform.machine()}")
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    code = filter_program(spawn)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    buffer = ctypes.create_string_buffer(code, len(code))
    prog = SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_char_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_ulong,
    ]
    if libc.prctl(pr_set_no_new_privs, 1, None, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {errno.errorcode.get(err, err)}")
    if libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.addressof(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP) failed: {errno.errorcode.get(err, err)}")
