"""Files that ship with agentgym: MJCF models, prompt templates, fixtures."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def asset_path(*parts: str) -> Path:
    """Path of a packaged asset, e.g. ``asset_path("mjcf", "reach.xml")``."""
    return Path(str(files(__name__).joinpath(*parts)))
