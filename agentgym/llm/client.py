"""The one LLM interface: ``LLMClient.chat(messages, n=, temperature=, max_tokens=, stop=)``.

An ``LLMClient`` wraps a backend (one round trip: ``Backend.request``) with what every
backend needs and none should re-implement: the SQLite cache, the retry policy, content
checks that re-sample a bounded number of times, the fill-in of samples when a server
returns fewer choices than ``n`` (llama.cpp's server returns one), and the usage account.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agentgym.llm.cache import DEFAULT_CACHE_PATH, LLMCache, request_hash
from agentgym.llm.completion import (
    BackendResponse,
    Completion,
    Message,
    SamplingParams,
    normalize_messages,
)
from agentgym.llm.errors import LLMContentError, LLMRequestError, TransientLLMError
from agentgym.llm.retry import RetryPolicy
from agentgym.llm.usage import UsageAccount

log = logging.getLogger(__name__)

REFUSED_FORMAT_STATUS = frozenset({400, 422})
"""Answers to a request with ``response_format`` that mean "not supported here"."""

ContentCheck = Callable[[Completion], "str | None"]
"""Returns why a completion is unusable (a short code such as "NO_CODE"), or None."""


@runtime_checkable
class Backend(Protocol):
    """One way to reach a model. A backend makes one round trip per ``request`` and
    raises ``TransientLLMError`` for faults worth retrying."""

    name: str
    """Registry name: "openai", "vllm", "hf"."""
    model: str
    """The model as the spec names it (part of the cache key)."""
    max_concurrency: int
    """How many requests may be in flight at once (1 for in-process engines)."""
    structured_output: bool
    """Whether ``request`` can honour ``SamplingParams.response_format`` at all."""

    def request(self, messages: list[Message], params: SamplingParams, n: int) -> BackendResponse:
        """Ask for ``n`` samples in one round trip; may return fewer."""
        ...

    def describe(self) -> dict[str, Any]:
        """Facts for logs and manifests (never a secret)."""
        ...


def reject_truncated(completion: Completion) -> str | None:
    """The default content check: a sample cut off by max_tokens is re-sampled."""
    return "TRUNCATED" if completion.truncated else None


class LLMClient:
    """Chat with a backend through a cache, retries, content checks and a usage account.

    Thread-safe: several threads may call ``chat`` at once (a request holds one of the
    backend's ``max_concurrency`` slots).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        cache: LLMCache | str | Path | None = DEFAULT_CACHE_PATH,
        retry: RetryPolicy | None = None,
        usage: UsageAccount | None = None,
        max_resamples: int = 2,
        checks: Sequence[ContentCheck] = (reject_truncated,),
    ) -> None:
        self.backend = backend
        self.cache = LLMCache(cache) if isinstance(cache, (str, Path)) else cache
        self.retry = retry or RetryPolicy()
        self.usage = usage or UsageAccount()
        if max_resamples < 0:
            raise ValueError(f"max_resamples must be >= 0, got {max_resamples}")
        self.max_resamples = max_resamples
        self.checks = tuple(checks)
        self._slots = threading.BoundedSemaphore(max(1, backend.max_concurrency))
        # Once a server has answered n>1 with one choice, ask it for one at a time.
        self._single_choice = False
        # Once a server has refused response_format (400), ask it for free text.
        self._structured_output = bool(getattr(backend, "structured_output", False))

    def __repr__(self) -> str:
        return f"LLMClient({self.backend.name}:{self.backend.model}, cache={self.cache!r})"

    @property
    def one_choice_per_request(self) -> bool:
        """True once the server answered n > 1 with fewer choices (llama.cpp does): the
        missing samples are then asked for one per request, concurrently."""
        return self._single_choice

    @property
    def structured_output(self) -> bool:
        """False when the backend cannot constrain output or the server refused
        ``response_format`` once: requests then go without it, and the caller parses
        the free text (the request's cache key still names the format asked for)."""
        return self._structured_output

    # -- the interface ---------------------------------------------------------------
    def chat(
        self,
        messages: str | Sequence[Message],
        *,
        n: int = 1,
        temperature: float = 1.0,
        max_tokens: int = 1024,
        stop: str | Sequence[str] | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        check: ContentCheck | None = None,
        use_cache: bool = True,
        response_format: dict[str, Any] | None = None,
    ) -> list[Completion]:
        """Return exactly ``n`` completions of the chat, in sample-index order.

        Samples found in the cache cost nothing; the others are requested (with retries
        on transient faults). A sample that fails a content check (the client's
        ``checks`` and ``check``) is asked for again up to ``max_resamples`` times per
        missing sample; if it never passes, the last one is returned with ``problem``
        set. Raises ``LLMRequestError`` at once for 400/401/403/404,
        ``RetriesExhaustedError`` when one request meets only transient faults, and
        ``LLMContentError`` when the server keeps returning no choices.

        ``response_format`` asks for structured output (OpenAI's JSON-schema body, which
        llama.cpp's and vLLM's servers accept too). A server that answers it with 400 or 422
        is asked again without it, once, and this client remembers not to send it again; a
        backend without structured output never gets it. Either way the caller must parse
        the text it gets (``structured_output`` says which happened).
        """
        msgs, params, request, req_hash = self._keyed(
            messages, n, temperature, max_tokens, stop, top_p, seed, response_format
        )
        checks = self.checks + ((check,) if check is not None else ())
        hits = self.cache.get(req_hash, range(n)) if (self.cache and use_cache) else {}
        missing = [i for i in range(n) if i not in hits]
        fresh = self._sample(msgs, params, len(missing), checks) if missing else []
        fresh = [replace(c, index=i) for c, i in zip(fresh, missing, strict=True)]
        if self.cache is not None and fresh:
            self.cache.put(request, req_hash, fresh)
        self.usage.record_samples(n, len(hits))
        by_index = {**hits, **{c.index: c for c in fresh}}
        return [by_index[i] for i in range(n)]

    def cached(
        self,
        messages: str | Sequence[Message],
        *,
        n: int = 1,
        temperature: float = 1.0,
        max_tokens: int = 1024,
        stop: str | Sequence[str] | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> list[Completion] | None:
        """The ``n`` completions ``chat`` with these arguments would take from the cache,
        or None when any is missing (no request is made)."""
        if self.cache is None:
            return None
        *_, req_hash = self._keyed(
            messages, n, temperature, max_tokens, stop, top_p, seed, response_format
        )
        hits = self.cache.get(req_hash, range(n))
        return [hits[i] for i in range(n)] if len(hits) == n else None

    def _keyed(
        self,
        messages: str | Sequence[Message],
        n: int,
        temperature: float,
        max_tokens: int,
        stop: str | Sequence[str] | None,
        top_p: float | None,
        seed: int | None,
        response_format: dict[str, Any] | None,
    ) -> tuple[list[Message], SamplingParams, dict[str, Any], str]:
        """The messages, sampling parameters, cache request and its hash of one chat."""
        msgs = normalize_messages(messages)
        stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
        params = SamplingParams(
            n=n,
            temperature=temperature,
            max_tokens=max_tokens,
            stop=stops,
            top_p=top_p,
            seed=seed,
            response_format=response_format,
        )
        request = {
            "backend": self.backend.name,
            "model": self.backend.model,
            "messages": msgs,
            "params": params.key_fields(),
        }
        return msgs, params, request, request_hash(request)

    # -- sampling ---------------------------------------------------------------------
    def _round_trip(self, msgs: list[Message], params: SamplingParams, n: int) -> BackendResponse:
        def attempt() -> BackendResponse:
            with self._slots:
                return self._request(msgs, params, n)

        def on_fault(err: TransientLLMError, attempt_no: int) -> None:
            self.usage.record_fault(err.kind)

        response, attempts = self.retry.call(attempt, on_fault=on_fault)
        self.usage.record_response(
            response.model or self.backend.model,
            response.prompt_tokens,
            response.completion_tokens,
            attempts,
        )
        return response

    def _request(self, msgs: list[Message], params: SamplingParams, n: int) -> BackendResponse:
        if params.response_format is None:
            return self.backend.request(msgs, params, n)
        if not self._structured_output:
            return self.backend.request(msgs, replace(params, response_format=None), n)
        try:
            return self.backend.request(msgs, params, n)
        except LLMRequestError as err:
            # 400 from OpenAI-style servers; 422 from FastAPI ones; llama-cpp-python's
            # server (which knows only "json_object") answers its validation error with 500
            refused = err.status in REFUSED_FORMAT_STATUS or (
                err.cause == "invalid_request" and "response_format" in str(err)
            )
            if not refused:
                raise
            log.warning(
                "%s refused response_format (%s); asking for free text from now on",
                self.backend.name,
                err,
            )
            self._structured_output = False
            return self.backend.request(msgs, replace(params, response_format=None), n)

    def _round_trips(
        self, msgs: list[Message], params: SamplingParams, sizes: list[int], first_request: int
    ) -> list[BackendResponse]:
        # With a seed, request j of a call uses seed + j: a fill-in or a re-sample with
        # the seed of the first request would only repeat its sample.
        def params_for(j: int) -> SamplingParams:
            return (
                params if params.seed is None or j == 0 else replace(params, seed=params.seed + j)
            )

        jobs = [(params_for(first_request + j), k) for j, k in enumerate(sizes)]
        if len(jobs) == 1:
            return [self._round_trip(msgs, *jobs[0])]
        workers = min(len(jobs), max(1, self.backend.max_concurrency))
        with ThreadPoolExecutor(workers, thread_name_prefix="agentgym-llm") as pool:
            return list(pool.map(lambda job: self._round_trip(msgs, *job), jobs))

    def _sample(
        self, msgs: list[Message], params: SamplingParams, k: int, checks: Sequence[ContentCheck]
    ) -> list[Completion]:
        accepted: list[Completion] = []
        rejected: list[Completion] = []
        budget = self.max_resamples * k  # content failures we are willing to pay for
        failures = 0
        sent = 0
        while len(accepted) < k:
            need = k - len(accepted)
            sizes = [1] * need if (self._single_choice or need == 1) else [need]
            responses = self._round_trips(msgs, params, sizes, first_request=sent)
            sent += len(sizes)
            for size, response in zip(sizes, responses, strict=True):
                got = response.completions[:size]
                if not got:
                    failures += 1
                    self.usage.record_problem("NO_CHOICES", resampled=failures <= budget)
                    continue
                if len(got) < size and not self._single_choice:
                    log.info(
                        "%s returned %d of %d choices; asking for the rest one at a time",
                        self.backend.name,
                        len(got),
                        size,
                    )
                    self._single_choice = True
                for c in got:
                    reason = next((r for r in (chk(c) for chk in checks) if r), None)
                    if reason is None:
                        accepted.append(c)
                    else:
                        failures += 1
                        self.usage.record_problem(reason, resampled=failures <= budget)
                        rejected.append(replace(c, problem=reason))
            if len(accepted) < k and failures > budget:
                short = k - len(accepted)
                if len(rejected) < short:
                    raise LLMContentError(
                        f"{self.backend.name}:{self.backend.model} gave {len(accepted)} usable of "
                        f"{k} samples after {failures} content failures (empty choices or failed "
                        f"checks); giving up"
                    )
                accepted.extend(rejected[-short:])
        return accepted[:k]
