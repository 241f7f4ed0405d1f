"""A CLIP name that is not on disk fails at once, without a single request to the hub."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from agentgym.testing.canary import CanaryServer


def test_missing_hub_model_fails_at_once_without_network(tmp_path: Path) -> None:
    """`agentgym vlm score --model openai/clip-vit-base-patch32` with an empty cache used to
    send ~10 requests to the hub and retry for ~30 s; the hub is now kept offline."""
    import imageio.v3 as iio

    frames = tmp_path / "frames"
    frames.mkdir()
    iio.imwrite(frames / "0.png", np.zeros((40, 60, 3), np.uint8))
    hub = CanaryServer()
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    # An empty cache, and the hub's address pointed at our listener: any request the
    # loading code makes lands there and is counted.
    env.update(HF_HOME=str(tmp_path / "hf"), HF_ENDPOINT=f"http://127.0.0.1:{hub.port}")
    args = ["vlm", "score", "--model", "openai/clip-vit-base-patch32", "--goal", "a"]
    try:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "agentgym", *args, "--alpha", "0", str(frames)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.perf_counter() - start
    finally:
        hub.close()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "nor a name in the Hugging Face cache" in out
    assert hub.connections == 0
    assert "Retrying" not in out
    # The process starts torch and transformers (~4 s here); the retries took ~30 s.
    assert elapsed < 20, f"{elapsed:.1f}s"
