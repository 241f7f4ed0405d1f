"""One retry policy for every backend: bounded attempts, exponential backoff with full
jitter, a capped delay, and the server's Retry-After honoured up to a cap.

Backends raise ``TransientLLMError`` for faults that may pass (timeouts, resets,
408/429/5xx, malformed replies) and any other exception for faults that will not; only
the first kind is retried. The openai client's own retries are turned off
(``max_retries=0``) so that this is the single policy, and the one the tests exercise.
Full jitter follows "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015): a
delay drawn uniformly from [0, min(cap, base * 2**attempt)] spreads out clients that
failed together.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

from agentgym.config_fields import check_ints, field_error
from agentgym.llm.errors import RetriesExhaustedError, TransientLLMError

log = logging.getLogger(__name__)
T = TypeVar("T")


def parse_retry_after(
    headers: Mapping[str, str] | None, now: datetime | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP-date).

    Returns None when no header is present or it cannot be read; never a negative number.
    """
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass  # not a number: Retry-After may still say
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass  # not seconds: an HTTP date (below)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.debug("unreadable Retry-After header %r", value)
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter."""

    max_attempts: int = 8
    """Attempts per request, the first included."""
    base_delay: float = 0.5
    """Backoff scale in seconds: attempt k waits up to base_delay * 2**k."""
    max_delay: float = 30.0
    """Cap of one backoff delay in seconds."""
    max_retry_after: float = 120.0
    """Cap of a server's Retry-After in seconds (a longer one is waited for this long)."""
    sleep: Callable[[float], None] = time.sleep
    """How to wait; tests pass a recorder."""
    seed: int | None = None
    """Seed of the jitter, for reproducible tests."""
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        check_ints(self, ("max_attempts",))
        for name in ("base_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise field_error(self, name, "seconds >= 0", getattr(self, name))
        self._rng = random.Random(self.seed)

    def delay(self, failed_attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based)."""
        if retry_after is not None:
            # The server said when to come back: earlier is pointless, so honour it
            # (capped), with a little jitter so a crowd does not return at once.
            with self._lock:
                jitter = self._rng.uniform(0, min(self.base_delay, 1.0))
            return min(retry_after, self.max_retry_after) + jitter
        ceiling = min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1))
        with self._lock:
            return self._rng.uniform(0, ceiling)

    def call(
        self,
        fn: Callable[[], T],
        *,
        on_fault: Callable[[TransientLLMError, int], None] | None = None,
    ) -> tuple[T, int]:
        """Run ``fn`` until it succeeds; return its value and the number of attempts.

        ``on_fault(error, attempt)`` is told of every transient fault (for the usage
        account). Raises ``RetriesExhaustedError`` after ``max_attempts`` transient
        faults; any other exception propagates at once.
        """
        for attempt in range(1, self.max_attempts + 1):
            try:
                return fn(), attempt
            except TransientLLMError as err:
                if on_fault is not None:
                    on_fault(err, attempt)
                if attempt == self.max_attempts:
                    raise RetriesExhaustedError(
                        f"gave up after {attempt} attempts; last fault: {err.kind}: {err}",
                        attempts=attempt,
                        last=err,
                    ) from err
                wait = self.delay(attempt, err.retry_after)
                log.info(
                    "attempt %d failed (%s: %s); retrying in %.2fs", attempt, err.kind, err, wait
                )
                self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises
