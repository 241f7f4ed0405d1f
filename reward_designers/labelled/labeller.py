"""A bounded, asynchronous queue of LLM questions that never blocks the caller.

ONI (Klissarov et al., "On the Modeling Capabilities of Large Language Models for
Sequential Decision Making", 2024; Zheng et al., "Online Intrinsic Rewards for Decision
Making Agents from Large Language Model Feedback", arXiv 2410.23022) labels observations
with an LLM *beside* the learner: the policy keeps stepping while a server answers. Here
``AsyncLabeller.submit(key, prompt)`` returns at once: an answer already known is
returned, a key already waiting is not asked again (de-duplication by the key, a hash
of the caption), a key the LLM cache already answers is answered at once (a local SQLite
read on the caller's thread, so a cached answer never waits behind a slow request), and
a new key goes onto a bounded queue that one background thread sends to the LLM client
(which stores each answer in that cache, so a question is asked once across runs).
A full queue drops the question (counted in ``dropped``); a later ``submit`` of the same
key may enqueue it again, so a dropped caption is deferred, not lost.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    """The de-duplication key of a caption or prompt: its SHA-256, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class LabelStats:
    """Counters of an ``AsyncLabeller``; ``as_metrics`` is what learners log."""

    submitted: int = 0
    """submit() calls."""
    known: int = 0
    """submit() calls answered from an earlier answer (no LLM call)."""
    duplicates: int = 0
    """submit() calls whose key was already waiting in the queue."""
    enqueued: int = 0
    """Questions put on the queue."""
    dropped: int = 0
    """Questions refused because the queue was full (asked again on a later submit)."""
    answered: int = 0
    """Answers received from the LLM client (cache hits included)."""
    cache_hits: int = 0
    """Answers the LLM client found in its disk cache."""
    failed: int = 0
    """Questions whose LLM call raised (logged; the key may be asked again)."""
    latency_total_s: float = 0.0
    """Summed seconds from enqueue to answer."""

    def as_metrics(self, prefix: str, queue_depth: int) -> dict[str, float]:
        latency = self.latency_total_s / self.answered if self.answered else float("nan")
        return {
            f"{prefix}/labels_made": float(self.answered),
            f"{prefix}/label_cache_hits": float(self.cache_hits),
            f"{prefix}/label_latency_s": latency,
            f"{prefix}/queue_depth": float(queue_depth),
            f"{prefix}/dropped": float(self.dropped),
            f"{prefix}/duplicates": float(self.duplicates),
            f"{prefix}/failed": float(self.failed),
        }


Ask = Callable[[str], "tuple[str, bool]"]
"""prompt -> (answer text, whether it came from the cache)."""
Lookup = Callable[[str], "str | None"]
"""prompt -> the cached answer, or None; never a request."""


class AsyncLabeller:
    """One background thread answering queued prompts with ``ask``; ``submit`` never waits.

    ``on_answer(key, prompt, answer)`` runs after each answer (ONI trains its classifier
    there): on the background thread, or on the caller's for an answer ``lookup`` found
    in the cache; calls are serialised, so the handler needs no lock of its own.
    """

    def __init__(
        self,
        ask: Ask,
        max_queue: int,
        on_answer: Callable[[str, str, str], None] | None = None,
        name: str = "labeller",
        lookup: Lookup | None = None,
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"AsyncLabeller: max_queue must be >= 1, got {max_queue}")
        self._ask = ask
        self._on_answer = on_answer
        self._lookup = lookup
        self._handler_lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, str, float] | None] = queue.Queue(max_queue)
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self.answers: dict[str, str] = {}
        self.stats = LabelStats()
        self._first_enqueue: float | None = None
        self._last_answer: float | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)
        self._thread.start()

    def submit(self, key: str, prompt: str) -> str | None:
        """The answer for ``key`` if known, else None (the prompt is queued unless it is
        waiting already or the queue is full)."""
        with self._lock:
            self.stats.submitted += 1
            if key in self.answers:
                self.stats.known += 1
                return self.answers[key]
            if key in self._pending:
                self.stats.duplicates += 1
                return None
        cached = self._lookup(prompt) if self._lookup is not None else None
        if cached is not None:
            self._record(key, prompt, cached, True, time.monotonic())
            return cached
        with self._lock:
            try:
                self._queue.put_nowait((key, prompt, time.monotonic()))
            except queue.Full:
                self.stats.dropped += 1
                return None
            self._pending.add(key)
            self.stats.enqueued += 1
            if self._first_enqueue is None:
                self._first_enqueue = time.monotonic()
            return None

    def answer(self, key: str) -> str | None:
        """The answer for ``key`` if known (never queues)."""
        with self._lock:
            return self.answers.get(key)

    def waiting(self, key: str) -> bool:
        """Whether ``key`` is queued or being asked now."""
        with self._lock:
            return key in self._pending

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def labels_per_second(self) -> float:
        """Answers per second from the first enqueue to the last answer (nan before two)."""
        with self._lock:
            if self._first_enqueue is None or self._last_answer is None:
                return float("nan")
            span = self._last_answer - self._first_enqueue
            return self.stats.answered / span if span > 0 else float("nan")

    def wait_idle(self, timeout: float) -> bool:
        """Block until the queue is empty and nothing is in flight (tests, measurements)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        """Stop the thread after the question in flight; queued ones are abandoned."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            key, prompt, queued_at = item
            try:
                text, cached = self._ask(prompt)
            except Exception as err:  # noqa: BLE001 (any LLM fault must not kill the thread)
                log.warning(
                    "labeller: the LLM call failed (%s); the question may be asked again", err
                )
                with self._lock:
                    self.stats.failed += 1
                    self._pending.discard(key)
                continue
            self._record(key, prompt, text, cached, queued_at)

    def _record(self, key: str, prompt: str, text: str, cached: bool, asked_at: float) -> None:
        if self._on_answer is not None:
            try:
                with self._handler_lock:
                    self._on_answer(key, prompt, text)
            except Exception:  # the learner must keep running; the fault is logged
                log.exception("labeller: the answer handler failed")
        now = time.monotonic()
        with self._lock:
            self.answers[key] = text
            self._pending.discard(key)
            self.stats.answered += 1
            self.stats.cache_hits += int(cached)
            self.stats.latency_total_s += now - asked_at
            if self._first_enqueue is None:
                self._first_enqueue = asked_at
            self._last_answer = now

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("AsyncLabeller holds a thread and cannot be pickled")
