"""Files and results crossing between a cluster node and the driver, as bytes and data.

A job's inputs travel to the node and its outputs come back as one uncompressed tar in
Ray's object store (no shared file system is assumed). The outputs were written next to
an untrusted program, so the driver takes them as data: a size cap, regular files and
folders only (no links, devices or FIFOs), every name inside a declared output folder,
extracted with tarfile's ``data`` filter. The worker's result comes back as a plain dict
and is rebuilt field by field.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from agentgym.sandbox.codes import Code
from agentgym.sandbox.results import WorkerResult

MAX_ARTIFACT_BYTES = 1 << 30
"""The largest tar of one job's outputs the driver accepts (checkpoints and videos fit)."""


class ArtifactRefused(ValueError):
    """A job's artifacts that the driver will not unpack (too big, a link, outside)."""


def pack(root: Path, paths: tuple[str, ...] | list[str]) -> bytes:
    """A tar of the files and folders ``paths`` under ``root`` (missing ones are skipped:
    a worker that failed early wrote nothing). Links are left out, never followed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for rel in paths:
            top = Path(root) / rel
            if not top.exists() or top.is_symlink():
                continue
            members = [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]
            for path in members:
                if path.is_symlink() or not (path.is_file() or path.is_dir()):
                    continue
                tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
    return buffer.getvalue()


def _inside(name: str, allowed: tuple[str, ...] | list[str]) -> bool:
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or ".." in parts:
        return False
    return any(parts[: len(PurePosixPath(a).parts)] == PurePosixPath(a).parts for a in allowed)


def unpack(
    data: bytes,
    root: Path,
    allowed: tuple[str, ...] | list[str],
    max_bytes: int = MAX_ARTIFACT_BYTES,
) -> int:
    """Extract the tar ``data`` under ``root``; every member must be a regular file or a
    folder inside one of ``allowed``. Returns the number of files; ``ArtifactRefused``
    (nothing extracted) for anything else."""
    if not isinstance(data, (bytes, bytearray)):
        raise ArtifactRefused(f"artifacts: expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise ArtifactRefused(f"artifacts: {len(data)} bytes, more than the {max_bytes} allowed")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            members = tar.getmembers()
            for member in members:
                if not (member.isfile() or member.isdir()):
                    raise ArtifactRefused(f"artifacts: {member.name!r} is not a file or folder")
                if not _inside(member.name, allowed):
                    raise ArtifactRefused(f"artifacts: {member.name!r} is outside {list(allowed)}")
            if sum(m.size for m in members) > max_bytes:
                raise ArtifactRefused(f"artifacts: more than {max_bytes} bytes once unpacked")
            tar.extractall(Path(root), members=members, filter="data")
    except tarfile.TarError as err:
        raise ArtifactRefused(f"artifacts: not a tar ({err})") from err
    return sum(m.isfile() for m in members)


_RESULT_TYPES: dict[str, tuple[type, ...]] = {
    "ok": (bool,),
    "message": (str,),
    "stdout_tail": (str,),
    "stderr_tail": (str,),
    "wall_s": (int, float),
    "isolation": (str,),
    "process_limit": (str,),
    "detail": (str,),
    "returncode": (int, type(None)),
    "leftover": (int,),
}


def result_from_dict(data: Any) -> WorkerResult:
    """The ``WorkerResult`` of ``WorkerResult.to_dict()``, every field type-checked."""
    if not isinstance(data, dict):
        raise ValueError(f"a worker result: expected a dict, got {type(data).__name__}")
    fields: dict[str, Any] = {}
    for name, types in _RESULT_TYPES.items():
        if name in data:
            if not isinstance(data[name], types):
                raise ValueError(f"WorkerResult.{name}: got {type(data[name]).__name__}")
            fields[name] = data[name]
    code = data.get("code")
    if code is not None and code not in Code.__members__:
        raise ValueError(f"WorkerResult.code: unknown code {code!r}")
    return WorkerResult(
        **fields, code=None if code is None else Code(code), value=data.get("value")
    )


def relocate(value: Any, node_root: str, root: str) -> Any:
    """``value`` with every mention of the node's folder in its strings (paths in error
    messages, tracebacks) replaced by the driver's, as the local executor would say it."""
    if isinstance(value, str):
        return value.replace(node_root, root) if node_root else value
    if isinstance(value, list):
        return [relocate(v, node_root, root) for v in value]
    if isinstance(value, dict):
        return {k: relocate(v, node_root, root) for k, v in value.items()}
    return value
