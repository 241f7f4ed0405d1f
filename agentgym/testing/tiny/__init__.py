"""Real models and configs at toy size, for tests (ours and users'): each is built from a
config with random weights, saved to a folder and loaded back through the real loading
code (``from_pretrained``), or trains in seconds.

- ``build_tiny_clip``: a CLIP with a hand-written vocabulary (``clip.py``);
- ``build_tiny_lm`` / ``build_tiny_lm_for_env``: a word-level causal LM over an env's
  commands and observations (``lm.py``);
- ``build_tiny_llama``: a byte-level BPE Llama with a chat template (``llama.py``);
- ``tiny_ppo_config``: a PPOConfig that trains in seconds (``ppo.py``).
"""

from __future__ import annotations

from agentgym.testing.tiny.clip import build_tiny_clip
from agentgym.testing.tiny.llama import build_tiny_llama
from agentgym.testing.tiny.lm import build_tiny_lm, build_tiny_lm_for_env
from agentgym.testing.tiny.ppo import tiny_ppo_config

__all__ = [
    "build_tiny_clip",
    "build_tiny_llama",
    "build_tiny_lm",
    "build_tiny_lm_for_env",
    "tiny_ppo_config",
]
