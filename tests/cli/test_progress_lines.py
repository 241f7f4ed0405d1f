"""With output redirected (nohup, Slurm), ``train`` and ``reward eval`` print plain
progress lines while they run, not only a summary at the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from agentgym.commands._progress import EVERY_VAR, ProgressLines, progress_every

TRAIN_LINE = re.compile(
    r"^train: step ([\d,]+)/8,192 \(\d+%\), [\d,]+ steps/s, return \S+, success \S+$"
)


def test_train_prints_plain_progress_lines_while_it_runs(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentgym",
            "train",
            "--env",
            "agentgym/Reach-v0",
            "--learner",
            "ppo",
            "--steps",
            "8192",
            "--num-envs",
            "4",
            "--num-steps",
            "128",
            "--eval-episodes",
            "1",
            "--eval-every",
            "4096",
            "--no-video",
            "--out",
            str(tmp_path / "run"),
        ],  # fmt: skip
        cwd=tmp_path,
        env={**os.environ, EVERY_VAR: "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines, running_when_first_read = [], None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if running_when_first_read is None and TRAIN_LINE.match(lines[-1]):
            running_when_first_read = proc.poll() is None
    proc.wait(timeout=60)
    assert proc.returncode == 0, "\n".join(lines)
    assert running_when_first_read, "\n".join(lines)  # a line came while training went on
    steps = [int(m.group(1).replace(",", "")) for m in map(TRAIN_LINE.match, lines) if m]
    assert steps == list(range(512, 8193, 512))  # every row, with the variable at 0
    evals = [line for line in lines if line.startswith("train: evaluation at step")]
    assert [e.split(":")[1] for e in evals] == [
        " evaluation at step 4,096",
        " evaluation at step 8,192",
    ]
    assert not any("\x1b[" in line or "━" in line for line in lines)  # no bar, no escapes


def test_progress_lines_are_throttled_but_keep_the_first_and_the_last():
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    lines = ProgressLines(Console(file=out), every_s=3600)
    shown = [lines.line(f"row {i}", last=i == 9) for i in range(10)]
    assert shown == [True] + [False] * 8 + [True]
    assert out.getvalue().splitlines() == ["row 0", "row 9"]


def test_a_bad_progress_interval_is_named(monkeypatch):
    monkeypatch.setenv(EVERY_VAR, "soon")
    with pytest.raises(ValueError, match=EVERY_VAR):
        progress_every()
    monkeypatch.setenv(EVERY_VAR, "-1")
    with pytest.raises(ValueError, match=EVERY_VAR):
        progress_every()


def test_reward_eval_prints_plain_progress_lines_when_not_a_terminal(isolated_llm_cache, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentgym",
            "reward",
            "eval",
            "--env",
            "agentgym/Reach-v0",
            "--reward",
            "sparse",
            "--seeds",
            "1",
            "--steps",
            "2048",
            "--learner",
            "population",
            "--num-envs",
            "4",
            "--num-steps",
            "128",
            "--eval-episodes",
            "1",
            "--no-references",
            "--out",
            str(tmp_path / "ev"),
            "--json",
        ],  # fmt: skip
        cwd=tmp_path,
        env={**os.environ, EVERY_VAR: "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("training 1 seed")]
    assert progress and progress[-1].startswith(
        "training 1 seed(s) of each reward (population): step 2,048/2,048 (100%)"
    ), done.stderr
    assert "\x1b[" not in done.stderr
    assert done.stdout.startswith("{")  # --json: stdout holds the JSON alone


def test_step_progress_draws_a_bar_on_a_terminal_and_lines_elsewhere(monkeypatch):
    from io import StringIO

    monkeypatch.delenv(EVERY_VAR, raising=False)  # the default: one line per 30 s

    from rich.console import Console

    from agentgym.commands._progress import StepProgress

    tty = StringIO()
    with StepProgress(Console(file=tty, force_terminal=True, width=100), "eval", 100) as bar:
        bar.update(50)
    assert "━" in tty.getvalue() and "50/100" in tty.getvalue()

    plain = StringIO()
    with StepProgress(Console(file=plain, force_terminal=False), "eval", 100) as lines:
        for step in (0, 50, 50, 100):
            lines.update(step)
    assert [line.split(",")[0] for line in plain.getvalue().splitlines()] == [
        "eval: step 0/100 (0%)",
        "eval: step 100/100 (100%)",
    ]  # throttled to the first and the last; no bar
