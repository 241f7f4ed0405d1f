"""Reward programs: vet a program before it runs (and, with the reward designers,
synthesize and evaluate them)."""

from __future__ import annotations

HELP = "work with reward programs: synthesize, eval, vet"
