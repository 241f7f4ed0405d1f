"""Canaries for the sandbox tests: a loopback TCP server that counts what it receives, a
file that must not change, a secret in the environment and one in a file under $HOME."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentgym.testing.canary import CanaryServer


@pytest.fixture(scope="session", autouse=True)
def state_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Recorded states go to a temp cache, not the user's ~/.cache."""
    path = tmp_path_factory.mktemp("agentgym-cache")
    old = os.environ.get("AGENTGYM_CACHE")
    os.environ["AGENTGYM_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("AGENTGYM_CACHE", None)
    else:
        os.environ["AGENTGYM_CACHE"] = old


@pytest.fixture(scope="module")
def canary_server() -> Iterator[CanaryServer]:
    server = CanaryServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def secret() -> Iterator[str]:
    """A fake API key in the parent's environment; it must never reach a worker."""
    value = f"sk-canary-{uuid.uuid4().hex}"
    old = {k: os.environ.get(k) for k in ("OPENAI_API_KEY", "HF_TOKEN")}
    os.environ["OPENAI_API_KEY"] = value
    os.environ["HF_TOKEN"] = value
    yield value
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def secret_file(secret: str) -> Iterator[Path]:
    """The secret in a dotfile-like place under $HOME, where real credentials live."""
    folder = Path(tempfile.mkdtemp(prefix=".agentgym-canary-", dir=Path.home()))
    path = folder / "credentials"
    path.write_text(secret)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def canary_file() -> Iterator[Path]:
    """A file outside /tmp (visible, read-only, under bubblewrap) that must not change."""
    folder = Path(tempfile.mkdtemp(prefix="agentgym-canary-", dir="/var/tmp"))
    path = folder / "canary.txt"
    path.write_text("canary\n")
    yield path
    shutil.rmtree(folder, ignore_errors=True)
