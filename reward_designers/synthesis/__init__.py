"""Reward synthesis: the search loop every code-writing designer shares.

``Synthesis(config, run).run()`` asks a designer (``designers``) for programs, takes each
through its ``stages`` (extract, vet, critic, train in a sandbox worker, score), keeps the
``candidates`` on disk, ranks them by ``scores`` on the task's success metric, and writes
the run's ``report`` sections. ``reflection`` and ``retrieval`` build what the LLM reads
(rendered by ``reward_designers.prompting``); ``training`` is the worker-side half; ``config`` the settings and run folder.
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "DESIGNERS",
    "Candidate",
    "Designer",
    "IterationOutcome",
    "Synthesis",
    "SynthesisConfig",
    "evaluate_rewards",
    "human_normalised",
    "load_candidates",
    "make_designer",
    "open_run",
    "resume_config",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Synthesis": "loop",
        "SynthesisConfig": "config",
        "open_run": "config",
        "resume_config": "config",
        "DESIGNERS": "designers",
        "Designer": "designers",
        "IterationOutcome": "designers",
        "make_designer": "designers",
        "Candidate": "candidates",
        "load_candidates": "candidates",
        "evaluate_rewards": "scores",
        "human_normalised": "scores",
    },
)
