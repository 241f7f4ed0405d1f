from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch

from agentgym.rewards import (
    EnvReward,
    ProgramReward,
    RewardSpecError,
    SparseSuccessReward,
    WeightedSum,
    make_input,
    parse_reward_spec,
)

PROGRAM = """
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    bonus = (d < 0.05).float()
    return torch.exp(-d / 0.1) + bonus, {"near": torch.exp(-d / 0.1), "bonus": bonus}
"""


def _batch(n=3):
    rng = np.random.default_rng(0)
    state = {
        "fingertip_pos": rng.normal(size=(n, 2)).astype(np.float32),
        "target_pos": rng.normal(size=(n, 2)).astype(np.float32),
        "joint_pos": rng.normal(size=(n, 2)).astype(np.float32),
        "joint_vel": rng.normal(size=(n, 2)).astype(np.float32),
    }
    return make_input(
        state,
        rng.normal(size=(n, 2)),
        [1.0, 2.0, 3.0],
        {"a": [0.5, 1, 1], "b": [0.5, 1, 2]},
        [True, False, True],
        None,
    )


def test_builtin_atoms():
    assert isinstance(parse_reward_spec("env"), EnvReward)
    assert isinstance(parse_reward_spec("sparse"), SparseSuccessReward)
    batch = _batch()
    assert parse_reward_spec("sparse")(batch).reward.tolist() == [1.0, 0.0, 1.0]
    assert parse_reward_spec("env")(batch).reward.tolist() == [1.0, 2.0, 3.0]


def test_weighted_sum_matches_hand_sum_and_terms_add_up():
    model = parse_reward_spec("2*sparse + -0.5*env")
    assert isinstance(model, WeightedSum)
    out = model(_batch())
    assert out.reward.tolist() == pytest.approx([2 - 0.5, -1.0, 2 - 1.5])
    assert set(out.terms) == {"sparse/success", "env/a", "env/b"}
    assert torch.allclose(sum(out.terms.values()), out.reward)


def test_a_trusted_program_file_is_a_program_reward_whose_terms_add_up(tmp_path):
    path = tmp_path / "shaped.py"
    path.write_text(PROGRAM)
    model = parse_reward_spec(f"trust:{path}")
    assert isinstance(model, ProgramReward)
    out = model(_batch())
    assert set(out.terms) == {"near", "bonus"}  # these add up: no residual
    assert torch.allclose(out.terms["near"] + out.terms["bonus"], out.reward)


def test_a_program_reward_scores_the_same_after_pickling(tmp_path):
    path = tmp_path / "shaped.py"
    path.write_text(PROGRAM)
    model = parse_reward_spec(f"trust:{path}")
    out = model(_batch())
    clone = pickle.loads(pickle.dumps(model))
    assert torch.equal(clone(_batch()).reward, out.reward)


def test_an_untrusted_program_file_runs_in_a_sandbox_worker_with_the_same_values(tmp_path):
    from agentgym.sandbox.program_worker import SandboxedReward

    path = tmp_path / "shaped.py"
    path.write_text(PROGRAM)
    model = parse_reward_spec(str(path))
    assert isinstance(model, SandboxedReward)
    try:
        out, want = model(_batch()), ProgramReward(PROGRAM, trusted=True)(_batch())
        assert model.isolation == "bwrap"
        assert set(out.terms) == {"near", "bonus"}
        assert torch.allclose(out.reward, want.reward)
        clone = pickle.loads(pickle.dumps(model))  # pickles as source, own worker
        assert torch.allclose(clone(_batch()).reward, want.reward)
        clone.close()
    finally:
        model.close()


def test_run_folder_with_best_reward(tmp_path):
    from agentgym.sandbox.program_worker import SandboxedReward

    (tmp_path / "best_reward.py").write_text(PROGRAM)
    assert isinstance(parse_reward_spec(str(tmp_path)), SandboxedReward)


def test_a_program_reward_runs_in_process_only_when_trusted():
    with pytest.raises(ValueError, match="trusted=True"):
        ProgramReward(PROGRAM)


def test_a_folder_without_best_reward_is_named(tmp_path):
    with pytest.raises(RewardSpecError, match="best_reward.py"):
        parse_reward_spec(str(tmp_path))


def test_residual_added_when_terms_do_not_sum(tmp_path):
    src = PROGRAM.replace(
        '{"near": torch.exp(-d / 0.1), "bonus": bonus}', '{"near": torch.exp(-d / 0.1)}'
    )
    src = src.replace("return torch.exp(-d / 0.1) + bonus", "return 2 * torch.exp(-d / 0.1)")
    out = ProgramReward(src, trusted=True)(_batch())
    assert set(out.terms) == {"near", "residual"}
    assert torch.allclose(out.terms["near"] + out.terms["residual"], out.reward)


@pytest.mark.parametrize(
    "spec, part",
    [
        ("sparce", "'sparce'"),
        ("sparse + envv", "'envv'"),
        ("sparse + ", "empty part"),
        ("missing.py", "'missing.py'"),
        ("nokind:x=1", "unknown reward kind 'nokind'"),
        ("", "non-empty"),
    ],
)
def test_bad_specs_name_the_bad_part(spec, part):
    with pytest.raises(RewardSpecError, match=part.replace("(", r"\(")):
        parse_reward_spec(spec)


def test_did_you_mean_for_a_typo():
    with pytest.raises(RewardSpecError, match="Did you mean 'sparse'"):
        parse_reward_spec("sparce")


def test_program_with_wrong_shape_names_the_problem(tmp_path):
    src = "import torch\ndef compute_reward(state, action):\n    return state['joint_pos'].sum(), {}\n"
    with pytest.raises(ValueError, match=r"shape \[3\]"):
        ProgramReward(src, trusted=True)(_batch())


def test_program_without_compute_reward():
    with pytest.raises(ValueError, match="compute_reward"):
        ProgramReward("def reward(state, action):\n    return 0, {}\n", trusted=True)


def test_gym_make_with_a_reward_spec_sums_its_named_terms(reach_program):
    env = gym.make("agentgym/Reach-v0", reward=f"sparse + {reach_program}")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert set(info["reward_terms"]) == {"sparse/success", "reach/distance", "reach/control"}
    assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-6)
    assert info["env_reward"] == pytest.approx(
        info["reward_terms"]["reach/distance"] + info["reward_terms"]["reach/control"], abs=1e-6
    )


def test_gym_make_names_the_bad_part_of_a_reward_spec():
    with pytest.raises(RewardSpecError, match="'bogus'"):
        gym.make("agentgym/Reach-v0", reward="sparse + bogus")


def test_unknown_env_id_suggests():
    with pytest.raises(gym.error.NameNotFound, match="Did you mean: `Reach`"):
        gym.make("agentgym/Reech-v0")


def test_a_bare_reward_kind_is_the_kind_with_its_defaults():
    """README's `--reward spa` (a registered kind, no arguments) is `spa:`, not a typo of
    'sparse'; inside a sum too."""
    from agentgym.reward_designers.progress import SPAReward

    bare, empty = parse_reward_spec("spa"), parse_reward_spec("spa:")
    assert isinstance(bare, SPAReward) and bare.config == empty.config
    mixed = parse_reward_spec("0.5*spa + 1.0*env")
    assert [(w, type(m).__name__) for w, m in mixed.parts] == [
        (0.5, "SPAReward"),
        (1.0, "EnvReward"),
    ]
    # A bare kind that needs arguments says which, under the part the user wrote.
    with pytest.raises(RewardSpecError, match=r"part 'clip': clip reward: model= is required"):
        parse_reward_spec("clip")
