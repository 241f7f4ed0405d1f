"""The one loader: who runs a reward program where, and what it refuses.

Real workers (bubblewrap on this machine), real programs, real batches: a program file
that nobody trusted is vetted and answered by a long-lived worker with the same values
the in-process program gives; the library is trusted by location, not by name; weaker
isolation is refused unless accepted, with what it does not stop.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch

from agentgym.rewards import ProgramReward, RewardSpecError, make_input, parse_reward_spec
from agentgym.sandbox import Code, channel
from agentgym.sandbox import isolation as iso
from agentgym.sandbox.loader import (
    RejectedProgram,
    is_library_program,
    library_dir,
    load_reward_program,
)
from agentgym.sandbox.policy import ALLOW_WEAK_VAR, WeakSandboxError
from agentgym.sandbox.program_worker import SandboxedReward, SandboxedRewardError

SHAPED = """import torch


def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    effort = action.abs().sum(-1)
    return torch.exp(-d / 0.1) - 0.01 * effort, {"near": torch.exp(-d / 0.1), "effort": -0.01 * effort}
"""


def _batch(n: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    state = {
        k: rng.normal(size=(n, 2)).astype(np.float32)
        for k in ("fingertip_pos", "target_pos", "joint_pos", "joint_vel")
    }
    return make_input(state, rng.normal(size=(n, 2)), np.zeros(n), {}, np.zeros(n, bool), None)


@pytest.fixture
def program_file(tmp_path):
    path = tmp_path / "shaped.py"
    path.write_text(SHAPED)
    return path


def _reach_task():
    from agentgym.envs.robotics.reach import ReachEnv

    return ReachEnv.task_spec


def test_an_untrusted_file_is_answered_by_one_worker_with_the_in_process_values(program_file):
    model = load_reward_program(program_file, _reach_task())
    assert isinstance(model, SandboxedReward)
    try:
        want = ProgramReward(SHAPED, trusted=True)
        for seed in range(3):  # several batches, one worker
            out, ref = model(_batch(seed=seed)), want(_batch(seed=seed))
            assert torch.allclose(out.reward, ref.reward, atol=1e-6)
            assert set(out.terms) == set(ref.terms) == {"near", "effort"}
        pid = model._worker.proc.pid
        model(_batch(n=64))
        assert model._worker.proc.pid == pid  # the same worker, no restart per batch
        assert model.isolation == "bwrap"
    finally:
        model.close()
    assert model._worker is None


def test_a_rejected_program_names_its_code_and_starts_no_worker(tmp_path):
    path = tmp_path / "evil.py"
    path.write_text(
        "import os\n\n\ndef compute_reward(state, action):\n    return os.getpid(), {}\n"
    )
    with pytest.raises(RejectedProgram) as err:
        load_reward_program(path)
    assert err.value.code == Code.FORBIDDEN_IMPORT
    with pytest.raises(RewardSpecError, match=r"rejected by the vetter \(FORBIDDEN_IMPORT\)"):
        parse_reward_spec(str(path))


def test_a_privileged_key_is_rejected_against_the_envs_task_spec(tmp_path):
    path = tmp_path / "cheat.py"
    path.write_text(SHAPED.replace('state["target_pos"]', 'state["success"]'))
    with pytest.raises(RejectedProgram) as err:
        load_reward_program(path, _reach_task())
    assert err.value.code == Code.UNKNOWN_STATE


def test_a_failing_batch_ends_the_model_with_a_clean_coded_message(tmp_path):
    path = tmp_path / "raises.py"
    path.write_text(
        "import torch\n\n\ndef compute_reward(state, action):\n"
        "    raise ValueError('\\x1b[31mboom\\x1b]0;owned\\x07')\n"
    )
    model = load_reward_program(path)
    with pytest.raises(SandboxedRewardError) as err:
        model(_batch())
    assert err.value.code == Code.RUNTIME_ERROR
    assert (
        "boom" in str(err.value) and "\x1b" not in str(err.value) and "\x07" not in str(err.value)
    )
    with pytest.raises(SandboxedRewardError):  # stays failed; no silent restart
        model(_batch())


def test_a_hanging_batch_is_a_timeout_and_the_worker_is_gone(tmp_path):
    path = tmp_path / "hangs.py"
    path.write_text(
        "import torch\n\n\ndef compute_reward(state, action):\n    while True:\n        pass\n"
    )
    model = load_reward_program(path)
    model.call_timeout_s = 2.0
    with pytest.raises(SandboxedRewardError) as err:
        model(_batch())
    assert err.value.code == Code.TIMEOUT
    assert model._worker is None


def test_a_wrong_shape_is_bad_shape(tmp_path):
    path = tmp_path / "shape.py"
    path.write_text(
        "import torch\n\n\ndef compute_reward(state, action):\n    return state['joint_pos'], {}\n"
    )
    model = load_reward_program(path)
    with pytest.raises(SandboxedRewardError) as err:
        model(_batch())
    assert err.value.code == Code.BAD_SHAPE


def test_library_programs_are_trusted_by_location_not_by_name(tmp_path):
    reach = library_dir() / "reach.py"
    assert is_library_program(reach)
    assert isinstance(parse_reward_spec("library:reach"), ProgramReward)
    assert isinstance(parse_reward_spec(str(reach)), ProgramReward)
    copy = tmp_path / "reach.py"  # the same name and text elsewhere: not trusted
    shutil.copyfile(reach, copy)
    assert not is_library_program(copy)
    model = parse_reward_spec(str(copy))
    assert isinstance(model, SandboxedReward)
    link = tmp_path / "linked.py"  # a link into the library is the library's file
    link.symlink_to(reach)
    assert is_library_program(link)


def test_library_names_get_a_did_you_mean():
    with pytest.raises(RewardSpecError, match="Did you mean 'reach'"):
        parse_reward_spec("library:raech")


def test_trust_names_the_file_and_runs_it_in_process(program_file):
    model = parse_reward_spec(f"trust:{program_file}")
    assert isinstance(model, ProgramReward) and model.trusted
    with pytest.raises(RewardSpecError, match="trust:PATH"):
        parse_reward_spec("trust:")


def test_a_sandboxed_reward_answer_without_the_key_is_refused():
    key, other = channel.new_key(), channel.new_key()
    read, write = os.pipe()
    try:
        channel.write_all(write, channel.frame({"seq": 1, "ok": True}, b"\0" * 8, key=other))
        with pytest.raises(channel.ForgedRecord):
            channel.read_frame(read, key, timeout_s=2)
        channel.write_all(write, channel.frame({"seq": 1, "ok": True}, b"x", key=key))
        assert channel.read_frame(read, key, timeout_s=2) == ({"seq": 1, "ok": True}, b"x")
    finally:
        os.close(read)
        os.close(write)


@pytest.fixture
def forced_isolation(monkeypatch):
    def force(mode: str) -> None:
        monkeypatch.setenv("AGENTGYM_SANDBOX_ISOLATION", mode)
        iso.available.cache_clear()

    yield force
    iso.available.cache_clear()


@pytest.mark.parametrize(
    ("mode", "gap"),
    [("netns", "shares this machine's file system"), ("rlimits", "reach the network")],
)
def test_weak_isolation_is_refused_with_what_it_does_not_stop(
    program_file, forced_isolation, monkeypatch, mode, gap
):
    monkeypatch.delenv(ALLOW_WEAK_VAR, raising=False)
    forced_isolation(mode)
    with pytest.raises(WeakSandboxError, match=gap) as err:
        load_reward_program(program_file)
    assert "--allow-weak-sandbox" in str(err.value)
    # The library and the user's own trusted files need no sandbox.
    assert isinstance(parse_reward_spec("library:reach"), ProgramReward)
    assert isinstance(parse_reward_spec(f"trust:{program_file}"), ProgramReward)


def test_weak_isolation_runs_when_the_user_accepts_it(program_file, forced_isolation, monkeypatch):
    monkeypatch.setenv(ALLOW_WEAK_VAR, "1")
    forced_isolation("netns")
    model = load_reward_program(program_file)
    try:
        out = model(_batch())
        assert model.isolation in (
            "netns",
            "netns-root",
        )  # -root where uid 65534 cannot reach Python
        assert torch.allclose(out.reward, ProgramReward(SHAPED, trusted=True)(_batch()).reward)
    finally:
        model.close()


def test_gym_make_trust_reward_names_the_file_and_survives_pickling(program_file):
    import pickle

    import gymnasium as gym

    env = gym.make("agentgym/Reach-v0", reward=str(program_file), trust_reward=True)
    assert isinstance(env.unwrapped.reward_model, ProgramReward)
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert isinstance(clone.reward_model, ProgramReward)
    untrusted = gym.make("agentgym/Reach-v0", reward=str(program_file))
    assert isinstance(untrusted.unwrapped.reward_model, SandboxedReward)  # no worker yet
    with pytest.raises(ValueError, match="trust_reward=True: reward must be the path"):
        gym.make("agentgym/Reach-v0", reward="sparse", trust_reward=True)
