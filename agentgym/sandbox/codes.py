"""Rejection codes: one per way a generated reward program can fail.

Every rejection carries a ``Code`` (stable, machine-readable, used in logs, reports and
the reward designers' statistics) and a short message written for the LLM that wrote the
program, so it can be sent back verbatim as feedback.
"""

from __future__ import annotations

import enum
import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, enum.Enum):
        def __str__(self) -> str:
            return str(self.value)


class Code(StrEnum):
    """Why a program was rejected or a worker stopped."""

    # static vetting (no process started)
    SYNTAX = "SYNTAX"
    FORBIDDEN_IMPORT = "FORBIDDEN_IMPORT"
    FORBIDDEN_NAME = "FORBIDDEN_NAME"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNKNOWN_STATE = "UNKNOWN_STATE"
    TOO_LARGE = "TOO_LARGE"
    # dry run on recorded states
    BAD_RETURN = "BAD_RETURN"
    BAD_SHAPE = "BAD_SHAPE"
    BAD_DTYPE = "BAD_DTYPE"
    NONFINITE = "NONFINITE"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    # reward synthesis's own check on a program that passed the dry run
    CONSTANT = "CONSTANT"
    PREFERENCE = "PREFERENCE"
    """Its returns do not rank the recorded successful episodes above the failed ones."""
    # the structured designer's sketch, checked against the TaskSpec before any program exists
    SKETCH_JSON = "SKETCH_JSON"
    SKETCH_SCHEMA = "SKETCH_SCHEMA"
    SKETCH_EXPR = "SKETCH_EXPR"
    SKETCH_VARIABLE = "SKETCH_VARIABLE"
    SKETCH_SHAPE = "SKETCH_SHAPE"
    # the worker process
    TIMEOUT = "TIMEOUT"
    MEMORY = "MEMORY"
    OUTPUT_LIMIT = "OUTPUT_LIMIT"
    CRASHED = "CRASHED"
    WORKER_ERROR = "WORKER_ERROR"
    # the executor that ran the worker (agentgym.executors)
    EXECUTOR_LOST = "EXECUTOR_LOST"
    """The task running the worker was lost (its node died, its process was killed)."""
    DEADLINE = "DEADLINE"
    """The task running the worker did not finish by its deadline and was cancelled."""


class SandboxRejection(Exception):
    """Raised inside a worker (or by the static check) with a code and an LLM-facing message."""

    def __init__(self, code: Code | str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message
        self.detail = detail or message
