"""Selection quality of reward search: does the search rank rewards the way they really train?

For each task, six planted reward programs go through the real search (``agentgym reward
synthesize``, Eureka, one iteration, one sample per program, the LLM's replies scripted on
a loopback OpenAI-compatible server, so vetting, the constant check, the
trajectory-preference filter, training and ranking are the product's own):

    human      the task's human reward (reward_designers/library)
    sparse     1 when the task's success condition holds, else 0
    wrong      rewards moving away from the goal
    constant   one value on every step
    misscaled  the human reward's terms at scales that drown the signal
    shaped     a reasonable alternative shaping

Each program is then retrained on 3 seeds with ``agentgym reward eval`` at the task's full
budget (its training preset; the "truth"), and the search's ranking is compared with the
truth by Spearman's rank correlation. The search runs twice, with the trajectory-preference
filter on and off; the truth is shared. Everything is resumable: a finished search or
evaluation folder is read back, not redone.

    .venv/bin/python scripts/selection_quality.py                      # every task
    .venv/bin/python scripts/selection_quality.py --tasks CartPole-v0 MountainCar-v0
    .venv/bin/python scripts/selection_quality.py --truth-steps 20000  # a quicker, cruder truth

Results: bench/results/selection_quality.{json,md}, the machine named.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CANDIDATES = ("human", "sparse", "wrong", "constant", "misscaled", "shaped")

HEADER = "import torch\n\n\ndef compute_reward(state, action):\n"


def _program(body: str) -> str:
    lines = [line.strip() for line in body.strip().splitlines()]
    return HEADER + "".join(f"    {line}\n" for line in lines)


def _metaworld(target: str, success_radius: float) -> dict[str, str]:
    """Planted programs of a MetaWorld task whose success is ``target`` near the goal."""
    dist = f"d = torch.linalg.vector_norm(state['{target}'] - state['goal_pos'], dim=-1)"
    reach = "h = torch.linalg.vector_norm(state['tcp_pos'] - state['obj_pos'], dim=-1)"
    if target == "tcp_pos":
        return {
            "sparse": f"{dist}\nr = (d < {success_radius}).float()\nreturn r, {{'goal': r}}",
            "wrong": f"{dist}\nreturn d, {{'away': d}}",
            "constant": "r = torch.ones(state['tcp_pos'].shape[0])\nreturn r, {'const': r}",
            "misscaled": f"{dist}\nc = (action ** 2).sum(-1)\n"
            "r = -0.001 * d - c\nreturn r, {'dist': -0.001 * d, 'ctrl': -c}",
            "shaped": f"{dist}\nr = torch.exp(-d / 0.1)\nreturn r, {{'near': r}}",
        }
    return {
        "sparse": f"{dist}\nr = (d < {success_radius}).float()\nreturn r, {{'goal': r}}",
        "wrong": f"{reach}\nreturn h, {{'away': h}}",
        "constant": "r = torch.ones(state['tcp_pos'].shape[0])\nreturn r, {'const': r}",
        "misscaled": f"{dist}\n{reach}\nc = (action ** 2).sum(-1)\n"
        "r = -0.001 * (d + h) - c\nreturn r, {'dist': -0.001 * (d + h), 'ctrl': -c}",
        "shaped": f"{dist}\n{reach}\nr = torch.exp(-h / 0.1) + 2.0 * torch.exp(-d / 0.05)\n"
        "return r, {'near': r}",
    }


def _locomotion(target_speed: float, healthy: str | None) -> dict[str, str]:
    """Planted programs of a forward-locomotion task whose success is ``target_speed`` m/s
    held over 2 s; ``healthy`` is the task's upright test (None where no state ends an
    episode, as on HalfCheetah)."""
    v = "v = state['forward_velocity']"
    c = "c = (action ** 2).sum(-1)"
    # Where falling ends the episode, an upright bonus is what keeps the robot going; the
    # alternative shaping caps the speed term (tanh) instead of paying it linearly.
    alive, bonus = (f"\nalive = ({healthy}).float()", " + alive") if healthy else ("", "")
    return {
        "sparse": f"{v}\nr = (v >= {target_speed}).float()\nreturn r, {{'fast': r}}",
        "wrong": f"{v}\nreturn -v, {{'backward': -v}}",
        # -1 per step: where falling ends the episode it pays for falling early.
        "constant": f"{v}\nr = -torch.ones_like(v)\nreturn r, {{'const': r}}",
        "misscaled": f"{v}\n{c}\nf = 0.001 * v\nreturn f - c, {{'forward': f, 'ctrl': -c}}",
        "shaped": f"{v}\n{c}{alive}\nf = 2.0 * {target_speed} * torch.tanh(v / {target_speed})"
        f"\nr = f{bonus} - 0.01 * c\nreturn r, {{'forward': f, 'ctrl': -0.01 * c}}",
    }


PLANTED: dict[str, dict[str, str]] = {
    "agentgym/Reach-v0": {
        "sparse": "d = torch.linalg.vector_norm(state['fingertip_pos'] - state['target_pos'], "
        "dim=-1)\nr = (d < 0.02).float()\nreturn r, {'goal': r}",
        "wrong": "d = torch.linalg.vector_norm(state['fingertip_pos'] - state['target_pos'], "
        "dim=-1)\nreturn d, {'away': d}",
        "constant": "r = torch.ones(state['target_pos'].shape[0])\nreturn r, {'const': r}",
        "misscaled": "d = torch.linalg.vector_norm(state['fingertip_pos'] - state['target_pos'], "
        "dim=-1)\nc = (action ** 2).sum(-1)\nr = -0.001 * d - c\n"
        "return r, {'dist': -0.001 * d, 'ctrl': -c}",
        "shaped": "d = torch.linalg.vector_norm(state['fingertip_pos'] - state['target_pos'], "
        "dim=-1)\nr = torch.exp(-d / 0.05)\nreturn r, {'near': r}",
    },
    "agentgym/CartPole-v0": {
        # Success is surviving 500 steps, which no single state shows: sparse pays only
        # inside a tight upright band.
        "sparse": "r = (torch.abs(state['pole_angle']) < 0.0175).float()\nreturn r, {'up': r}",
        "wrong": "r = torch.abs(state['pole_angle'])\nreturn r, {'tilt': r}",
        "constant": "r = -torch.ones_like(state['pole_angle'])\nreturn r, {'const': r}",
        "misscaled": "up = 0.001 * torch.cos(state['pole_angle'])\n"
        "v = torch.abs(state['cart_velocity'])\nreturn up - v, {'up': up, 'speed': -v}",
        "shaped": "up = torch.cos(state['pole_angle'])\nx = 0.1 * torch.abs(state['cart_position'])"
        "\nreturn up - x, {'up': up, 'centre': -x}",
    },
    "agentgym/MountainCar-v0": {
        "sparse": "r = (state['position'] >= state['goal_position']).float()\n"
        "return r, {'goal': r}",
        "wrong": "r = -state['position']\nreturn r, {'left': r}",
        "constant": "r = torch.ones_like(state['position'])\nreturn r, {'const': r}",
        "misscaled": "t = -0.001 * torch.ones_like(state['position'])\n"
        "h = -10.0 * torch.abs(state['position'] + 0.5)\nreturn t + h, {'time': t, 'valley': h}",
        "shaped": "t = -torch.ones_like(state['position'])\n"
        "v = 10.0 * torch.abs(state['velocity'])\nreturn t + v, {'time': t, 'speed': v}",
    },
    "agentgym/HalfCheetah-v0": _locomotion(3.0, None),
    "agentgym/Hopper-v0": _locomotion(
        1.0,
        "(state['torso_height'] > 0.7) & (torch.abs(state['torso_angle']) < 0.2)",
    ),
    "agentgym/Walker2d-v0": _locomotion(
        1.0,
        "(state['torso_height'] > 0.8) & (state['torso_height'] < 2.0) & "
        "(torch.abs(state['torso_angle']) < 1.0)",
    ),
    "agentgym/MetaWorld-Reach-v0": _metaworld("tcp_pos", 0.05),
    "agentgym/MetaWorld-ButtonPress-v0": _metaworld("obj_pos", 0.02),
    "agentgym/MetaWorld-DrawerClose-v0": _metaworld("obj_pos", 0.065),
}


def planted_programs(env_id: str) -> dict[str, str]:
    """The six planted programs of a task (name -> source)."""
    import agentgym  # noqa: F401
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.library import program_path

    human = program_path(task_spec(env_id).name).read_text()
    return {"human": human, **{k: _program(v) for k, v in PLANTED[env_id].items()}}


def _cli(args: list[str], log: Path) -> None:
    """Run ``agentgym ARGS`` (the real CLI, its own process); raise with its log on failure."""
    cmd = [sys.executable, "-m", "agentgym", *args]
    with log.open("w") as out:
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({done.returncode}); see {log}")


LLM_PORT = 18731
"""The planted LLM's port: fixed, so its spec (in the run's config) is the same on a rerun,
which then resumes the search."""


def search(
    env_id: str, programs: dict[str, str], out: Path, *, filter_on: bool, steps: int | None
) -> dict[str, Any]:
    """The real search over the planted programs: {name: its candidate's result.json}."""
    from agentgym.reward_designers.synthesis.candidates import load_candidates
    from agentgym.testing.openai_server import ScriptedOpenAIServer

    names = list(programs)
    if not (out / "final.json").is_file():  # a rerun resumes an unfinished search
        served = iter(range(10**6))

        def reply(request: dict[str, Any]) -> str:
            return f"```python\n{programs[names[next(served) % len(names)]]}```"

        args = ["reward", "synthesize", "--env", env_id, "--designer", "eureka"]
        args += ["--iterations", "1", "--samples", str(len(names)), "--final-seeds", "0"]
        args += ["--no-references", "--seed", "0", "--out", str(out)]
        if steps:
            args += ["--steps", str(steps)]
        if not filter_on:
            args += ["--no-trajectory-filter"]
        out.parent.mkdir(parents=True, exist_ok=True)
        with ScriptedOpenAIServer(reply, port=LLM_PORT) as server:
            args += ["--llm", f"openai:scripted-model@{server.base_url}"]
            _cli(args, out.parent / f"{out.name}.log")
    # Samples are matched to programs by their code: the order replies were served in
    # is the client's business.
    by_code = {src.strip(): name for name, src in programs.items()}
    results = {}
    for candidate in load_candidates(out):
        program = out / candidate.folder_name / "reward.py"
        name = by_code.get(program.read_text().strip()) if program.is_file() else None
        if name is None or name in results:
            raise RuntimeError(f"{out}: {candidate.folder_name} is not one planted program")
        results[name] = candidate.to_dict() | {"rank": list(candidate.rank)}
    missing = sorted(set(names) - set(results))
    if missing:
        raise RuntimeError(f"{out}: no finished sample for {missing}")
    return results


def truth(env_id: str, name: str, source: str, out: Path, seeds: int, steps: int | None) -> dict:
    """Success of one program retrained on ``seeds`` seeds at the full budget."""
    result = out / "eval.json"
    if not result.is_file():
        out.mkdir(parents=True, exist_ok=True)
        program = out / f"{name}.py"
        program.write_text(source)
        args = ["reward", "eval", "--env", env_id, "--reward", str(program)]
        args += ["--seeds", str(seeds), "--no-references", "--out", str(out)]
        if steps:
            args += ["--steps", str(steps)]
        started = time.time()
        _cli(args, out / "eval.log")
        (out / "wall_s").write_text(f"{time.time() - started:.0f}\n")
    rewards = json.loads(result.read_text())["rewards"]
    wall = out / "wall_s"
    return next(iter(rewards.values())) | (
        {"wall_s": int(wall.read_text())} if wall.is_file() else {}
    )


def average_ranks(values: list[Any]) -> list[float]:
    """1-based ranks, ascending, ties sharing their mean rank (for Spearman)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: list[Any], b: list[Any]) -> float | None:
    """Spearman's rho (Pearson on average ranks); None when either side is all ties."""
    ra, rb = average_ranks(a), average_ranks(b)
    n = len(ra)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return None if va == 0 or vb == 0 else cov / (va * vb) ** 0.5


def truth_order(summary: dict[str, Any]) -> tuple[float, float]:
    """What the truth ranks by: mean success over seeds, then mean task fitness (the
    search's own order; where no program succeeds within the budget, as on locomotion, the
    fitness is the whole ranking). A missing fitness ranks lowest."""
    fitness = summary.get("fitness_mean")
    return (summary["mean"], float("-inf") if fitness is None else fitness)


def score_task(
    env_id: str, root: Path, seeds: int, search_steps: int | None, truth_steps: int | None
) -> dict[str, Any]:
    from agentgym.catalog import expert_policy
    from reward_designers.synthesis.config import SynthesisConfig

    programs = planted_programs(env_id)
    short = env_id.split("/")[-1]
    started = time.time()
    true = {
        name: truth(env_id, name, src, root / short / "truth" / name, seeds, truth_steps)
        for name, src in programs.items()
    }
    out: dict[str, Any] = {"truth": true, "searches": {}}
    # The filter scores programs on the expert's episodes against failed ones: without an
    # expert (locomotion) it judges nothing, and the search with it off is the same search.
    has_expert = expert_policy(env_id) is not None
    for filter_on in (True, False):
        label = "filter on" if filter_on else "filter off"
        if not filter_on and not has_expert:
            out["searches"][label] = {**out["searches"]["filter on"], "same_as": "filter on"}
            continue
        folder = root / short / ("search-filter" if filter_on else "search-nofilter")
        found = search(env_id, programs, folder, filter_on=filter_on, steps=search_steps)
        names = list(programs)
        rho = spearman(
            [tuple(found[n]["rank"]) for n in names], [truth_order(true[n]) for n in names]
        )
        above = {
            bad: tuple(found["human"]["rank"]) > tuple(found[bad]["rank"])
            for bad in ("wrong", "constant")
        }
        out["searches"][label] = {"candidates": found, "spearman": rho, "human_above": above}
    budgets = SynthesisConfig(env_id=env_id)  # what "preset" meant when this row ran
    out.update(
        wall_s=round(time.time() - started),
        seeds=seeds,
        search_steps=search_steps or f"preset ({budgets.search_steps()})",
        truth_steps=truth_steps or f"preset ({budgets.retrain_steps()})",
        truth_order="success, then fitness",
        learner=budgets.resolved().learner,  # the preset's, when it was measured
    )
    return out


def trained_spearman(task: dict[str, Any], search: dict[str, Any]) -> float | None:
    """Spearman over the candidates the search trained (rejected ones left out): how well
    training at the search's budget ranks, apart from what vetting threw away."""
    names = [n for n, c in search["candidates"].items() if c["status"] == "trained"]
    if len(names) < 2:
        return None
    order = truth_order if "truth_order" in task else (lambda t: t["mean"])
    return spearman(
        [tuple(search["candidates"][n]["rank"]) for n in names],
        [order(task["truth"][n]) for n in names],
    )


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Selection quality: the search's ranking against retrained success",
        "",
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores), GPU: {m.get('gpu') or 'none'}, "
        f"torch {m.get('torch')}. Last run {results['date']}, scripts/selection_quality.py: "
        "six planted programs per task through `agentgym reward synthesize` (one sample "
        "each), then each retrained on several seeds with `agentgym reward eval` (the "
        "truth). Budgets are each task's training preset at the time (its learner first) "
        "unless the row says otherwise. "
        "The truth ranks by mean success, then mean task fitness (shown as success/fitness; "
        "the first rows measured, whose truth shows success alone, ranked by success alone).",
        "",
        "| task | budgets (search / truth, seeds) | filter | Spearman (trained only) | human > wrong | human > constant | search scores "
        "(success / fitness; R = rejected) | truth (mean over seeds) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for env_id, task in results["tasks"].items():
        by_fitness = "truth_order" in task  # rows measured before it ranked by success alone
        truth_cell = ", ".join(
            f"{n} {t['mean']:.2f}"
            + (
                f"/{t['fitness_mean']:.3g}"
                if by_fitness and t.get("fitness_mean") is not None
                else ""
            )
            for n, t in task["truth"].items()
        )
        budget = f"{task['search_steps']} / {task['truth_steps']}, {task['seeds']}"
        if task.get("learner"):
            budget = f"{task['learner']}: {budget}"
        for label, s in task["searches"].items():
            cells = []
            for n, c in s["candidates"].items():
                if c["status"] != "trained":
                    cells.append(f"{n} R:{c['code']}")
                else:
                    fit = "-" if c.get("fitness") is None else f"{c['fitness']:.3g}"
                    cells.append(f"{n} {c['success']:.2f}/{fit}")
            rho = "undefined" if s["spearman"] is None else f"{s['spearman']:.2f}"
            trained = trained_spearman(task, s)
            rho += f" ({'undefined' if trained is None else f'{trained:.2f}'})"
            if "same_as" in s:
                label = f"{label} (no expert: the same search as {s['same_as']})"
            lines.append(
                f"| {env_id} | {budget} | {label} | {rho} | {s['human_above']['wrong']} | "
                f"{s['human_above']['constant']} | {'; '.join(cells)} | {truth_cell} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="*", default=None, help="e.g. CartPole-v0 (default all)")
    parser.add_argument("--seeds", type=int, default=3, help="truth seeds per program")
    parser.add_argument("--search-steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--truth-steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--root", default="runs/selection-quality", help="work folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("MUJOCO_GL", "egl")
    chosen = [e for e in PLANTED if not args.tasks or any(e.endswith("/" + t) for t in args.tasks)]
    if not chosen:
        parser.error(f"--tasks: none of {args.tasks} is one of {list(PLANTED)}")
    import torch  # noqa: F401  (machine_info names the torch build it finds imported)

    from agentgym.runs.manifest import machine_info

    path = RESULTS / "selection_quality.json"
    results = json.loads(path.read_text()) if path.is_file() else {"tasks": {}}
    results.update(machine=machine_info(), date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    for env_id in chosen:
        results["tasks"][env_id] = score_task(
            env_id, Path(args.root), args.seeds, args.search_steps, args.truth_steps
        )
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / "selection_quality.md").write_text(render(results))
    sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
