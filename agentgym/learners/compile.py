"""How the learners compile their whole update step (``PPOConfig.compile``,
``SACConfig.compile``): one ``torch.compile`` call with the same options for both, and
``Compiled.bind``, which calls it without Dynamo's per-call guard evaluation.

On the CPU the step's kernels are called from inductor's C++ wrapper (``cpp_wrapper``)
instead of a generated Python function: the kernels are the same, only the calls between
them leave Python. Measured on the 2-core Intel Xeon dev machine (2026-12-05, one torch
thread, two other jobs running, fresh inductor caches, two runs each): PPO's minibatch
step at SB3's sizes 278-280 us against 309-331 us, compile 23-25 s against 27 s; SAC on
Reach (128-128, 2 gradient steps per vector step) 6.65-6.72 against 7.03-7.21 CPU s per
5,000 env steps, compile 30 s against 39 s (``python -m bench ppo_update`` has the PPO
case). On CUDA the Python wrapper stays: that path is not measured here.

A ``torch.compile``d function checks Dynamo's guards on every call (each tensor's shape,
strides, dtype, the grad mode ...): at SB3's sizes that is ~30 of a step's ~175 us, and
the frame hook around it ~25 more. A learner calls its step thousands of times with
tensors of one layout, so ``bind`` compiles ahead of time for that layout
(``torch.compile(...).aot_compile``), checks the guards once, and returns the compiled
code itself; the C++ wrapper still asserts every input's size and stride on each call.
Measured (idle Intel Xeon, 2026-12-06, PPO's step alone at SB3's sizes, median of 5 x
3,000 calls): 174 us through ``torch.compile``, 150 us through the AOT function with
its guards, 116 us bound.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CPU_OPTIONS: dict[str, Any] = {"cpp_wrapper": True}
"""Inductor options of a step compiled for the CPU."""


def compile_step(step: Callable[..., Any], device_type: str) -> Compiled:
    """``step`` compiled whole (no graph breaks, static shapes) for ``device_type``."""
    import torch

    options = dict(CPU_OPTIONS) if device_type == "cpu" else {}
    return Compiled(torch.compile(step, fullgraph=True, dynamic=False, options=options))


def layout(args: Any) -> tuple[Any, ...]:
    """What a compiled function is specialised on, per argument (lists and tuples item
    by item): a tensor's shape, strides, dtype, device and whether it requires grad; any
    other value itself; and the grad mode and torch's CPU thread count (inductor writes
    its C++ loops for that many threads, and Dynamo does not guard on it: a step
    compiled on one thread and called on two would run on one)."""
    import torch

    def of(a: Any) -> Any:
        if isinstance(a, torch.Tensor):
            return (tuple(a.shape), a.stride(), a.dtype, a.device, a.requires_grad)
        if isinstance(a, list | tuple):
            return (type(a).__name__, *(of(x) for x in a))
        return a

    return (torch.is_grad_enabled(), torch.get_num_threads(), *(of(a) for a in args))


class Compiled:
    """A ``torch.compile``d step: call it like the function, or ``bind`` it once to a
    layout of arguments and call what that returns in a loop."""

    def __init__(self, compiled: Callable[..., Any]) -> None:
        self.compiled = compiled
        self._bound: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def __call__(self, *args: Any) -> Any:
        return self.compiled(*args)

    def bind(self, *args: Any) -> Callable[..., Any]:
        """The compiled code for arguments laid out like ``args`` (compiled on the first
        call for that layout), to call with such arguments only: Dynamo's guards are
        checked here, once, not on each call. Where inductor's caches are disabled
        (``TORCHINDUCTOR_FORCE_DISABLE_CACHES``, which ahead-of-time compilation needs)
        this is the ``torch.compile``d function, guards and all."""
        import torch

        if torch._inductor.config.force_disable_caches:
            return self.compiled
        key = layout(args)
        bound = self._bound.get(key)
        if bound is None:
            aot = self.compiled.aot_compile((args, {}))  # type: ignore[attr-defined]
            if not aot.guard_check(*args):
                raise RuntimeError(f"compiled step: guards fail on its own example inputs {key}")
            bound = self._bound[key] = aot.fn
        return bound
