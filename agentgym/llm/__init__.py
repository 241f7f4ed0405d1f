"""LLM clients: one ``chat`` interface over OpenAI-compatible servers, vLLM and
transformers, with a SQLite cache, retries, content checks and a usage account.

    from agentgym.llm import make_client
    llm = make_client("openai:qwen2.5-coder-1.5b@http://127.0.0.1:8011/v1")
    [reply] = llm.chat([{"role": "user", "content": "..."}], temperature=0.7, max_tokens=400)
    code = extract_code(reply.text)

Nothing heavy is imported here: each backend imports its library when it is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentgym.llm.cache import DEFAULT_CACHE_PATH, LLMCache
from agentgym.llm.client import Backend, ContentCheck, LLMClient, reject_truncated
from agentgym.llm.completion import BackendResponse, Completion, Message, SamplingParams
from agentgym.llm.errors import (
    BackendUnavailableError,
    LLMContentError,
    LLMError,
    LLMRequestError,
    LLMSpecError,
    RetriesExhaustedError,
    TransientLLMError,
)
from agentgym.llm.extract import Extraction, extract_code, require_code
from agentgym.llm.retry import RetryPolicy, parse_retry_after
from agentgym.llm.spec import BACKENDS, LLMSpec, make_backend, parse_spec
from agentgym.llm.usage import UsageAccount, cost_of, price_of


def make_client(
    spec: str | LLMSpec | None = None,
    *,
    cache: LLMCache | str | Path | None = DEFAULT_CACHE_PATH,
    retry: RetryPolicy | None = None,
    usage: UsageAccount | None = None,
    max_resamples: int = 2,
    **client_kwargs: Any,
) -> LLMClient:
    """Build an ``LLMClient`` from a spec (None reads ``$AGENTGYM_LLM``).

    ``cache`` is a path (a run folder's ``llm_cache.sqlite``), an ``LLMCache``, or None
    for no cache; the default is ``~/.cache/agentgym/llm.sqlite``.
    """
    return LLMClient(
        make_backend(spec),
        cache=cache,
        retry=retry,
        usage=usage,
        max_resamples=max_resamples,
        **client_kwargs,
    )


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendResponse",
    "BackendUnavailableError",
    "Completion",
    "ContentCheck",
    "DEFAULT_CACHE_PATH",
    "Extraction",
    "LLMCache",
    "LLMClient",
    "LLMContentError",
    "LLMError",
    "LLMRequestError",
    "LLMSpec",
    "LLMSpecError",
    "Message",
    "RetriesExhaustedError",
    "RetryPolicy",
    "SamplingParams",
    "TransientLLMError",
    "UsageAccount",
    "cost_of",
    "extract_code",
    "make_backend",
    "make_client",
    "parse_retry_after",
    "parse_spec",
    "price_of",
    "reject_truncated",
    "require_code",
]
