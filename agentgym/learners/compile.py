"""How the learners compile their whole update step (``PPOConfig.compile``,
``SACConfig.compile``): one ``torch.compile`` call with the same options for both.

On the CPU the step's kernels are called from inductor's C++ wrapper (``cpp_wrapper``)
instead of a generated Python function: the kernels are the same, only the calls between
them leave Python. Measured on the 2-core Intel Xeon dev machine (2026-12-05, one torch
thread, two other jobs running, fresh inductor caches, two runs each): PPO's minibatch
step at SB3's sizes 278-280 us against 309-331 us, compile 23-25 s against 27 s; SAC on
Reach (128-128, 2 gradient steps per vector step) 6.65-6.72 against 7.03-7.21 CPU s per
5,000 env steps, compile 30 s against 39 s (``python -m bench ppo_update`` has the PPO
case). On CUDA the Python wrapper stays: that path is not measured here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CPU_OPTIONS: dict[str, Any] = {"cpp_wrapper": True}
"""Inductor options of a step compiled for the CPU."""


def compile_step(step: Callable[..., Any], device_type: str) -> Callable[..., Any]:
    """``step`` compiled whole (no graph breaks, static shapes) for ``device_type``."""
    import torch

    options = dict(CPU_OPTIONS) if device_type == "cpu" else {}
    return torch.compile(step, fullgraph=True, dynamic=False, options=options)
