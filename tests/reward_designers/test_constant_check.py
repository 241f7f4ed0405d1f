"""The CONSTANT check of synthesis rejects a constant total reward only when it carries no
signal: zero, or a nonzero constant on an env whose episodes never end early. An alive
bonus on an env that ends on failure (CartPole) and a cost per step on one that ends on
success (MountainCar) pass, and every human program of the library passes on its env."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentgym.catalog import env_ids, task_spec
from agentgym.reward_designers.library import LIBRARY
from agentgym.reward_designers.synthesis.scores import human_program
from agentgym.reward_designers.synthesis.stages import constant_verdict
from agentgym.sandbox import vet
from agentgym.sandbox.results import VetResult

REACH = "agentgym/Reach-v0"


def _library_envs() -> dict[str, str]:
    """Library file stem -> the registered id whose human program it is."""
    out = {}
    for env_id in env_ids():
        path = human_program(env_id)
        if path is not None:
            out.setdefault(Path(path).stem, env_id)
    return out


LIBRARY_ENVS = _library_envs()
PROGRAMS = sorted(p.stem for p in LIBRARY.glob("*.py") if not p.stem.startswith("_"))


def _constant(value: float) -> VetResult:
    stats = {"mean": value, "std": 0.0, "min": value, "max": value}
    return VetResult(ok=True, stage="dry_run", stats={"reward": stats, "c": stats})


def test_every_library_program_has_an_env():
    assert PROGRAMS and set(PROGRAMS) == set(LIBRARY_ENVS)


@pytest.mark.parametrize("stem", PROGRAMS)
def test_library_program_passes_the_constant_check(stem: str):
    env_id = LIBRARY_ENVS[stem]
    verdict = vet((LIBRARY / f"{stem}.py").read_text(), env_id, timeout_s=60.0)
    assert verdict.ok, verdict.message
    checked, note = constant_verdict(verdict, task_spec(env_id))
    assert checked.ok and checked.code is None, checked.message
    assert note == ""


def test_cartpole_and_mountaincar_programs_are_constant_and_pass():
    # The measurement: both human programs are constant on random states.
    for stem in ("cartpole", "mountaincar"):
        env_id = LIBRARY_ENVS[stem]
        verdict = vet((LIBRARY / f"{stem}.py").read_text(), env_id, timeout_s=60.0)
        total = verdict.stats["reward"]
        assert total["min"] == total["max"] != 0
        assert constant_verdict(verdict, task_spec(env_id))[0].ok


ZERO = """import torch

def compute_reward(state, action):
    zero = torch.zeros_like(state["fingertip_pos"][..., 0])
    return zero, {"zero": zero}
"""

ONE = """import torch

def compute_reward(state, action):
    one = torch.ones_like(state["fingertip_pos"][..., 0])
    return one, {"bonus": one}
"""


@pytest.mark.parametrize(
    ("source", "why"),
    [(ZERO, "zero everywhere"), (ONE, "never end early")],
    ids=["zero", "nonzero-on-reach"],
)
def test_constant_programs_on_reach_are_rejected_with_the_reason(source: str, why: str):
    verdict = vet(source, REACH, timeout_s=60.0)
    assert verdict.ok
    checked, note = constant_verdict(verdict, task_spec(REACH))
    assert not checked.ok and checked.code == "CONSTANT"
    assert why in checked.message and "on every recorded state" in checked.message
    assert note == ""


def test_zero_is_rejected_even_where_episodes_end():
    checked, _ = constant_verdict(_constant(0.0), task_spec("agentgym/CartPole-v0"))
    assert checked.code == "CONSTANT" and "zero everywhere" in checked.message


@pytest.mark.parametrize(
    ("env_id", "value", "passes_quietly"),
    [
        ("agentgym/CartPole-v0", 1.0, True),  # alive bonus, episodes end on failure
        ("agentgym/CartPole-v0", -1.0, False),  # teaches to fall: warned, not rejected
        ("agentgym/MountainCar-v0", -1.0, True),  # time cost, episodes end on success
        ("agentgym/MountainCar-v0", 1.0, False),  # teaches to avoid the flag: warned
        ("agentgym/Tools-v0", 1.0, False),  # termination undeclared: warned
    ],
)
def test_nonzero_constant_where_episodes_end_is_kept(
    env_id: str, value: float, passes_quietly: bool
):
    checked, note = constant_verdict(_constant(value), task_spec(env_id))
    assert checked.ok and checked.code is None
    assert (note == "") is passes_quietly
    if note:
        assert "trained anyway" in note


def test_varying_reward_passes_untouched():
    verdict = VetResult(
        ok=True, stats={"reward": {"mean": 0.5, "std": 0.1, "min": 0.0, "max": 1.0}}
    )
    assert constant_verdict(verdict, task_spec(REACH)) == (verdict, "")


CHEETAH = "agentgym/HalfCheetah-v0"

FAST_BONUS = """import torch

def compute_reward(state, action):
    fast = (state["forward_velocity"] >= 3.0).float()
    return fast, {"fast": fast}
"""

ZERO_CHEETAH = """import torch

def compute_reward(state, action):
    zero = 0.0 * state["forward_velocity"]
    return zero, {"zero": zero}
"""

NAN_WHEN_SPREAD = """import torch

def compute_reward(state, action):
    v = state["forward_velocity"]
    zero = 0.0 * torch.log(9.0 - v * v)
    return zero, {"zero": zero}
"""


def test_a_sparse_bonus_no_random_state_earns_passes_with_a_note_where_no_expert_judges():
    # HalfCheetah has no expert: a random policy never runs at 3 m/s, so the bonus is 0 on
    # every recorded state; spread about their mean, the states reach that speed.
    verdict = vet(FAST_BONUS, CHEETAH, timeout_s=60.0)
    assert verdict.ok
    total = verdict.stats["reward"]
    assert total["min"] == total["max"] == 0.0
    spread = verdict.spread["stats"]["reward"]
    assert spread["min"] == 0.0 and spread["max"] == 1.0
    checked, note = constant_verdict(verdict, task_spec(CHEETAH))
    assert checked.ok and checked.code is None
    assert "a sparse reward" in note and "trained anyway" in note
    # Where an expert's episodes can judge it, they do (the trajectory filter), not this.
    checked, _ = constant_verdict(verdict, task_spec(CHEETAH), expert_judges=True)
    assert checked.code == "CONSTANT"


def test_a_constant_stays_constant_when_spread_and_is_rejected():
    verdict = vet(ZERO_CHEETAH, CHEETAH, timeout_s=60.0)
    assert verdict.ok
    spread = verdict.spread["stats"]["reward"]
    assert spread["min"] == spread["max"] == 0.0
    checked, note = constant_verdict(verdict, task_spec(CHEETAH))
    assert checked.code == "CONSTANT" and "zero everywhere" in checked.message
    assert note == ""


def test_a_program_failing_on_spread_states_keeps_its_verdict_and_is_rejected():
    # Finite on every real state (|v| < 1.8), NaN where spread states leave log's domain: the
    # failure is recorded (the states are not physical), and no variation was seen.
    verdict = vet(NAN_WHEN_SPREAD, CHEETAH, timeout_s=60.0)
    assert verdict.ok, verdict.message
    assert "error" in verdict.spread and "stats" not in verdict.spread
    checked, _ = constant_verdict(verdict, task_spec(CHEETAH))
    assert checked.code == "CONSTANT"


def test_a_varying_program_is_not_run_on_spread_states():
    verdict = vet((LIBRARY / "reach.py").read_text(), REACH, timeout_s=60.0)
    assert verdict.ok and verdict.spread == {}


def test_zero_even_on_the_experts_episodes_says_so_and_what_to_reward_instead():
    """ButtonPress in the benchmark: a bonus for a distance under 0.02 that the scripted
    expert never gets under is 0 on every recorded state and every labelled episode."""
    verdict = _constant(0.0)
    verdict.returns = [0.0] * 6  # the expert's, random and perturbed episodes alike
    checked, _ = constant_verdict(verdict, task_spec("agentgym/MetaWorld-ButtonPress-v0"))
    assert checked.code == "CONSTANT"
    assert "the expert's successful ones included" in checked.message
    assert "reward the distance itself" in checked.message
    # a random policy's states alone do not say what the expert earns
    checked, _ = constant_verdict(_constant(0.0), task_spec("agentgym/MetaWorld-ButtonPress-v0"))
    assert checked.code == "CONSTANT" and "expert" not in checked.message
