"""A usage account per run: requests, retries, tokens, cache hits and cost.

Cost is computed where the model's price is known (a small table of OpenAI models,
US dollars per million tokens, list prices) and is None otherwise: a local or unknown
model has no price, and a made-up one would be worse than none.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# (input, output) in USD per 1M tokens, OpenAI list prices. Longest prefix wins, so a
# dated snapshot ("gpt-4o-2024-08-06") is priced as its family.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o1-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
}


def price_of(model: str) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for a known model, else None."""
    name = model.rsplit("/", 1)[-1].lower()
    best = max(
        (p for p in PRICES_PER_MTOK if name == p or name.startswith(p + "-")), key=len, default=None
    )
    return PRICES_PER_MTOK[best] if best else None


def cost_of(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = price_of(model)
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


@dataclass
class UsageAccount:
    """Counts of one run; thread-safe; written as JSON with ``write``."""

    requests: int = 0
    """Round trips sent to a backend, failed attempts included."""
    successful_requests: int = 0
    """Round trips that returned a reply."""
    retries: int = 0
    """Attempts that met a transient fault and were retried (or gave up)."""
    faults: Counter = field(default_factory=Counter)
    """Transient faults by kind (timeout, connection, status_429, malformed, ...)."""
    resamples: int = 0
    """Samples rejected by a content check and asked for again."""
    problems: Counter = field(default_factory=Counter)
    """Content check failures by reason (NO_CHOICES, TRUNCATED, NO_CODE, ...)."""
    samples: int = 0
    """Completions returned to callers, cache hits included."""
    cache_hits: int = 0
    """Completions served from the cache (no request)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    max_attempts_seen: int = 0
    """Most attempts any one request needed."""
    cost_usd: float | None = 0.0
    """Cost at list price; None once any request went to a model with no known price."""
    by_model: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self.requests += 1
            self.retries += 1
            self.faults[kind] += 1

    def record_response(
        self, model: str, prompt_tokens: int, completion_tokens: int, attempts: int
    ) -> None:
        cost = cost_of(model, prompt_tokens, completion_tokens)
        with self._lock:
            self.requests += 1
            self.successful_requests += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.max_attempts_seen = max(self.max_attempts_seen, attempts)
            row = self.by_model.setdefault(
                model, {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
            )
            row["requests"] += 1
            row["prompt_tokens"] += prompt_tokens
            row["completion_tokens"] += completion_tokens
            if cost is None:
                row["cost_usd"] = None
                self.cost_usd = None
            else:
                if row["cost_usd"] is not None:
                    row["cost_usd"] += cost
                if self.cost_usd is not None:
                    self.cost_usd += cost

    def record_problem(self, reason: str, resampled: bool) -> None:
        with self._lock:
            self.problems[reason] += 1
            if resampled:
                self.resamples += 1

    def record_samples(self, returned: int, cache_hits: int) -> None:
        with self._lock:
            self.samples += returned
            self.cache_hits += cache_hits

    @property
    def cache_hit_rate(self) -> float:
        return self.cache_hits / self.samples if self.samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "successful_requests": self.successful_requests,
                "retries": self.retries,
                "faults": dict(self.faults),
                "resamples": self.resamples,
                "problems": dict(self.problems),
                "samples": self.samples,
                "cache_hits": self.cache_hits,
                "cache_hit_rate": self.cache_hits / self.samples if self.samples else 0.0,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "max_attempts_seen": self.max_attempts_seen,
                "cost_usd": self.cost_usd,
                "by_model": {k: dict(v) for k, v in self.by_model.items()},
            }

    def write(self, path: str | Path) -> Path:
        """Write the account as JSON (e.g. a run folder's ``llm_usage.json``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path
