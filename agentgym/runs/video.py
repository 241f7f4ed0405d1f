"""Write evaluation videos: mp4 through imageio-ffmpeg, gif through Pillow.

The format follows the file's suffix, so a caller that asks for ``.mp4`` gets an mp4 or
an error, never a silently different file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_video(path: str | Path, frames: Sequence[np.ndarray], fps: int = 20) -> Path:
    """Write RGB frames ([H, W, 3] uint8, all the same size) to ``path``."""
    import imageio.v2 as imageio

    path = Path(path)
    if not frames:
        raise ValueError(f"write_video({str(path)!r}): no frames to write")
    shape = np.asarray(frames[0]).shape
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"write_video: frames must be [H, W, 3] RGB arrays, got shape {shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".mp4":
        # macro_block_size=1 keeps odd frame sizes instead of resizing with a warning.
        imageio.mimwrite(path, [np.asarray(f, dtype=np.uint8) for f in frames], fps=fps,
                         codec="libx264", macro_block_size=1, quality=6)
    elif suffix == ".gif":
        imageio.mimwrite(path, [np.asarray(f, dtype=np.uint8) for f in frames],
                         duration=1000 / fps, loop=0)
    else:
        raise ValueError(f"write_video: the suffix of {str(path)!r} must be .mp4 or .gif")
    return path
