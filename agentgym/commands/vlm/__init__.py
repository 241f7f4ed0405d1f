"""Vision-language-model rewards: inspect a CLIP reward on frames before training on it."""

from __future__ import annotations

HELP = "inspect vision-language-model rewards (CLIP, VLM-RM)"
