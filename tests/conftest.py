"""Shared test set-up: headless rendering, the agentgym registry, and the fixtures more
than one test folder uses (the ``agentgym`` command, the Reach library program, an
isolated LLM cache, what a training run promises to write)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import agentgym  # noqa: E402,F401  (registers the envs)

AgentgymCLI = Callable[..., subprocess.CompletedProcess]


def run_agentgym(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """``python -m agentgym ARGS`` in a fresh process, its output captured as text.

    ``env`` changes this process's environment for the command: a value of None unsets
    the variable.
    """
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run(
        [sys.executable, "-m", "agentgym", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=environ,
    )


@pytest.fixture(scope="session")
def agentgym_cli() -> AgentgymCLI:
    """Runs the ``agentgym`` command as a user does: ``agentgym_cli("train", "--help")``
    returns the finished process (``returncode``, ``stdout``, ``stderr``)."""
    return run_agentgym


@pytest.fixture(scope="session")
def reach_program() -> str:
    """The human reward program of agentgym/Reach-v0 (the library's reach.py), as a path
    string, the form a reward spec takes."""
    from agentgym.reward_designers.library import program_path

    return str(program_path("Reach"))


def _isolate_llm(monkeypatch: pytest.MonkeyPatch, cache: Path) -> Path:
    monkeypatch.setenv("AGENTGYM_CACHE", str(cache))
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")
    return cache


@pytest.fixture
def isolated_llm_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """agentgym's cache (recorded states, reference scores) lives under this test's
    tmp_path, and a placeholder API key is set: nothing reaches ~/.cache or a real
    account (child processes inherit both)."""
    return _isolate_llm(monkeypatch, tmp_path / "cache")


@pytest.fixture(scope="module")
def module_llm_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """isolated_llm_cache for a module-scoped fixture: a search that runs once for
    several tests."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _isolate_llm(monkeypatch, tmp_path_factory.mktemp("llm") / "cache")


@pytest.fixture(scope="session")
def training_row_keys() -> frozenset[str]:
    """The keys of a training row of metrics.jsonl on Reach, as docs/runs.md promises
    them for every learner (so one report reads any run)."""
    return frozenset(
        {
            "step",
            "time",
            "steps_per_s",
            "episode_return",
            "episode_length",
            "success_rate",
            "reward_terms/distance",
            "reward_terms/control",
            "env_reward",
            "loss/policy",
            "loss/value",
            "loss/entropy",
            "approx_kl",
            "clipfrac",
            "learning_rate",
        }
    )


@pytest.fixture(scope="session")
def report_sections() -> list[str]:
    """The section titles of report.html for a finished training run with evaluations
    and a video, in order."""
    return [
        "Summary",
        "Learning curve",
        "Success rate",
        "Reward terms",
        "Losses and KL",
        "Evaluation video",
        "Reward program",
        "Config and manifest",
    ]
