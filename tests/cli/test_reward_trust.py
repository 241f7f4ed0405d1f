"""``agentgym train``'s ways to name a reward program: a file (vetted, served by a sandbox
worker), ``--trust-reward PATH`` (in process, only for code you wrote), ``library:NAME``,
and the refusal of weak isolation unless ``--allow-weak-sandbox`` (train, and
``reward synthesize`` before it makes a run folder)."""

from __future__ import annotations

import json

import yaml

TINY = ["--steps", "256", "--num-envs", "4", "--num-steps", "64", "--eval-episodes", "1"]
TINY += ["--learner", "ppo", "--no-preset", "--no-video"]

# Reads the joint velocity, which the library's reach program does not: a program of its own.
PROGRAM = """import torch


def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    still = -0.01 * state["joint_vel"].abs().sum(-1)
    return -d + still, {"distance": -d, "still": still}
"""


def _terms(run) -> set[str]:
    rows = [json.loads(line) for line in (run / "logs" / "metrics.jsonl").read_text().splitlines()]
    return {k for row in rows for k in row if k.startswith("reward_terms/")}


def test_trust_reward_runs_the_named_file_and_records_it_as_trusted(agentgym_cli, tmp_path):
    program = tmp_path / "mine.py"
    program.write_text(PROGRAM)
    run = tmp_path / "run"
    done = agentgym_cli(
        "train", "--env", "agentgym/Reach-v0", "--trust-reward", str(program), *TINY,
        "--out", str(run),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["config"]["reward"] == f"trust:{program.resolve()}"
    assert _terms(run) == {"reward_terms/distance", "reward_terms/still"}


def test_library_name_trains_with_the_shipped_program(agentgym_cli, tmp_path):
    run = tmp_path / "run"
    done = agentgym_cli(
        "train", "--env", "agentgym/Reach-v0", "--reward", "library:reach", *TINY,
        "--out", str(run),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _terms(run) == {"reward_terms/distance", "reward_terms/control"}


def test_an_untrusted_file_is_refused_under_weak_isolation_unless_accepted(agentgym_cli, tmp_path):
    program = tmp_path / "theirs.py"
    program.write_text(PROGRAM)
    args = ["train", "--env", "agentgym/Reach-v0", "--reward", str(program), *TINY]
    weak = {"AGENTGYM_SANDBOX_ISOLATION": "rlimits", "AGENTGYM_ALLOW_WEAK_SANDBOX": None}
    refused = agentgym_cli(*args, "--out", str(tmp_path / "refused"), env=weak)
    text = " ".join(refused.stderr.split())
    assert refused.returncode == 2
    assert "refusing to run the reward program" in text and "reach the network" in text
    assert "--allow-weak-sandbox" in text
    assert not (tmp_path / "refused").exists()
    accepted = agentgym_cli(
        *args, "--allow-weak-sandbox", "--out", str(tmp_path / "accepted"), env=weak
    )
    assert accepted.returncode == 0, accepted.stderr
    assert _terms(tmp_path / "accepted") == {"reward_terms/distance", "reward_terms/still"}


def test_synthesis_refuses_llm_code_under_weak_isolation_before_making_a_run(
    agentgym_cli, tmp_path
):
    out = tmp_path / "synth"
    weak = {"AGENTGYM_SANDBOX_ISOLATION": "netns", "AGENTGYM_ALLOW_WEAK_SANDBOX": None}
    refused = agentgym_cli(
        "reward", "synthesize", "--env", "agentgym/Reach-v0",
        "--llm", "openai:nobody@http://127.0.0.1:9/v1", "--out", str(out), env=weak,
    )  # fmt: skip
    text = " ".join(refused.stderr.split())
    assert refused.returncode == 2, refused.stderr
    assert "refusing to run LLM-written reward programs" in text
    assert "shares this machine's file system" in text and "--allow-weak-sandbox" in text
    assert not out.exists()


def test_a_resumed_run_must_be_trusted_again_not_by_its_config(agentgym_cli, tmp_path):
    """A run folder travels: its config.yaml naming trust:PATH must not make PATH run
    unvetted for whoever resumes it."""
    program = tmp_path / "mine.py"
    program.write_text(PROGRAM)
    run = tmp_path / "run"
    first = agentgym_cli(
        "train", "--env", "agentgym/Reach-v0", "--trust-reward", str(program), *TINY,
        "--out", str(run),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = (run / "manifest.json").read_bytes()
    refused = agentgym_cli("train", "--resume", str(run), "--steps", "512")
    assert refused.returncode == 2
    assert f"--trust-reward {program.resolve()}" in " ".join(refused.stderr.split())
    assert (run / "manifest.json").read_bytes() == before  # nothing written
    extended = agentgym_cli(
        "train", "--resume", str(run), "--steps", "512", "--trust-reward", str(program)
    )
    assert extended.returncode == 0, extended.stderr
    assert yaml.safe_load((run / "config.yaml").read_text())["config"]["total_steps"] == 512
