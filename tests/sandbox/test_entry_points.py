"""The adversarial corpus through every way a program becomes a reward, not only vetting.

``gym.make(reward=FILE)`` + a step, ``agentgym train --reward FILE``, ``agentgym reward
eval --reward FILE`` and synthesis (a scripted LLM on loopback) all go through the one
loader (``agentgym.sandbox.loader``). Each program gets its exact outcome: rejected by
the vetter with its code before anything runs, or confined in a worker that reports a
code. Around all of it: the canary file outside the run folders is unchanged, the
loopback canary server got nothing, the secret in the parent's environment and home is
in no message.

The whole static corpus runs through ``gym.make`` in the default suite (vetting only,
no worker); a representative program per channel through the CLI, eval and synthesis;
the whole corpus through each of them is ``slow``.
"""

from __future__ import annotations

import json
import math

import gymnasium as gym
import pytest

import agentgym  # noqa: F401  (registers the envs)
from agentgym.cli import main as cli
from agentgym.rewards import RewardSpecError
from agentgym.sandbox import Code
from agentgym.sandbox.program_worker import TIMEOUT_VAR, SandboxedRewardError
from tests.sandbox.corpus import ADVERSARIAL

ENV = "agentgym/Reach-v0"
BY_NAME = {name: (source, code, stage) for name, source, code, stage in ADVERSARIAL}
STATIC = [name for name, _, _, stage in ADVERSARIAL if stage == "static"]
DRY_RUN = [name for name, _, _, stage in ADVERSARIAL if stage == "dry_run"]

# One program per channel the vetter closes: processes, network, secrets in the
# environment and in files, introspection, numpy's code runner, format-string walks, the
# privileged success flag.
REPRESENTATIVE = [
    "os_system",
    "socket_canary",
    "env_secret",
    "file_secret",
    "subclasses_escape",
    "np_testing_runner",
    "format_string_escape",
    "success_flag_literal",
]

# What a program that passes the vetter gets from the serving worker on its first batch:
# a code, or "value" when it returns a (non-finite, or printed-around) reward, which the
# learners' NaN guard and the env's checker then see. NONFINITE is the dry run's verdict,
# a training-time guard's (agentgym.sandbox.guard), not the worker's.
SERVED = {
    "infinite_loop": Code.TIMEOUT,
    "import_time_loop": Code.TIMEOUT,
    "huge_allocation": Code.MEMORY,
    "huge_python_allocation": Code.MEMORY,
    "recursion_bomb": Code.RUNTIME_ERROR,
    "stdout_flood": Code.OUTPUT_LIMIT,
    "nan_reward": "value",
    "inf_reward": "value",
    "nan_component": "value",
    "wrong_shape": Code.BAD_SHAPE,
    "batch_reduced": Code.BAD_SHAPE,
    "wrong_dtype": Code.BAD_DTYPE,
    "not_a_tuple": Code.BAD_RETURN,
    "raising": Code.RUNTIME_ERROR,
    "success_flag_computed": Code.UNKNOWN_STATE,
    "ansi_in_exception": Code.RUNTIME_ERROR,
    "forged_result_line": Code.RUNTIME_ERROR,
    "forged_progress_line": "value",
}
# Synthesis extracts the code from the reply first: a reply whose code defines no
# compute_reward is "NO_CODE" (the extractor's verdict) before any vetting.
SYNTHESIS = {"no_entry": "NO_CODE"}
QUICK_SERVED = ["raising", "ansi_in_exception", "wrong_shape", "success_flag_computed"]


def _slow_unless(names: list[str], quick: list[str]) -> list:
    return [pytest.param(n, marks=() if n in quick else pytest.mark.slow, id=n) for n in names]


@pytest.fixture(scope="module")
def write(tmp_path_factory, canary_server, canary_file, secret_file):
    folder = tmp_path_factory.mktemp("programs")

    def program(name: str) -> str:
        source = (
            BY_NAME[name][0]
            .replace("{port}", str(canary_server.port))
            .replace("{canary}", str(canary_file))
            .replace("{secret_file}", str(secret_file))
        )
        path = folder / f"{name}.py"
        path.write_text(source)
        return str(path)

    return program


@pytest.fixture(scope="module", autouse=True)
def nothing_escaped(canary_server, canary_file, secret):
    """Checked after the module: the canaries saw nothing."""
    before = canary_file.read_bytes()
    yield
    assert canary_file.read_bytes() == before
    assert canary_server.received == 0 and canary_server.connections == 0


def _clean(text: str, secret: str) -> None:
    assert secret not in text
    assert not any(c in text for c in "\x1b\x07\x9b"), text[:300]


def test_the_representative_set_and_the_table_cover_the_corpus():
    assert len(ADVERSARIAL) >= 80
    assert set(REPRESENTATIVE) <= set(STATIC)
    assert set(SERVED) == set(DRY_RUN)


# -- gym.make ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", STATIC)
def test_gym_make_rejects_every_static_corpus_program_with_its_code(write, secret, name):
    code = BY_NAME[name][1]
    with pytest.raises(RewardSpecError, match=rf"rejected by the vetter \({code}\)") as err:
        gym.make(ENV, reward=write(name))
    assert err.value.__cause__.code == Code(code)
    _clean(str(err.value), secret)


@pytest.mark.parametrize("name", _slow_unless(DRY_RUN, QUICK_SERVED))
def test_gym_make_confines_what_passes_the_vetter_in_the_serving_worker(
    write, secret, monkeypatch, name
):
    monkeypatch.setenv(TIMEOUT_VAR, "3")
    env = gym.make(ENV, reward=write(name))
    try:
        env.reset(seed=0)
        expected = SERVED[name]
        if expected == "value":
            _, reward, *_ = env.step(env.action_space.sample())
            assert isinstance(reward, float)
            if name in ("nan_reward", "inf_reward"):
                assert not math.isfinite(reward)
        else:
            with pytest.raises(SandboxedRewardError) as err:
                env.step(env.action_space.sample())
            assert err.value.code == expected, str(err.value)
            _clean(str(err.value), secret)
            if name == "ansi_in_exception":
                assert "boom" in str(err.value) and "owned" not in str(err.value)
        assert env.unwrapped.reward_model.isolation == "bwrap"
    finally:
        env.close()
        env.unwrapped.reward_model.close()


# -- agentgym train ----------------------------------------------------------------------
@pytest.mark.parametrize("name", _slow_unless(STATIC, REPRESENTATIVE))
def test_cli_train_refuses_a_rejected_program_before_making_a_run(
    write, secret, tmp_path, capsys, name
):
    out = tmp_path / "run"
    rc = cli(["train", "--env", ENV, "--reward", write(name), "--steps", "64", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"rejected by the vetter ({BY_NAME[name][1]})" in " ".join(err.split())
    assert not out.exists()
    _clean(err, secret)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["raising", "ansi_in_exception"])
def test_cli_train_stops_a_failing_program_with_its_code(write, secret, tmp_path, capsys, name):
    out = tmp_path / "run"
    rc = cli(["train", "--env", ENV, "--reward", write(name), "--steps", "64", "--out", str(out)])
    text = capsys.readouterr()
    assert rc != 0
    assert "RUNTIME_ERROR" in " ".join(text.err.split())
    manifest = json.loads((out / "manifest.json").read_text())
    assert "RUNTIME_ERROR" in manifest["status"]
    _clean(text.err + text.out + json.dumps(manifest), secret)


# -- agentgym reward eval ----------------------------------------------------------------
@pytest.mark.parametrize("name", _slow_unless(STATIC, REPRESENTATIVE[:3]))
def test_reward_eval_refuses_a_rejected_program(write, secret, tmp_path, capsys, name):
    out = tmp_path / "eval"
    argv = ["reward", "eval", "--env", ENV, "--reward", write(name), "--seeds", "1"]
    rc = cli([*argv, "--steps", "64", "--no-references", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"rejected by the vetter ({BY_NAME[name][1]})" in " ".join(err.split())
    assert not out.exists()
    _clean(err, secret)


@pytest.mark.slow
def test_reward_eval_confines_a_failing_program_to_its_worker(write, secret, tmp_path, capsys):
    out = tmp_path / "eval"
    argv = ["reward", "eval", "--env", ENV, "--reward", write("raising"), "--seeds", "1"]
    rc = cli([*argv, "--steps", "64", "--no-references", "--out", str(out)])
    assert rc == 0
    result = json.loads((out / "eval.json").read_text())["rewards"]["reward"]
    assert result["status"] == ["ERROR"] and result["success"] == [0.0]
    _clean(capsys.readouterr().out, secret)


# -- synthesis ---------------------------------------------------------------------------
def _synthesise(names: list[str], canary_server, canary_file, secret_file, tmp_path):
    from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
    from agentgym.reward_designers.synthesis.candidates import load_candidates
    from agentgym.testing.openai_server import ScriptedOpenAIServer

    replies = [
        "```python\n"
        + BY_NAME[n][0]
        .replace("{port}", str(canary_server.port))
        .replace("{canary}", str(canary_file))
        .replace("{secret_file}", str(secret_file))
        + "\n```"
        for n in names
    ]
    with ScriptedOpenAIServer(replies) as server:
        config = SynthesisConfig(
            env_id=ENV,
            designer="eureka",
            llm=f"openai:scripted-model@{server.base_url}",
            iterations=1,
            samples=len(names),
            steps=1024,
            learner="ppo",
            training={"num_envs": 4, "num_steps": 64},
            eval_episodes=1,
            trace_episodes=1,
            vet_timeout_s=60,
            trajectory_filter=False,
            final_seeds=0,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
    return {c.index: c for c in load_candidates(run.path)}


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(REPRESENTATIVE + ["raising", "wrong_shape"], id="representative"),
        pytest.param(STATIC + DRY_RUN, id="whole-corpus", marks=pytest.mark.slow),
    ],
)
def test_synthesis_rejects_corpus_candidates_with_their_codes(
    canary_server, canary_file, secret_file, secret, tmp_path, isolated_llm_cache, names
):
    candidates = _synthesise(names, canary_server, canary_file, secret_file, tmp_path)
    assert sorted(candidates) == list(range(len(names)))
    got = {name: candidates[i].code for i, name in enumerate(names)}
    assert got == {name: SYNTHESIS.get(name, BY_NAME[name][1]) for name in names}
    for candidate in candidates.values():
        _clean(candidate.message, secret)
