"""The one-question LLM call the labelled rewards share: a chat client built from a spec,
asked at temperature 0 through the persistent cache, answer text and cache flag back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentgym.llm import DEFAULT_CACHE_PATH


def cache_of(cache: str) -> Any:
    """``default`` (the user's LLM cache), ``none``, or a path of an SQLite cache file."""
    if cache == "default":
        return DEFAULT_CACHE_PATH
    if cache == "none":
        return None
    return Path(cache).expanduser()


class OneShotAsker:
    """``ask(prompt) -> (text, cached)`` over an ``LLMClient``; no content check, because a
    one-word answer cut at ``max_tokens`` is still an answer (parsed by the caller)."""

    def __init__(self, llm: str, cache: str, max_tokens: int) -> None:
        from agentgym.llm import make_client

        self.client = make_client(llm or None, cache=cache_of(cache), checks=())
        self.max_tokens = max_tokens

    def __call__(self, prompt: str) -> tuple[str, bool]:
        [reply] = self.client.chat(
            [{"role": "user", "content": prompt}], temperature=0.0, max_tokens=self.max_tokens
        )
        return reply.text, reply.cached

    def lookup(self, prompt: str) -> str | None:
        """The cached answer to ``prompt``, or None (a local SQLite read, no request)."""
        replies = self.client.cached(
            [{"role": "user", "content": prompt}], temperature=0.0, max_tokens=self.max_tokens
        )
        return replies[0].text if replies else None


def yes_no(text: str) -> bool | None:
    """True for an answer starting with yes, False for no, None for anything else."""
    words = text.strip().lower().lstrip("*\"' ").split()
    first = words[0].strip(".,!:;*\"'") if words else ""
    return True if first == "yes" else False if first == "no" else None
