"""Score frames with a CLIP reward (VLM-RM's goal-baseline projection) and plot them.

    agentgym vlm score --model PATH --goal "pole upright" --baseline "pole" --alpha 0.5 FRAMES

FRAMES is a folder of PNG/JPG images (scored in name order) or a video (mp4, gif, ...).
Prints a table of per-frame rewards and writes a plot (default: <FRAMES>-clip.png beside
the input), so a reward can be inspected on a few recorded frames before a training run
depends on it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "print per-frame CLIP rewards of a folder of images or a video, and plot them"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("frames", help="a folder of PNG/JPG frames or a video file")
    parser.add_argument(
        "--model",
        required=True,
        help="transformers CLIP/SigLIP folder, or open_clip:ARCH/TAG, open_clip:ARCH@FILE",
    )
    parser.add_argument(
        "--goal",
        required=True,
        action="append",
        help="goal prompt (repeat, or separate with '|', for several)",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        help="baseline prompt (repeat, or separate with '|'); needed when alpha > 0",
    )
    parser.add_argument("--alpha", type=float, default=0.5, help="projection strength in [0, 1]")
    parser.add_argument(
        "--resize",
        choices=("squash", "center-crop"),
        default="squash",
        help="squash the whole frame to the model's square input (VLM-RM's way, default) or "
        "center-crop it (the model's own processor; cuts a wide frame's sides)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    parser.add_argument("--batch-size", type=int, default=64, help="frames per forward pass")
    parser.add_argument("--every", type=int, default=1, help="score every k-th frame of a video")
    parser.add_argument("--plot", default=None, help="PNG to write (default <FRAMES>-clip.png)")
    parser.add_argument("--json", default=None, help="also write the rewards as JSON here")


def read_frames(source: Path, every: int = 1) -> tuple[list[str], np.ndarray]:  # noqa: F821
    """(names, frames uint8 [B, H, W, 3]) from a folder of images or a video."""
    import imageio.v3 as iio
    import numpy as np

    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"FRAMES: {str(source)!r} holds no {'/'.join(IMAGE_SUFFIXES)} images")
        images = [_rgb(iio.imread(p)) for p in files]
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise ValueError(
                f"FRAMES: the images of {str(source)!r} differ in size: {sorted(shapes)}"
            )
        return [p.name for p in files][::every], np.stack(images)[::every]
    if not source.is_file():
        raise ValueError(f"FRAMES: {str(source)!r} is neither a folder of images nor a video file")
    frames = [_rgb(f) for i, f in enumerate(iio.imiter(source)) if i % every == 0]
    if not frames:
        raise ValueError(f"FRAMES: {str(source)!r} has no frames")
    return [f"frame {i * every}" for i in range(len(frames))], np.stack(frames)


def _rgb(image):
    import numpy as np

    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.shape[-1] == 4:
        image = image[..., :3]
    if image.dtype != np.uint8:
        scale = 255.0 if image.dtype.kind == "f" and image.max() <= 1.0 else 1.0
        image = np.clip(image * scale, 0, 255).astype(np.uint8)
    return image


def _prompts(values: list[str]) -> tuple[str, ...]:
    return tuple(p.strip() for v in values for p in v.split("|") if p.strip())


def run(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from agentgym.reward_designers.clip import ClipLoadError, ClipReward, ClipRewardConfig

    console = Console()
    source = Path(args.frames)
    try:
        config = ClipRewardConfig(
            model=args.model,
            goal=_prompts(args.goal),
            baseline=_prompts(args.baseline),
            alpha=args.alpha,
            device=args.device,
            batch_size=args.batch_size,
            resize=args.resize,
        )
        names, frames = read_frames(source, max(1, args.every))
        reward = ClipReward(config)
        scores = reward.score_frames(frames).cpu().numpy()
    except (ValueError, ClipLoadError) as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        return 2
    table = Table(title=f"CLIP reward, alpha={config.alpha}: {source.name} ({len(scores)} frames)")
    table.add_column("#", justify="right")
    table.add_column("frame")
    table.add_column("reward", justify="right")
    for i, (name, score) in enumerate(zip(names, scores, strict=True)):
        table.add_row(str(i), name, f"{score:.5f}")
    console.print(table)
    console.print(
        f"mean {scores.mean():.5f}  std {scores.std():.5f}  "
        f"min {scores.min():.5f} (#{scores.argmin()})  max {scores.max():.5f} (#{scores.argmax()})"
    )
    plot = (
        Path(args.plot) if args.plot else source.parent / f"{source.stem or source.name}-clip.png"
    )
    from agentgym.reward_designers.clip.report import save_strip

    save_strip(frames, scores, plot)
    console.print(f"plot: {plot}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "model": config.model,
                    "goal": list(config.goal),
                    "baseline": list(config.baseline),
                    "alpha": config.alpha,
                    "resize": config.resize,
                    "frames": names,
                    "rewards": [float(s) for s in scores],
                },
                indent=1,
            )
        )
    return 0
