"""Training-worker targets that misbehave the way a program that got out of its reward
function could: run in a real sandbox worker by tests/reward_designers/test_worker_folder.py
in place of ``training.train_candidates`` (same arguments)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_parent_files(run_dirs: list[str], **_: Any) -> list[dict[str, Any]]:
    """Try to overwrite every file of the run the parent reads; leave links for it to
    follow; report each attempt in the member's attempts.json and claim success."""
    member = Path(run_dirs[0])
    iteration, run = member.parents[1], member.parents[2]
    targets = [
        iteration / "sample_00" / "result.json",  # a candidate recorded before training
        iteration / "sample_00" / "reward.py",
        iteration / "sample_01" / "reward.py",
        iteration / "sample_01" / "vet.json",
        run / "manifest.json",
        run / "report.html",
        run / "best.json",
    ]
    attempts = {}
    for target in targets:
        try:
            target.write_text('{"status": "trained", "success": 1.0}\n')
            attempts[str(target)] = "written"
        except OSError as err:
            attempts[str(target)] = type(err).__name__
    member.mkdir(parents=True, exist_ok=True)
    (member / "attempts.json").write_text(json.dumps(attempts))
    (member / "logs").mkdir(exist_ok=True)
    os.symlink("/etc/hostname", member / "traces.json")
    os.symlink(str(run / "manifest.json"), member / "logs" / "metrics.jsonl")
    return [{"status": "DONE", "step": 64, "eval/success_rate": 1.0} for _ in run_dirs]


def fill_disk(run_dirs: list[str], **_: Any) -> list[dict[str, Any]]:
    """Write one file until the worker's file-size limit stops it."""
    member = Path(run_dirs[0])
    member.mkdir(parents=True, exist_ok=True)
    chunk = b"x" * (1 << 20)
    with (member / "filler.bin").open("wb") as f:
        for _ in range(1 << 14):  # 16 GiB, far past any limit a worker gets
            f.write(chunk)
            f.flush()
    return [{"status": "DONE", "step": 64} for _ in run_dirs]
