from __future__ import annotations

import pytest

from agentgym.spec import StateVar, TaskSpec


def test_privileged_names_cannot_be_state():
    with pytest.raises(ValueError, match="privileged"):
        StateVar("success", (), "bool", "-", "the answer")


def test_bad_dtype_is_named():
    with pytest.raises(ValueError, match="dtype must be one of"):
        StateVar("x", (2,), "float16", "m", "x")


SPEC = TaskSpec("T", "do it", "done", (StateVar("pos", (3,), "float32", "m", "where"),))


def test_check_state_names_missing_variables():
    with pytest.raises(ValueError, match=r"missing \['pos'\]"):
        SPEC.check_state({})


def test_check_state_names_a_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        SPEC.check_state({"pos": [0.0, 1.0]})


def test_check_state_takes_a_state_of_the_declared_shape():
    SPEC.check_state({"pos": [0.0, 1.0, 2.0]})


def test_pythonic_abstraction_lists_every_variable():
    spec = TaskSpec("T", "do it", "done", (StateVar("pos", (3,), "float32", "m", "where it is"),))
    text = spec.pythonic_abstraction()
    assert "pos: torch.Tensor  # [num_envs, 3]" in text
    assert "where it is" in text and "Success: done" in text
