"""``vet`` on single programs, ``static_check`` details, and the run-time guard."""

from __future__ import annotations

import pytest
import torch

from agentgym.sandbox import Code, NonFiniteReward, check_finite, static_check, vet
from agentgym.sandbox.states import load_states, record_states
from tests.sandbox.leftovers import processes_mentioning

ENV = "agentgym/Reach-v0"
GOOD = """import torch

def compute_reward(state, action):
    d = torch.linalg.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    ctrl = -0.01 * (action ** 2).sum(-1)
    return -d + ctrl, {"distance": -d, "control": ctrl}
"""


def test_vet_passes_a_good_program_with_its_terms_and_stats(tmp_path):
    result = vet(GOOD, ENV, run_dir=tmp_path / "vet")
    assert result.ok and result.code is None, result.detail
    assert result.terms == ["control", "distance"]
    assert result.isolation in ("bwrap", "netns", "rlimits")
    # Reach distances are at most 2 * 0.24 m, so the distance term lies in [-0.48, 0].
    assert -0.49 <= result.stats["distance"]["min"] <= result.stats["distance"]["max"] <= 0
    assert processes_mentioning(str(tmp_path / "vet")) == []


def test_vet_kills_a_program_that_swallows_the_alarm(tmp_path):
    source = GOOD.replace(
        "    d = ",
        """    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
    d = """,
    )
    result = vet(source, ENV, run_dir=tmp_path / "vet", timeout_s=6)
    assert not result.ok and result.code == Code.TIMEOUT
    assert "6 s" in result.message
    assert processes_mentioning(str(tmp_path / "vet")) == []


def test_recorded_states_are_real_and_cached():
    path = record_states(ENV)
    assert record_states(ENV) == path  # cached
    states, actions = load_states(path)
    assert sorted(states) == ["fingertip_pos", "joint_pos", "joint_vel", "target_pos"]
    assert actions.shape == (256, 2) and states["fingertip_pos"].shape == (256, 2)
    # a random policy moves the arm: the states are not constant
    assert states["joint_pos"].std(0).min() > 0


def test_unknown_env_names_the_field():
    with pytest.raises(
        ValueError, match="env_id: unknown env 'agentgym/Rech-v0'. Did you mean 'agentgym/Reach-v0'"
    ):
        vet(GOOD, "agentgym/Rech-v0")


@pytest.mark.parametrize(
    ("source", "code", "fragment"),
    [
        (
            "import torch\ndef compute_reward(state, action):\n    return state['target_position'], {}\n",
            Code.UNKNOWN_STATE,
            "Did you mean",
        ),
        (
            "import torch\ndef compute_reward(state, action):\n    return state.get('env_reward'), {}\n",
            Code.UNKNOWN_STATE,
            "privileged",
        ),
        (
            "from math import *\ndef compute_reward(state, action):\n    return 0, {}\n",
            Code.FORBIDDEN_IMPORT,
            "import *",
        ),
        (
            "import torch\ndef compute_reward(state, action):\n    return action._values, {}\n",
            Code.FORBIDDEN_NAME,
            "private",
        ),
        (
            "import torch\ndef compute_reward(state, action):\n    return 0, {}\n\ndef compute_reward(state, action):\n    return 1, {}\n",
            Code.BAD_SIGNATURE,
            "defined 2 times",
        ),
        ("x = 1\n" * 20000, Code.TOO_LARGE, "longer than"),
    ],
)
def test_static_check_codes_and_messages(source, code, fragment):
    result = static_check(source, ["fingertip_pos", "target_pos"])
    assert not result.ok and result.code == code
    assert fragment in result.message


def test_static_check_points_at_the_line():
    result = static_check(
        "import torch\n\n\ndef compute_reward(state, action):\n    return eval('1'), {}\n"
    )
    assert result.code == Code.FORBIDDEN_NAME and result.message.startswith("line 5:")


def test_guard_stops_at_the_first_nonfinite_step():
    check_finite(torch.tensor([0.0, 1.5, -2.0]), step=10)  # finite: no exception
    with pytest.raises(NonFiniteReward) as info:
        check_finite(torch.tensor([0.0, float("nan"), float("inf")]), step=42, member=3)
    err = info.value
    assert err.code == Code.NONFINITE == "NONFINITE"  # the learners' status string
    assert err.step == 42 and err.count == 2 and err.member == 3
    assert "step 42" in err.message and "candidate 3" in err.message


PER_STATE_MISTAKES = {
    "math_on_a_batch": (
        GOOD.replace("import torch", "import math\nimport torch").replace(
            "return -d + ctrl", "return -math.exp(d) + ctrl"
        ),
        "use torch functions on it",
    ),
    "if_on_a_batch": (
        GOOD.replace("    ctrl = ", "    if d < 0.05:\n        d = d * 0\n    ctrl = "),
        "torch.where(condition, a, b)",
    ),
    "vector_met_a_value_per_env": (
        GOOD.replace("return -d + ctrl", 'return -d + ctrl * state["joint_vel"]'),
        "reduce each vector to one value per env",
    ),
    "module_never_imported": (
        GOOD.replace("return -d + ctrl", "return -d * math.pi + ctrl"),
        "add `import math` at the top of the program",
    ),
    "state_variable_never_read": (
        GOOD.replace(
            'state["fingertip_pos"] - state["target_pos"]', 'fingertip_pos - state["target_pos"]'
        ),
        'fingertip_pos = state["fingertip_pos"]',
    ),
}


@pytest.mark.parametrize("mistake", sorted(PER_STATE_MISTAKES))
def test_code_written_for_one_state_gets_what_to_write_instead(tmp_path, mistake):
    source, hint = PER_STATE_MISTAKES[mistake]
    result = vet(source, ENV, run_dir=tmp_path / "vet")
    assert not result.ok and result.code == Code.RUNTIME_ERROR
    assert hint in result.message and "line " in result.message


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        # The batch itself reduced away: the message must not ask for more reduction.
        ("d.mean()", "Keep the batch dimension"),
        # A vector per env left unreduced: reduce the other dimensions.
        ("state['fingertip_pos'] - state['target_pos']", "reduce the other dimensions, e.g."),
    ],
)
def test_a_wrong_shape_says_which_dimension_to_keep(tmp_path, body, hint):
    source = (
        "import torch\n\ndef compute_reward(state, action):\n"
        "    d = torch.linalg.norm(state['fingertip_pos'] - state['target_pos'], dim=-1)\n"
        f"    return {body}, {{}}\n"
    )
    result = vet(source, ENV, run_dir=tmp_path / "vet")
    assert result.code == Code.BAD_SHAPE
    assert hint in result.message
    if hint.startswith("Keep"):
        assert "e.g. .sum(-1) over a vector per env" in result.message
