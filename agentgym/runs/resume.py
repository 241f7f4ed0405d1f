"""Continuing a run: what ``--resume`` may do to a run folder, checked before it does it.

A resume never touches a run it cannot continue: a finished run (its budget reached) is
left byte-identical unless a larger ``--steps`` extends it, and a missing, truncated or
corrupt checkpoint is reported before the manifest says "running", so the folder stays
as it was (manifest, report, logs and TensorBoard files alike).
"""

from __future__ import annotations

from typing import Any

from agentgym.learners.base import Learner
from agentgym.runs.config import dump_yaml
from agentgym.runs.rundir import RunDir


class RunFinishedError(Exception):
    """``--resume`` of a run that already reached the budget asked for: nothing to do."""


def finished_at(run: RunDir) -> int | None:
    """The step a finished run (manifest status "done") reached; None when unfinished."""
    manifest = run.read_manifest()
    if manifest.get("status") != "done":
        return None
    final = manifest.get("final") or {}
    step = final.get("step")
    if step is None:  # a run that finished before "final" was recorded: its budget
        step = run.read_config()["config"]["total_steps"]
    return int(step)


def check_resumable(run: RunDir, cls: type[Learner], members: list[RunDir]) -> None:
    """Every checkpoint ``--resume`` needs exists and reads back; else FileNotFoundError or
    ``CheckpointError`` naming it. Nothing in the folder is written."""
    folders = members if cls.several_rewards else [run]
    missing = [m for m in folders if not (m.checkpoints_dir / cls.checkpoint_file).is_file()]
    if missing:
        names = [m.path.name for m in missing]
        what = f"members {names} have" if cls.several_rewards else "it has"
        raise FileNotFoundError(
            f"--resume {run.path}: {what} no checkpoints/{cls.checkpoint_file} yet (the run "
            "was stopped before its first checkpoint); start it again with --overwrite"
        )
    from agentgym.learners.checkpoint import check_checkpoint

    for folder in folders:
        try:
            check_checkpoint(folder.checkpoints_dir / cls.checkpoint_file)
        except ValueError as err:
            raise type(err)(
                f"--resume {run.path}: {err}; the run was left as it was (start it again "
                "with --overwrite, or restore the file)"
            ) from err


def target_steps(run: RunDir, steps: int | None) -> int:
    """The budget a resume trains to: ``steps`` (``--steps``) or the stored one. Raises
    RunFinishedError when a finished run already reached it."""
    total = int(run.read_config()["config"]["total_steps"])
    if steps is not None and steps <= 0:
        raise ValueError(f"--steps must be a positive number of env steps, got {steps}")
    target = total if steps is None else int(steps)
    done = finished_at(run)
    if done is not None and target <= done:
        raise RunFinishedError(
            f"--resume {run.path}: the run already finished at step {done:,} (--steps "
            f"{target:,}); nothing was changed. To train it further, pass --steps N with "
            f"N > {done:,}."
        )
    return target


def extend_budget(run: RunDir, members: list[RunDir], total_steps: int) -> None:
    """Write ``total_steps`` as the budget of the run and of each member (config.yaml), and
    note the change in the manifest's ``extended`` list."""
    old = int(run.read_config()["config"]["total_steps"])
    if old == total_steps:
        return
    for folder in [run, *members]:
        spec: dict[str, Any] = folder.read_config()
        spec["config"] = {**spec["config"], "total_steps": int(total_steps)}
        dump_yaml(spec, folder.config_path)
    history = list(run.read_manifest().get("extended") or [])
    history.append({"from": old, "to": int(total_steps)})
    run.update_manifest(extended=history)
