"""Done means: a user's MuJoCo env agentgym has never seen (``point_mass``, MJCF written at
build time, a plain ``MujocoEnv`` whose reward is always 0) goes through ``agentgym check``,
``reward vet``, ``train`` and a scripted-LLM ``reward synthesize`` given only an
instruction and a success expression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.describe.point_mass import BASE

INSTRUCTION = "Slide the block along the rail to the target."
SUCCESS = 'torch.abs(state["block_pos"][:, 0] - state["target_pos"][:, 0]) < 0.05'
DESCRIBE = ["--instruction", INSTRUCTION, "--success", SUCCESS]

PROGRAM = """import torch


def compute_reward(state, action):
    gap = torch.abs(state["block_pos"][:, 0] - state["target_pos"][:, 0])
    return -gap, {"gap": -gap}
"""
LLM_REPLY = f"Reward the block for closing the gap.\n```python\n{PROGRAM}```"


def test_check_passes_given_an_instruction_and_a_success_expression(agentgym_cli):
    done = agentgym_cli("check", BASE, *DESCRIBE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASS") == 5


def test_a_task_file_with_a_typo_is_refused_naming_the_field(agentgym_cli, tmp_path):
    task = tmp_path / "task.yaml"
    task.write_text(f"base: {BASE}\ninstruction: x\nsucess: y\n")
    done = agentgym_cli("check", "--task", str(task))
    assert done.returncode == 2
    assert "unknown field 'sucess'. Did you mean 'success'?" in done.stderr


def test_reward_vet_and_train_from_a_task_file(agentgym_cli, tmp_path):
    task = tmp_path / "task.yaml"
    task.write_text(
        f"base: {BASE}\ninstruction: {INSTRUCTION}\nsuccess: '{SUCCESS}'\n"
        "state: [body:block, site:target, joint:slide_x]\n"
    )
    program = tmp_path / "gap.py"
    program.write_text(PROGRAM)
    vet = agentgym_cli("reward", "vet", str(program), "--task", str(task), "--json")
    assert vet.returncode == 0, vet.stdout + vet.stderr
    assert json.loads(vet.stdout)["ok"] is True
    out = tmp_path / "run"
    train = agentgym_cli(
        "train",
        "--task",
        str(task),
        "--reward",
        str(program),
        "--steps",
        "1024",
        "--num-envs",
        "4",
        "--hidden-sizes",
        "16",
        "--out",
        str(out),
    )
    assert train.returncode == 0, train.stdout + train.stderr
    rows = [json.loads(line) for line in (out / "logs" / "metrics.jsonl").read_text().splitlines()]
    # trained on the program's terms over the described state; evaluated on the success rule
    assert any("reward_terms/gap" in row for row in rows)
    assert any("eval/success_rate" in row for row in rows)
    # a fresh process knows the described id only from the run folder: resume extends it
    more = agentgym_cli("train", "--resume", str(out), "--steps", "2048")
    assert more.returncode == 0, more.stdout + more.stderr
    rows = [json.loads(line) for line in (out / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert max(row.get("step", 0) for row in rows) == 2048


@pytest.mark.slow
def test_reward_synthesize_with_a_scripted_llm(agentgym_cli, tmp_path):
    out = tmp_path / "search"
    with ScriptedOpenAIServer([LLM_REPLY]) as server:
        done = agentgym_cli(
            "reward",
            "synthesize",
            "--env",
            BASE,
            *DESCRIBE,
            "--designer",
            "eureka",
            "--llm",
            f"openai:scripted-model@{server.base_url}",
            "--iterations",
            "1",
            "--samples",
            "1",
            "--steps",
            "1024",
            "--final-steps",
            "1024",
            "--final-seeds",
            "1",
            "--eval-episodes",
            "2",
            "--num-envs",
            "4",
            "--hidden-sizes",
            "16",
            "--no-references",
            "--out",
            str(out),
        )
        prompt = json.dumps(server.requests[0])
    assert done.returncode == 0, done.stdout + done.stderr
    # the prompt describes the user's env from its model: names, units, the instruction
    assert INSTRUCTION in prompt and "slide joint 'slide_x'" in prompt
    assert "block_pos" in prompt and "target_pos" in prompt
    assert PROGRAM.strip() in Path(out / "best_reward.py").read_text()
    result = json.loads((out / "iter_00" / "sample_00" / "result.json").read_text())
    assert result["status"] == "trained", result
