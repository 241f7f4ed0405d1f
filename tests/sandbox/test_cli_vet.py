"""``agentgym reward vet``: exit codes and output, through the real CLI entry point."""

from __future__ import annotations

import json

from agentgym.cli import main

ENV = "agentgym/Reach-v0"
GOOD = """import torch

def compute_reward(state, action):
    d = torch.linalg.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return -d, {"distance": -d}
"""
NAN = GOOD.replace("return -d,", "return -d * float('nan'),")


def test_vet_passes_with_exit_0_and_a_summary(tmp_path, capsys):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    assert main(["reward", "vet", str(path), "--env", ENV]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "distance" in out


def test_vet_json_reports_a_dry_run_rejection_with_exit_1(tmp_path, capsys):
    path = tmp_path / "nan.py"
    path.write_text(NAN)
    assert main(["reward", "vet", str(path), "--env", ENV, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["code"] == "NONFINITE" and data["stage"] == "dry_run"
    assert "NaN or inf" in data["message"]


def test_vet_static_rejection_exit_1(tmp_path, capsys):
    path = tmp_path / "bad.py"
    path.write_text("import subprocess\ndef compute_reward(state, action):\n    return 0, {}\n")
    assert main(["reward", "vet", str(path), "--env", ENV]) == 1
    out = capsys.readouterr().out
    assert "FORBIDDEN_IMPORT" in out and "subprocess" in out


def test_vet_of_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["reward", "vet", str(tmp_path / "nope.py"), "--env", ENV]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_vet_on_an_unknown_env_exits_2_and_suggests_the_closest(tmp_path, capsys):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    assert main(["reward", "vet", str(path), "--env", "agentgym/Rech-v0"]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_vet_of_a_directory_says_it_is_one(tmp_path, capsys):
    assert main(["reward", "vet", str(tmp_path), "--env", ENV]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and ".py file" in err and "does not exist" not in err
