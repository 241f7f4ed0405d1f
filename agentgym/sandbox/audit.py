"""The sandbox audit: every way out of a worker, tried on this machine, with its evidence.

``run_audit`` sets bait on the host (a secret in the environment, a file in another run's
folder and in the LLM cache, TCP and UDP listeners on the loopback, a unix socket at a
path and an abstract one), then runs each probe of ``agentgym.sandbox.probes`` in its own
real worker under a dry run's limits (shrunk so that the exhaustion probes end in
seconds), and judges what came back. Under the strong sandbox (``bwrap``) every probe
must be blocked; under a forced weaker isolation the report says which are not.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from agentgym.sandbox import isolation as iso
from agentgym.sandbox import view
from agentgym.sandbox.results import WorkerResult
from agentgym.sandbox.worker import MB, Limits, folder_bytes, run_in_worker

PROBES = "agentgym.sandbox.probes"
CANARY_VAR = "AGENTGYM_AUDIT_CANARY"
KEY_VAR = "OPENAI_API_KEY"


@dataclass(frozen=True)
class ProbeOutcome:
    """One row of the audit: a channel, whether the worker got through it, and why."""

    name: str
    channel: str
    blocked: bool
    evidence: str


@dataclass(frozen=True)
class AuditReport:
    """The audit under one isolation."""

    requested: str
    """The isolation asked for ("bwrap", "netns", "rlimits")."""
    isolation: str
    """What the workers reported (``WorkerResult.isolation``: "-root" when uid 0 was kept)."""
    identity: dict[str, str]
    """The worker's uid, capability sets, no_new_privs and seccomp mode, as it saw them."""
    probes: list[ProbeOutcome] = field(default_factory=list)

    @property
    def escaped(self) -> list[ProbeOutcome]:
        return [p for p in self.probes if not p.blocked]

    @property
    def strong(self) -> bool:
        """Whether this ran under the strong sandbox (bubblewrap, uid dropped)."""
        return self.isolation == "bwrap"

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "isolation": self.isolation,
            "strong": self.strong,
            "identity": self.identity,
            "probes": [asdict(p) for p in self.probes],
            "escaped": [p.name for p in self.escaped],
        }


def audit_limits(isolation: str) -> Limits:
    """A dry run's limits (``vet_limits``), shrunk so each exhaustion probe ends in seconds."""
    from agentgym.sandbox.vetting import vet_limits

    return replace(
        vet_limits(10.0),
        memory_mb=512,
        cpu_s=3,
        file_size_mb=4,
        open_files=128,
        tmp_mb=16,
        disk_mb=16,
        output_chars=20_000,
        isolation=isolation,
    )


@dataclass
class _Bait:
    """What the host holds for the probes to reach: paths, listeners, secrets."""

    base: Path
    token: str
    other_run: Path
    cache_file: Path
    unix_path: Path
    abstract_name: str
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    abstract: socket.socket
    outside: list[Path]

    def udp_received(self) -> bool:
        self.udp.setblocking(False)
        try:
            while True:
                if self.token.encode() in self.udp.recv(65536):
                    return True
        except OSError:
            return False

    def texts(self) -> list[str]:
        """The secrets a probe must not bring back in any text."""
        return [self.token, os.environ.get(KEY_VAR, "")]


def _cache_root() -> Path:
    return Path(os.environ.get("AGENTGYM_CACHE") or Path.home() / ".cache" / "agentgym")


@contextlib.contextmanager
def _bait() -> Iterator[_Bait]:
    token = "agentgym-audit-" + secrets.token_hex(8)
    base = Path(tempfile.mkdtemp(prefix="agentgym-audit-"))
    cache = _cache_root() / "audit-canary"
    made_cache = not cache.exists()
    sockets: list[socket.socket] = []
    old_env = {name: os.environ.get(name) for name in (CANARY_VAR, KEY_VAR)}
    try:
        other = base / "other-run"
        other.mkdir()
        (other / "secret.txt").write_text(token)
        cache.mkdir(parents=True, exist_ok=True)
        cache_file = cache / "secret.txt"
        cache_file.write_text(token)

        def listen(family: int, kind: int, address: Any) -> socket.socket:
            sock = socket.socket(family, kind)
            sockets.append(sock)
            sock.bind(address)
            if kind == socket.SOCK_STREAM:
                sock.listen(8)
            return sock

        tcp = listen(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
        udp = listen(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0))
        unix_path = base / "host.sock"
        unix = listen(socket.AF_UNIX, socket.SOCK_STREAM, str(unix_path))
        os.chmod(unix_path, 0o777)  # reachable by any uid: only the sandbox may stop it
        os.chmod(base, 0o755)
        abstract_name = token
        abstract = listen(socket.AF_UNIX, socket.SOCK_STREAM, "\0" + abstract_name)
        os.environ[CANARY_VAR] = token
        os.environ[KEY_VAR] = "sk-audit-" + secrets.token_hex(12)
        outside = [base / "written-by-worker.txt", other / "written-by-worker.txt"]
        yield _Bait(
            base, token, other / "secret.txt", cache_file, unix_path, abstract_name,
            tcp, udp, unix, abstract, outside,
        )  # fmt: skip
    finally:
        for name, value in old_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for sock in sockets:
            sock.close()
        shutil.rmtree(base, ignore_errors=True)
        if made_cache:
            shutil.rmtree(cache, ignore_errors=True)
        else:
            (cache / "secret.txt").unlink(missing_ok=True)


def _home_allowed(home: Path, run_dir: Path) -> list[str]:
    """Names a worker may see in ``home``: the first step toward what it needs."""
    import agentgym

    root = Path(agentgym.__file__).resolve().parent.parent
    needed = [*view.python_paths(root, []), run_dir]
    return sorted({p.relative_to(home).parts[0] for p in needed if home in p.parents})


Judge = Callable[[WorkerResult, "_Bait", Path], tuple[bool, str]]


@dataclass(frozen=True)
class _Probe:
    name: str
    channel: str
    target: str
    kwargs: Callable[[_Bait, Path], dict[str, Any]]
    judge: Judge | None = None
    """How the parent decides; None: the probe's own ``escaped`` (and a failed worker blocks)."""
    deadline_s: float = 20.0


def _own(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
    if result.ok and isinstance(result.value, dict):
        return (not result.value.get("escaped", True), str(result.value.get("evidence", "")))
    return True, f"worker ended {result.code}: {result.message}"


def _limit_judge(expected: str) -> Judge:
    def judge(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
        if result.ok and isinstance(result.value, dict):
            return _own(result, bait, run_dir)
        return True, f"{expected}: worker ended {result.code}: {result.message}"

    return judge


def _udp(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
    arrived = bait.udp_received()
    _, evidence = _own(result, bait, run_dir)
    return (not arrived, ("the datagram arrived; " if arrived else "nothing arrived; ") + evidence)


def _written(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
    appeared = [str(p) for p in bait.outside if p.exists()]
    _, evidence = _own(result, bait, run_dir)
    if appeared:
        return False, f"appeared on the host: {', '.join(appeared)}"
    return True, f"nothing appeared on the host; {evidence}"


def _forged(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
    if result.ok:
        return False, f"the parent took the forged result: {result.value!r}"
    return True, f"rejected: {result.code}: {result.message}"


def _smuggled(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
    texts = [result.message, result.detail, result.stdout_tail, result.stderr_tail]
    leaked = [s for s in bait.texts() if s and any(s in t for t in texts)]
    control = [t for t in texts if any(c in t for c in "\x1b\x07\x00\u202e")]
    if leaked or control:
        return False, f"secrets in the text: {len(leaked)}, escape sequences: {bool(control)}"
    return True, f"message came back clean, no secret: {result.message[:80]!r}"


def _disk(result: WorkerResult, bait: _Bait, run_dir: Path) -> tuple[bool, str]:
    if result.ok and isinstance(result.value, dict):
        return _own(result, bait, run_dir)
    size = folder_bytes(run_dir) / MB
    return True, f"killed at {size:.0f} MB in its folder: {result.code}: {result.message}"


def probes(pid: int) -> list[_Probe]:
    """Every probe of the audit, in the order of the table."""
    home = Path.home().resolve()
    # One that exists on this host, so that "blocked" means hidden, not absent.
    dotfiles = [home / n for n in (".bash_history", ".bashrc", ".profile", ".gitconfig")]
    dotfile = next((p for p in dotfiles if p.is_file()), dotfiles[0])
    return [
        _Probe("root-file", "read a root-only file (/etc/shadow)", "read_file",
               lambda b, d: {"path": "/etc/shadow"}),
        _Probe("home", f"list the home folder ({home})", "list_folder",
               lambda b, d: {"path": str(home), "allowed": _home_allowed(home, d)}),
        _Probe("dotfiles", f"read a dotfile ({dotfile})", "read_file",
               lambda b, d: {"path": str(dotfile)}),
        _Probe("environment", "read a parent environment variable", "find_value",
               lambda b, d: {"value": b.token}),
        _Probe("api-key", f"read the parent's {KEY_VAR}", "find_value",
               lambda b, d: {"value": os.environ[KEY_VAR]}),
        _Probe("other-run", "read another run's folder", "read_file",
               lambda b, d: {"path": str(b.other_run)}),
        _Probe("llm-cache", "read the LLM cache ($AGENTGYM_CACHE)", "read_file",
               lambda b, d: {"path": str(b.cache_file)}),
        _Probe("tcp", "TCP to a loopback listener", "connect",
               lambda b, d: {"family": "tcp", "address": list(b.tcp.getsockname()), "payload": b.token}),
        _Probe("udp", "UDP to a loopback socket", "connect",
               lambda b, d: {"family": "udp", "address": list(b.udp.getsockname()), "payload": b.token},
               _udp),
        _Probe("unix-socket", "a unix socket at a host path", "connect",
               lambda b, d: {"family": "unix", "address": str(b.unix_path), "payload": b.token}),
        _Probe("abstract-socket", "an abstract unix socket", "connect",
               lambda b, d: {"family": "abstract", "address": b.abstract_name, "payload": b.token}),
        _Probe("mount", "mount a file system", "mount_tmpfs", lambda b, d: {}),
        _Probe("umount", "unmount what hides the host (/tmp)", "unmount",
               lambda b, d: {"path": "/tmp"}),
        _Probe("ptrace", "ptrace", "ptrace", lambda b, d: {}),
        _Probe("namespace", "make a user namespace (unshare)", "new_namespace", lambda b, d: {}),
        _Probe("spawn", "start a program (/bin/sh)", "spawn", lambda b, d: {}),
        _Probe("signal", "signal the agentgym process", "signal_parent", lambda b, d: {"pid": pid}),
        _Probe("write-outside", "write outside the run folder", "write_files",
               lambda b, d: {"paths": [str(p) for p in b.outside], "payload": b.token}, _written),
        _Probe("memory", "exhaust memory", "fill_memory", lambda b, d: {"limit_mb": 512},
               _limit_judge("RLIMIT_AS")),
        _Probe("cpu", "exhaust CPU", "spin", lambda b, d: {}, _limit_judge("RLIMIT_CPU")),
        _Probe("wall-time", "sleep past the deadline (4 s here)", "sleep_forever",
               lambda b, d: {}, _limit_judge("the deadline"), deadline_s=4.0),
        _Probe("file-size", "write one file past RLIMIT_FSIZE (4 MB here)", "big_file",
               lambda b, d: {"limit_mb": 4}),
        _Probe("disk", "fill the run folder", "fill_disk",
               lambda b, d: {"folder": ".", "limit_mb": 16}, _disk),
        _Probe("disk-tmp", "fill the temporary folder", "fill_disk",
               lambda b, d: {"folder": "tmp", "limit_mb": 16}, _disk),
        _Probe("processes", "exhaust processes (threads)", "many_threads",
               lambda b, d: {"cap": 2000}, _limit_judge("RLIMIT_NPROC")),
        _Probe("open-files", "exhaust file descriptors", "many_files",
               lambda b, d: {"cap": 100_000}, _limit_judge("RLIMIT_NOFILE")),
        _Probe("forge-result", "forge the worker's result", "forge_result", lambda b, d: {},
               _forged),
        _Probe("smuggle", "smuggle secrets out through an exception", "smuggle",
               lambda b, d: {"paths": ["/etc/shadow", str(b.other_run), str(b.cache_file)],
                             "names": [CANARY_VAR, KEY_VAR]},
               _smuggled),
    ]  # fmt: skip


def run_audit(isolation: str | None = None, *, only: list[str] | None = None) -> AuditReport:
    """Run every probe (or those named in ``only``) under ``isolation`` (default: the
    strongest this machine allows) and judge each."""
    requested = isolation or iso.available()
    limits = audit_limits(requested)
    reported = requested
    with _bait() as bait:
        work = bait.base / "runs"
        ident = run_in_worker(
            f"{PROBES}:identity", {}, run_dir=work / "identity", limits=limits, deadline_s=20
        )
        reported = ident.isolation
        identity = ident.value if ident.ok and isinstance(ident.value, dict) else {}
        outcomes = []
        for probe in probes(os.getpid()):
            if only and probe.name not in only:
                continue
            run_dir = work / probe.name
            result = run_in_worker(
                f"{PROBES}:{probe.target}",
                probe.kwargs(bait, run_dir.resolve()),
                run_dir=run_dir,
                limits=limits,
                deadline_s=probe.deadline_s,
            )
            blocked, evidence = (probe.judge or _own)(result, bait, run_dir)
            outcomes.append(ProbeOutcome(probe.name, probe.channel, blocked, evidence))
    return AuditReport(requested, reported, identity, outcomes)
