"""Exceptions of the LLM clients.

Backends translate their library's exceptions into these, so the retry policy in
``agentgym.llm.retry`` is one tested policy for every backend: ``TransientLLMError`` is
retried with backoff, everything else fails at once.
"""

from __future__ import annotations


class LLMError(RuntimeError):
    """Base class of every error raised by ``agentgym.llm``."""


class LLMSpecError(ValueError):
    """An LLM spec string (``openai:MODEL[@BASE_URL]``, ...) that cannot be parsed."""


class BackendUnavailableError(LLMError):
    """A backend whose library or hardware is missing (vllm without a GPU, ...)."""


class LLMRequestError(LLMError):
    """A request the server refused for a reason a retry cannot fix (400/401/403/404).

    The message names the cause in the user's terms (bad key, unknown model, bad URL)
    and keeps the server's own words.
    """

    def __init__(self, message: str, *, status: int | None = None, cause: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.cause = cause


class TransientLLMError(LLMError):
    """A fault that may pass: timeout, reset connection, 408/429/5xx, a malformed reply.

    ``retry_after`` holds the server's Retry-After in seconds when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after
        self.status = status


class RetriesExhaustedError(LLMError):
    """Every attempt of one request met a transient fault."""

    def __init__(self, message: str, *, attempts: int, last: TransientLLMError) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last = last


class LLMContentError(LLMError):
    """The server kept answering with no usable choice (e.g. an empty ``choices`` list)."""
