"""``Compiled.bind`` (agentgym/learners/compile.py): a compiled step called without
Dynamo's per-call guards, compiled once per layout of its arguments."""

from __future__ import annotations

import pytest
import torch

from agentgym.learners.compile import compile_step, layout


def _accumulate(total: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    total.add_(x)
    return (total * 2.0).sum(0)


def test_bound_code_mutates_and_returns_like_the_function_and_is_compiled_once_per_layout():
    step = compile_step(_accumulate, "cpu")
    start = torch.arange(6.0).view(2, 3)
    x = torch.full((2, 3), 0.5)
    total = start.clone()
    bound = step.bind(total, x)
    for _ in range(3):
        out = bound(total, x)
    torch.testing.assert_close(total, start + 1.5)
    torch.testing.assert_close(out, ((start + 1.5) * 2.0).sum(0))
    assert step.bind(start.clone(), torch.zeros(2, 3)) is bound  # same layout, same code
    wide = step.bind(torch.zeros(4, 3), torch.zeros(4, 3))  # another layout, its own code
    assert wide is not bound
    total4 = torch.zeros(4, 3)
    torch.testing.assert_close(wide(total4, torch.ones(4, 3)), torch.full((3,), 8.0))


def test_bound_code_refuses_tensors_of_another_shape():
    step = compile_step(_accumulate, "cpu")
    bound = step.bind(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises((AssertionError, RuntimeError), match="size|stride|shape"):
        bound(torch.zeros(4, 3), torch.zeros(4, 3))


def test_layout_tells_apart_shapes_strides_dtypes_and_grad_mode():
    a = torch.zeros(2, 3)
    assert layout((a,)) == layout((torch.ones(2, 3),))
    assert layout((a,)) != layout((torch.zeros(3, 2),))
    assert layout((a,)) != layout((torch.zeros(3, 2).t(),))  # same shape, other strides
    assert layout((a,)) != layout((a.double(),))
    assert layout(([a, a], 0.5)) != layout(([a], 0.5))
    with torch.no_grad():
        no_grad = layout((a,))
    assert no_grad != layout((a,))


def test_code_is_bound_per_torch_thread_count():
    """Inductor writes its C++ loops for the thread count it compiles under: code bound
    on one thread is not reused on two (a population's update on every core)."""
    step = compile_step(_accumulate, "cpu")
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = step.bind(torch.zeros(64, 3), torch.zeros(64, 3))
        one_layout = layout((torch.zeros(64, 3),))
        torch.set_num_threads(2)
        two = step.bind(torch.zeros(64, 3), torch.zeros(64, 3))
        assert two is not one and layout((torch.zeros(64, 3),)) != one_layout
        total = torch.zeros(64, 3)
        torch.testing.assert_close(two(total, torch.ones(64, 3)), torch.full((3,), 128.0))
    finally:
        torch.set_num_threads(threads)


def test_bind_without_inductor_caches_is_the_guarded_compiled_function():
    step = compile_step(_accumulate, "cpu")
    with torch._inductor.config.patch(force_disable_caches=True):
        assert step.bind(torch.zeros(2, 3), torch.zeros(2, 3)) is step.compiled
