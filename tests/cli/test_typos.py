"""Typos in `agentgym check` and `agentgym envs` are refused with a suggestion and a
non-zero exit, never answered by running nothing or printing an empty table."""

from __future__ import annotations

import pytest

from agentgym.catalog import namespaced_matches
from agentgym.cli import main


def test_check_only_with_an_unknown_check_suggests_and_runs_nothing(capsys) -> None:
    assert main(["check", "agentgym/Reach-v0", "--only", "pikle"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "unknown check 'pikle'. Did you mean 'pickle'?" in out
    assert "PASS" not in out and "FAIL" not in out


def test_check_only_with_known_checks_still_runs_them(capsys) -> None:
    assert main(["check", "agentgym/Reach-v0", "--only", "pickle"]) == 0
    out = capsys.readouterr().out
    assert "PASS pickle" in out and "determinism" not in out


def test_envs_with_an_unknown_family_suggests_and_fails(capsys) -> None:
    assert main(["envs", "--no-spaces", "--family", "robotic"]) == 2
    captured = capsys.readouterr()
    assert "unknown family 'robotic'. Did you mean 'robotics'?" in captured.err
    assert captured.out == ""  # no empty table


def test_a_namespace_less_id_of_ours_is_suggested_before_gymnasiums(capsys) -> None:
    """Gymnasium alone answers `Reach-v0` with `Reacher`, a different task."""
    assert main(["check", "Reach-v0"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "Did you mean `agentgym/Reach-v0`?" in out
    assert out.index("agentgym/Reach-v0") < out.index("Reacher")


@pytest.mark.parametrize(
    ("env_id", "matches"),
    [
        ("Reach-v0", ["agentgym/Reach-v0"]),
        ("reach-v7", ["agentgym/Reach-v0"]),  # any case, any version
        ("agentgym/Reech-v0", []),  # a namespace: Gymnasium's own suggestion stands
        ("Reacher-v5", []),  # none of ours
    ],
)
def test_namespaced_matches(env_id: str, matches: list[str]) -> None:
    assert namespaced_matches(env_id) == matches
