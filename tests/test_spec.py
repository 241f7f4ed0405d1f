from __future__ import annotations

import pytest

from agentgym.spec import StateVar, TaskSpec


def test_privileged_names_cannot_be_state():
    with pytest.raises(ValueError, match="privileged"):
        StateVar("success", (), "bool", "-", "the answer")


def test_bad_dtype_is_named():
    with pytest.raises(ValueError, match="dtype must be one of"):
        StateVar("x", (2,), "float16", "m", "x")


def test_check_state_reports_missing_and_shape():
    spec = TaskSpec("T", "do it", "done", (StateVar("pos", (3,), "float32", "m", "where"),))
    with pytest.raises(ValueError, match=r"missing \['pos'\]"):
        spec.check_state({})
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        spec.check_state({"pos": [0.0, 1.0]})
    spec.check_state({"pos": [0.0, 1.0, 2.0]})


def test_pythonic_abstraction_lists_every_variable():
    spec = TaskSpec("T", "do it", "done", (StateVar("pos", (3,), "float32", "m", "where it is"),))
    text = spec.pythonic_abstraction()
    assert "pos: torch.Tensor  # [num_envs, 3]" in text
    assert "where it is" in text and "Success: done" in text
