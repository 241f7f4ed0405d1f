"""agentgym.sandbox: vetting and isolated execution of generated reward code.

Generated code is untrusted; this process never runs it. ``load_reward_program`` is the
one way a program file becomes a reward (vetted, served by a sandbox worker unless
trusted by name or by living in the package's library). ``static_check`` vets the
source (AST allowlist, signature), ``vet`` adds a dry run on recorded ``reward_state``
batches of the env inside a worker, ``run_in_worker`` is the generic confined process
(reward synthesis trains candidates with it), and ``guard.check_finite`` stops a
candidate whose reward turns NaN or inf during training; ``run_audit`` tries every way
out of a worker on this machine. Every rejection carries a
``Code`` and a message fit to send back to the LLM.

Names are imported lazily so that a worker process starts without importing torch
until its target needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Code": "agentgym.sandbox.codes",
    "SandboxRejection": "agentgym.sandbox.codes",
    "VetResult": "agentgym.sandbox.results",
    "WorkerResult": "agentgym.sandbox.results",
    "Limits": "agentgym.sandbox.worker",
    "run_in_worker": "agentgym.sandbox.worker",
    "static_check": "agentgym.sandbox.static",
    "vet": "agentgym.sandbox.vetting",
    "vet_many": "agentgym.sandbox.vetting",
    "record_states": "agentgym.sandbox.states",
    "record_trajectories": "agentgym.sandbox.trajectories",
    "load_reward_program": "agentgym.sandbox.loader",
    "RejectedProgram": "agentgym.sandbox.loader",
    "SandboxedReward": "agentgym.sandbox.program_worker",
    "SandboxedRewardError": "agentgym.sandbox.program_worker",
    "WeakSandboxError": "agentgym.sandbox.policy",
    "require_strong_isolation": "agentgym.sandbox.policy",
    "check_finite": "agentgym.sandbox.guard",
    "NonFiniteReward": "agentgym.sandbox.guard",
    "run_audit": "agentgym.sandbox.audit",
    "AuditReport": "agentgym.sandbox.audit",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'agentgym.sandbox' has no attribute {name!r}")
