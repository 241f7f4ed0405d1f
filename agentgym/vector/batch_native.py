"""``MujocoBatch``'s step in native code: batch_step.cpp, built once per machine and
MuJoCo version with the system's C++ compiler and loaded through ctypes.

The Python step (mujoco.py) holds the GIL for each sub-env's controls and gathers every
field with one ``np.stack`` of N views; on the 2-core Intel Xeon (2026-12-06, HalfCheetah,
64 sub-envs) that was ~0.2 ms of a ~1 ms vector step, the threads handing the GIL to each
other in between. Here one ctypes call (which releases the GIL) steps the sub-envs and
copies their fields on the calling thread and a pool of sleeping workers: the same
``mj_step`` calls on the same ``MjData``, so the same numbers bit for bit.

The library goes to ``$AGENTGYM_NATIVE_CACHE`` (default ``~/.cache/agentgym/native``, not
under ``$AGENTGYM_CACHE``: it is machine code, shared by every run on the machine the way
inductor's cache is, so a run with its own cache does not rebuild it), named by a hash of
the source, the MuJoCo version and the compiler, so a new MuJoCo or a changed source
builds anew. Without a compiler, or where the build fails, ``library()``
says why and ``MujocoBatch`` steps in Python (it warns once, naming the reason).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SOURCE = Path(__file__).with_name("batch_step.cpp")


class NativeUnavailable(RuntimeError):
    """The native step cannot be built or loaded here; the message says why."""


def cache_root() -> Path:
    """``$AGENTGYM_NATIVE_CACHE`` (default ``~/.cache/agentgym/native``)."""
    root = os.environ.get("AGENTGYM_NATIVE_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "agentgym" / "native"


def cpp_compiler() -> str | None:
    """The system's C++ compiler: ``$CXX`` where set, else the first of g++, c++ and
    clang++ on PATH; None without one. Also what ``PPOConfig.compile`` and
    ``SACConfig.compile`` check for (inductor builds C++ on the CPU)."""
    wanted = os.environ.get("CXX")
    for name in [wanted] if wanted else ["g++", "c++", "clang++"]:
        path = shutil.which(name)
        if path:
            return path
    return None


def compilers_sought() -> str:
    """What ``cpp_compiler`` looks for, for an error message."""
    wanted = os.environ.get("CXX")
    return f"$CXX={wanted}" if wanted else "g++, c++ or clang++"


def _compiler() -> str:
    path = cpp_compiler()
    if path is None:
        raise NativeUnavailable(f"no C++ compiler ({compilers_sought()} not on PATH)")
    return path


def _mujoco_files() -> tuple[str, Path, Path]:
    import mujoco

    home = Path(mujoco.__file__).parent
    include = home / "include"
    shared = home / f"libmujoco.so.{mujoco.__version__}"
    if not sys.platform.startswith("linux") or not shared.is_file():
        raise NativeUnavailable(
            f"no {shared.name} beside the mujoco package (Linux wheels have it)"
        )
    if not (include / "mujoco" / "mujoco.h").is_file():
        raise NativeUnavailable(f"no MuJoCo headers in {include}")
    return mujoco.__version__, include, shared


@functools.lru_cache(maxsize=1)
def library() -> ctypes.CDLL:
    """The loaded library, built first where this machine has none for this source,
    MuJoCo version and compiler; raises ``NativeUnavailable`` saying why not."""
    version, include, shared = _mujoco_files()
    cxx = _compiler()
    key = hashlib.sha256(
        SOURCE.read_bytes() + f"{version}|{cxx}|{sys.platform}".encode()
    ).hexdigest()[:16]
    root = cache_root()
    path = root / f"batch_step-{key}.so"
    if not path.is_file():
        root.mkdir(parents=True, exist_ok=True)
        # Built beside its final name and renamed: processes that build at once each
        # write their own file, and a reader never sees half of one.
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=root)
        os.close(fd)
        command = [
            cxx, "-O2", "-std=c++17", "-shared", "-fPIC", "-pthread", f"-I{include}",
            str(SOURCE), "-o", tmp, str(shared), f"-Wl,-rpath,{shared.parent}",
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise NativeUnavailable(
                    f"building {SOURCE.name} failed ({' '.join(command)}):\n{done.stderr[-2000:]}"
                )
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    lib = ctypes.CDLL(str(path))
    lib.agentgym_batch_pool_create.argtypes = [ctypes.c_int]
    lib.agentgym_batch_pool_create.restype = ctypes.c_void_p
    lib.agentgym_batch_pool_destroy.argtypes = [ctypes.c_void_p]
    lib.agentgym_batch_pool_destroy.restype = None
    lib.agentgym_batch_step.argtypes = (
        [ctypes.c_void_p] * 5 + [ctypes.c_int] * 5 + [ctypes.c_void_p] * 3
    )
    lib.agentgym_batch_step.restype = ctypes.c_int
    return lib


class NativeStep:
    """The native step of one batch: ``step(ctrl, mask)`` does what ``MujocoBatch``'s
    Python step does to ``data`` and ``fields`` (``views[name]``: each sub-env's own
    ``data.<name>`` array, MujocoBatch's); ``close()`` stops its workers."""

    def __init__(
        self,
        model: Any,
        data: list[Any],
        fields: dict[str, np.ndarray],
        views: dict[str, list[np.ndarray]],
        frame_skip: int,
        post_constraint: bool,
        num_threads: int,
    ) -> None:
        self.pool: int | None = None
        self.lib = library()
        n = len(data)
        self.n, self.nu = n, int(model.nu)
        self.nstep, self.post = int(frame_skip), int(post_constraint)
        self._model = model  # alive while the pointers are
        self._data = data
        self.model_address = model._address
        self.data_addresses = np.array([d._address for d in data], dtype=np.uint64)
        for name, rows in views.items():
            first = rows[0]
            if first.dtype != np.float64 or not all(v.flags.c_contiguous for v in rows):
                raise NativeUnavailable(f"field {name!r} is not a contiguous float64 array")
            target = fields[name]
            if target.dtype != np.float64 or not target.flags.c_contiguous:
                raise NativeUnavailable(f"fields[{name!r}] is not a contiguous float64 array")
        self._views = views  # the MjData's own arrays, whose addresses the library reads
        self._fields = fields
        self.nfield = len(fields)
        self.sources = np.array(
            [[v.ctypes.data for v in views[name]] for name in fields], dtype=np.int64
        ).reshape(self.nfield, n)
        self.targets = np.array([fields[name].ctypes.data for name in fields], dtype=np.uint64)
        self.sizes = np.array([views[name][0].size for name in fields], dtype=np.int64)
        self._all = np.ones(n, dtype=np.uint8)
        self.pool = self.lib.agentgym_batch_pool_create(max(num_threads - 1, 0))

    def step(self, ctrl: np.ndarray, mask: np.ndarray | None) -> None:
        if self.pool is None:
            raise RuntimeError("MujocoBatch: stepped after close()")
        ctrl = np.ascontiguousarray(ctrl, dtype=np.float64).reshape(self.n, self.nu)
        step = self._all if mask is None else np.ascontiguousarray(mask, dtype=np.uint8)
        if step.shape != (self.n,):
            raise ValueError(
                f"MujocoBatch.step: mask must have shape ({self.n},), got {step.shape}"
            )
        failed = self.lib.agentgym_batch_step(
            self.pool,
            self.model_address,
            self.data_addresses.ctypes.data,
            ctrl.ctypes.data,
            step.ctypes.data,
            self.n,
            self.nu,
            self.nstep,
            self.post,
            self.nfield,
            self.sources.ctypes.data,
            self.targets.ctypes.data,
            self.sizes.ctypes.data,
        )
        if failed >= 0:
            raise RuntimeError(f"MujocoBatch: MuJoCo raised an error stepping sub-env {failed}")

    def close(self) -> None:
        if self.pool is not None:
            self.lib.agentgym_batch_pool_destroy(self.pool)
            self.pool = None

    def __del__(self) -> None:
        self.close()
