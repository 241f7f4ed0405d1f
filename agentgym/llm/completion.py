"""The data the LLM interface speaks: messages, sampling parameters, completions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agentgym.config_fields import check_ints, check_range

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": str}``."""

ROLES = ("system", "user", "assistant", "developer")


def normalize_messages(messages: str | Sequence[Message]) -> list[Message]:
    """Validate chat messages; a plain string becomes one user message."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    out: list[Message] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise TypeError(
                f"messages[{i}] must be a dict with 'role' and 'content', got {type(m).__name__}"
            )
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise ValueError(
                f"messages[{i}]['role'] must be one of {', '.join(ROLES)}, got {role!r}"
            )
        if not isinstance(content, str):
            raise ValueError(
                f"messages[{i}]['content'] must be a str, got {type(content).__name__}"
            )
        out.append({"role": role, "content": content})
    if not out:
        raise ValueError("messages must hold at least one message")
    return out


@dataclass(frozen=True)
class SamplingParams:
    """How to sample; everything here except ``n`` is part of the cache key."""

    n: int = 1
    """Number of samples (choices) wanted."""
    temperature: float = 1.0
    """Sampling temperature; 0 means greedy."""
    max_tokens: int = 1024
    """Most tokens generated per sample."""
    stop: tuple[str, ...] = ()
    """Strings that end a sample."""
    top_p: float | None = None
    """Nucleus sampling mass; None leaves the server's default."""
    seed: int | None = None
    """Sampling seed where the backend honours one."""
    response_format: dict[str, Any] | None = None
    """Structured output as OpenAI's ``response_format`` (e.g. ``{"type": "json_schema",
    "json_schema": {...}}``); None for free text."""

    def __post_init__(self) -> None:
        check_ints(self, ("n", "max_tokens"))
        check_range(self, "temperature", 0.0, 2.0)
        if self.top_p is not None:
            check_range(self, "top_p", 0.0, 1.0, open_low=True)

    def key_fields(self) -> dict[str, Any]:
        """The fields that decide what a sample can be (``n`` is not one of them)."""
        d = asdict(self)
        d.pop("n")
        d["stop"] = list(self.stop)
        if self.response_format is None:
            d.pop("response_format")  # keys of free-text requests stay what they were
        return d


@dataclass(frozen=True)
class Completion:
    """One sample of a chat reply."""

    text: str
    """The generated text."""
    finish_reason: str | None
    """Why generation ended: "stop", "length" (cut off by max_tokens), ..."""
    prompt_tokens: int = 0
    """Tokens of the prompt, as the backend counted them."""
    completion_tokens: int = 0
    """Tokens of this sample (split by length when one request returned several)."""
    model: str = ""
    """The model that answered, as the backend named it."""
    index: int = 0
    """Sample index within the request; part of the cache key."""
    cached: bool = False
    """True when this came from the cache and cost no request."""
    problem: str | None = None
    """Why a content check rejected it (e.g. "TRUNCATED", "NO_CODE") when every
    re-sample failed too; None for an accepted sample."""
    latency_s: float = 0.0
    """Seconds of the request that produced it (0 for a cache hit)."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Backend-specific details (e.g. the server's response id)."""

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass(frozen=True)
class BackendResponse:
    """What one backend round trip returned (possibly fewer choices than asked)."""

    completions: list[Completion]
    prompt_tokens: int
    completion_tokens: int
    model: str
    latency_s: float = 0.0
