"""Programs served to a training worker by workers of their own (agentgym.sandbox.served):
several candidates trained in one worker never run their code in it (real workers, real
training)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import agentgym  # noqa: F401  (registers the envs)
from agentgym.executors import Job
from agentgym.executors.local import LocalExecutor
from agentgym.reward_designers.library import program_path
from agentgym.rewards import RewardInput
from agentgym.rewards.program import ProgramReward, RewardProgramError
from agentgym.sandbox import Limits, served
from agentgym.sandbox.served import ProgramServers, ServedReward

ENV = "agentgym/Reach-v0"
TARGET = "agentgym.reward_designers.synthesis.training:train_candidates"
HUMAN = program_path("reach").read_text()
DISTANCE = "(state['fingertip_pos'] - state['target_pos']).norm(dim=-1)"
SCALED = f"def compute_reward(state, action):\n    return -100.0 * {DISTANCE}, {{}}\n"
LOAD_FAILS = (
    f"raise ValueError('no')\ndef compute_reward(state, action):\n    return {DISTANCE}, {{}}\n"
)


def reach_batch(n: int = 6, seed: int = 0) -> RewardInput:
    import gymnasium as gym

    envs = gym.make_vec(ENV, num_envs=n)
    _, info = envs.reset(seed=seed)
    actions = np.random.default_rng(seed).uniform(-1, 1, (n, 2)).astype(np.float32)
    _, _, _, _, info = envs.step(actions)
    envs.close()
    state = {
        k: torch.as_tensor(v) for k, v in info["reward_state"].items() if not k.startswith("_")
    }
    return RewardInput(
        state, torch.as_tensor(actions), torch.zeros(n), {}, torch.zeros(n, dtype=torch.bool)
    )


def test_a_served_program_scores_as_it_would_in_process(tmp_path):
    program = tmp_path / "run" / "sample_00" / "reward.py"
    program.parent.mkdir(parents=True)
    program.write_text(HUMAN)
    batch = reach_batch()
    with ProgramServers([program]) as servers:
        (handle,) = servers.handoff
        # The server's folder is its own, outside the run: nothing of the run is in its view.
        assert not Path(handle["run_dir"]).is_relative_to(tmp_path)
        got = ServedReward(handle, str(program), "reward")(batch)
    want = ProgramReward(HUMAN, name="reward", trusted=True)(batch)
    torch.testing.assert_close(got.reward, want.reward.float(), rtol=0, atol=1e-6)
    assert set(got.terms) == set(want.terms)


def test_a_program_the_vetter_rejects_is_never_started_and_one_that_fails_to_load_fails_its_first_batch(
    tmp_path,
):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\ndef compute_reward(state, action):\n    return os.getpid(), {}\n")
    fails = tmp_path / "fails.py"
    fails.write_text(LOAD_FAILS)
    with ProgramServers([bad, fails]) as servers:
        assert len(servers.pids) == 1  # only the vetted one was started
        vetted, loaded = servers.handoff
        assert vetted["code"] == "FORBIDDEN_IMPORT" and "key" not in vetted
        with pytest.raises(RewardProgramError, match="RUNTIME_ERROR.*ValueError"):
            ServedReward(loaded, str(fails), "reward")(reach_batch(2))
    with pytest.raises(RewardProgramError, match="FORBIDDEN_IMPORT"):
        ServedReward(vetted, str(bad), "reward")(reach_batch(2))


def test_a_worker_handed_served_programs_refuses_any_other(tmp_path, monkeypatch):
    monkeypatch.setattr(served, "_installed", None)
    served.install([str(tmp_path / "a.py")], [{"code": "TIMEOUT", "message": "m"}])
    assert served.active()
    with pytest.raises(RewardProgramError, match="was not handed this one"):
        served.reward_for(str(tmp_path / "b.py"), "reward")
    with pytest.raises(ValueError, match="served: 2 handles for 1 programs"):
        served.install(["a.py"], [{}, {}])


CONFIGS = {
    # PPO scores a served program over each whole rollout, SAC step by step.
    "population": {"num_envs": 2, "num_steps": 32, "total_steps": 256, "eval_episodes": 2},
    "sac-population": {
        "num_envs": 2,
        "total_steps": 192,
        "learning_starts": 64,
        "batch_size": 32,
        "hidden_sizes": [16, 16],
        "eval_episodes": 2,
    },
}


def _train(root: Path, programs: list[str], serve: bool, learner: str = "population") -> list[dict]:
    job = Job(
        TARGET,
        root,
        kwargs={
            "env_id": ENV,
            "seeds": [0] * len(programs),
            "learner": learner,
            "config": CONFIGS[learner],
        },
        path_kwargs={"programs": programs, "run_dirs": [f"m{n}" for n in range(len(programs))]},
        inputs=tuple(programs),
        outputs=tuple(f"m{n}" for n in range(len(programs))),
        served=tuple(programs) if serve else (),
        limits=Limits.for_training(threads=1),
        deadline_s=600,
    )
    results = LocalExecutor().run([job], lambda n, r: None)
    assert results[0].ok, results[0].message
    return results[0].value


@pytest.mark.parametrize("learner", ["population", "sac-population"])
def test_candidates_train_the_same_whether_served_or_run_in_the_worker(tmp_path, learner):
    """Bit for bit: the served rewards are the programs' own float32 values (over whole
    rollouts for PPO, step by step for SAC)."""
    finals = {}
    for serve in (False, True):
        root = tmp_path / ("served" if serve else "inside")
        for n, source in enumerate([HUMAN, SCALED]):
            (root / f"p{n}").mkdir(parents=True)
            (root / f"p{n}" / "reward.py").write_text(source)
        finals[serve] = _train(root, ["p0/reward.py", "p1/reward.py"], serve, learner)
    for inside, outside in zip(finals[False], finals[True], strict=True):
        assert inside["status"] == outside["status"] == "DONE"
        keys = [k for k in inside if k.startswith("eval/") or k.startswith("train/")]
        assert keys and {k: inside[k] for k in keys} == {k: outside[k] for k in keys}


def test_a_sibling_that_fails_to_load_fails_alone(tmp_path):
    for n, source in enumerate([HUMAN, LOAD_FAILS]):
        (tmp_path / f"p{n}").mkdir(parents=True)
        (tmp_path / f"p{n}" / "reward.py").write_text(source)
    good, bad = _train(tmp_path, ["p0/reward.py", "p1/reward.py"], serve=True)
    assert good["status"] == "DONE"
    assert bad["status"] != "DONE" and "RUNTIME_ERROR" in bad["error"]


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            kids = [int(c) for c in task.read_text().split()]
            out += kids
            todo += kids
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="reads other uids' /proc/PID/root: needs root")
def test_the_run_folder_is_not_in_a_serving_workers_view(tmp_path):
    """The evidence, from outside: the mount namespace of the server's Python process has
    no path to the run folder, so nothing it runs can write there."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (make installs it)")
    program = tmp_path / "run" / "p0" / "reward.py"
    program.parent.mkdir(parents=True)
    program.write_text(HUMAN)
    with ProgramServers([program]) as servers:
        (server,) = servers.pids
        ServedReward(servers.handoff[0], str(program), "reward")(reach_batch(2))  # it is up
        pythons = [
            p
            for p in _descendants(server)
            if b"agentgym.sandbox._child" in Path(f"/proc/{p}/cmdline").read_bytes()
        ]
        assert pythons
        for pid in pythons:
            root = Path(f"/proc/{pid}/root")
            assert (root / "usr").exists()  # the probe sees its view
            assert not (root / program.parent.relative_to("/")).exists()


class RecordingExecutor:
    """Batches members like the local executor; records the jobs, trains nothing."""

    name = "recording"
    batches_members = True

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def member_groups(self, members):
        return [members]  # one worker: every member in one job

    def run(self, jobs, on_result, on_progress=None):
        from agentgym.sandbox import WorkerResult

        self.jobs += jobs
        for n in range(len(jobs)):
            on_result(n, WorkerResult(ok=False, message="not trained here"))
        return []


@pytest.mark.parametrize("serve", [True, False])
def test_synthesis_serves_siblings_programs_unless_told_to_share(tmp_path, serve):
    from agentgym.reward_designers.synthesis import SynthesisConfig
    from agentgym.reward_designers.synthesis.stages import CandidateStages

    config = SynthesisConfig(
        env_id=ENV, designer="library", steps=64, learner="ppo", serve_programs=serve
    )
    executor = RecordingExecutor()
    stages = CandidateStages(
        tmp_path, config, task=None, critic=None, emit=lambda *a, **k: None, executor=executor
    )
    programs = []
    for n in range(2):
        programs.append(tmp_path / f"p{n}.py")
        programs[-1].write_text(SCALED)
    stages.train_programs(tmp_path / "iter_00", programs, [tmp_path / f"d{n}" for n in range(2)], 0)
    (job,) = executor.jobs
    assert job.served == (job.inputs if serve else ())
    assert len(job.inputs) == 2
