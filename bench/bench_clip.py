"""CLIP reward throughput: frames/s relabelled in batches vs scored one frame at a time.

Two random-weights models loaded through ``from_pretrained`` (no weights ship offline):
the tiny test CLIP and a ViT-B/32-sized CLIP (transformers' ``CLIPConfig()`` defaults,
~150M parameters, the size VLM-RM's smallest reward model has). Frames are 224x224
uint8, all distinct and the embedding cache is off, so every frame is encoded. On CPU,
and on CUDA (fp16) when present. Writes ``bench/results/clip.json`` and ``clip.md``.

    python -m bench clip            # or: make bench
    BENCH_CLIP_QUICK=1 python -m bench clip   # fewer frames
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results"
FRAME = 224


def _build(kind: str, root: Path) -> Path:
    from agentgym.testing.tiny import build_tiny_clip

    path = build_tiny_clip(root / kind)
    if kind == "vit-b32":
        from transformers import CLIPConfig, CLIPModel

        # Defaults of CLIPConfig are ViT-B/32: 12-layer 768-wide vision tower, patch 32,
        # 224 px; 12-layer 512-wide text tower; 512-d embeddings. The tiny tokenizer and a
        # 224 px image processor are saved beside it.
        model = CLIPModel(CLIPConfig(text_config={"max_position_embeddings": 77}))
        model.save_pretrained(path)
        from transformers import CLIPImageProcessor

        CLIPImageProcessor(
            size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
        ).save_pretrained(path)
    return path


def _rate(fn, frames: np.ndarray, repeats: int = 1) -> float:
    fn(frames[:2])  # warm-up: kernels, allocator, first-call costs
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        fn(frames)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = max(best, len(frames) / (time.perf_counter() - start))
    return best


def measure(
    path: Path, device: str, n_batched: int, n_loop: int, batch_size: int
) -> dict[str, float]:
    from agentgym.reward_designers.clip import reward_from_spec

    # alpha=0: a random-weights 12-layer text tower maps different prompts to nearly the
    # same point, so g - b is undefined; the projection is one [D, D] matmul either way.
    spec = (
        f"model={path};goal=the pole is upright;alpha=0;"
        f"cache_size=0;device={device};batch_size={batch_size}"
    )
    reward = reward_from_spec(spec)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (max(n_batched, n_loop), FRAME, FRAME, 3), dtype=np.uint8)

    def batched(f: np.ndarray) -> None:
        reward.score_frames(f)

    def loop(f: np.ndarray) -> None:
        for i in range(len(f)):
            reward.score_frames(f[i : i + 1])

    b = _rate(batched, frames[:n_batched])
    one = _rate(loop, frames[:n_loop])
    return {
        "batched_fps": round(b, 1),
        "per_frame_fps": round(one, 1),
        "ratio": round(b / one, 2),
        "frames_batched": n_batched,
        "frames_loop": n_loop,
        "batch_size": batch_size,
    }


def main() -> dict:
    from agentgym.runs.manifest import machine_info

    quick = bool(os.environ.get("BENCH_CLIP_QUICK"))
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    plan = {
        # (frames batched, frames in the per-frame loop, batch size) per (model, device)
        ("tiny", "cpu"): (256, 64, 256) if quick else (1024, 256, 256),
        ("vit-b32", "cpu"): (32, 8, 32) if quick else (96, 24, 32),
        ("tiny", "cuda"): (4096, 512, 1024),
        ("vit-b32", "cuda"): (2048, 256, 512),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("tiny", "vit-b32"):
            path = _build(kind, Path(tmp))
            for device in devices:
                n_b, n_l, bs = plan[(kind, device)]
                result = measure(path, device, n_b, n_l, bs)
                name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
                rows.append(
                    {
                        "model": kind,
                        "device": device,
                        "device_name": name,
                        "dtype": "float16" if device == "cuda" else "float32",
                        **result,
                    }
                )
                print(
                    f"{kind:8s} {device:5s} batched {result['batched_fps']:>9.1f} frames/s  "
                    f"per-frame {result['per_frame_fps']:>8.1f} frames/s  x{result['ratio']}"
                )
    machine = machine_info()
    # Shared machines make these numbers move: the load average says how busy it was.
    machine["load_average_1m"] = round(os.getloadavg()[0], 2)
    out = {
        "benchmark": "clip_reward_frames_per_s",
        "frame": [FRAME, FRAME, 3],
        "quick": quick,
        "machine": machine,
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "clip.json").write_text(json.dumps(out, indent=1))
    lines = [
        "# CLIP reward: frames/s, batched relabel vs per-frame loop",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, GPU: {machine['gpu'] or 'none'}, "
        f"torch {machine['torch']}, load average {machine['load_average_1m']} at the end. "
        f"Frames {FRAME}x{FRAME}, all distinct, cache off.",
        "",
        "| model | device | dtype | batch | batched frames/s | per-frame frames/s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['device_name']} | {r['dtype']} | {r['batch_size']} | "
            f"{r['batched_fps']} | {r['per_frame_fps']} | {r['ratio']}x |"
        )
    (RESULTS / "clip.md").write_text("\n".join(lines) + "\n")
    return out


if __name__ == "__main__":
    main()
