"""Sparse vs sparse + ONI intrinsic reward vs sparse + subgoal bonuses, on text agents (CPU).

For each task (two BabyAI-text levels and one household task):

1. build a tiny 2-layer Llama over the env's words (``agentgym/testing/tiny/lm.py``) and
   behaviour-clone it briefly on expert demonstrations (a weak starting policy);
2. from that one policy, train agent PPO for ``--steps`` env steps per seed with (a) the
   sparse success reward, (b) sparse + ``oni:`` (the LLM labels captions asynchronously, a
   classifier distils them) and (c) sparse + ``subgoals:`` (LLM-proposed subgoals, judged
   by the env's facts), the same budget each;
3. evaluate success on held-out seeds; record the label statistics the runs logged.

Before training, ``--measure-labels N`` times N distinct captions labelled by the LLM with
no cache (labels per second of the server as it is now), and ``--prelabel-seconds S``
/ ``--propose-seconds S`` fill the persistent LLM cache the runs read (ONI labels of expert
then random episodes' captions, subgoal proposals per mission), through the rewards' own
labellers, for at most S seconds each.

    python examples/llm_labelled_rewards.py --llm 'openai:M@http://127.0.0.1:18012/v1' \\
        --task babyai-gotolocal --seeds 0 1 2 --out runs/oni/gotolocal.json \\
        --prelabel-seconds 300 --propose-seconds 150
    python examples/llm_labelled_rewards.py --report runs/oni/*.json

Results of one run are in docs/results.md ("LLM-labelled rewards: ONI and subgoals").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from pathlib import Path

TASKS = {
    "babyai-gotolocal": {"env_id": "agentgym/BabyAI-GoToLocal-v0", "cap": 20, "history": 0},
    "babyai-unlock": {"env_id": "agentgym/BabyAI-Unlock-v0", "cap": 30, "history": 0},
    "household-pickplace": {"env_id": "agentgym/Household-PickPlace-v0", "cap": 25, "history": 2},
}
ARMS = ("sparse", "oni", "subgoals")


def reward_spec(arm: str, llm: str, cache: Path) -> str:
    if arm == "sparse":
        return "sparse"
    if arm == "oni":
        return f"sparse+oni:llm={llm};weight=0.02;cache={cache};max_queue=32"
    return f"sparse+subgoals:llm={llm};bonus=0.1;max_subgoals=4;cache={cache}"


def bc_policy(task: str, work: Path, demos: int, epochs: int) -> tuple[str, dict]:
    from spa_text_agents import clone_expert  # the sibling example (this script's folder)

    spec = TASKS[task]
    return clone_expert(task, spec["env_id"], spec["history"], work, demos, epochs)


def measure_labels(llm: str, count: int, wait: float) -> dict:
    """Label ``count`` distinct real GoToLocal captions, no cache, waiting at most ``wait``
    seconds: labels per second."""
    import gymnasium as gym
    import numpy as np

    from agentgym.reward_designers.labelled import AsyncLabeller, text_key
    from agentgym.reward_designers.labelled.llm_ask import OneShotAsker, yes_no
    from agentgym.reward_designers.prompting import PromptBuilder

    env = gym.make(TASKS["babyai-gotolocal"]["env_id"])
    rng = np.random.default_rng(0)
    captions: dict[str, str] = {}
    obs, info = env.reset(seed=0)
    while len(captions) < count:
        obs, _, term, trunc, info = env.step(str(rng.choice(info["admissible_actions"])))
        captions.setdefault(obs["text"], info["mission"])
        if term or trunc:
            obs, info = env.reset(seed=len(captions))
    env.close()
    labeller = AsyncLabeller(OneShotAsker(llm, "none", 3), max_queue=count)
    prompts = PromptBuilder()
    start = time.time()
    for caption, goal in captions.items():
        prompt = prompts.render("progress_label.j2", goal=goal, caption=caption)
        labeller.submit(text_key(prompt), prompt)
    labeller.wait_idle(wait)
    seconds = time.time() - start
    answers = list(labeller.answers.values())
    stats = labeller.stats
    labeller.close()
    return {
        "asked": count,
        "labels": len(answers),
        "failed": stats.failed,
        "mean_latency_s": stats.latency_total_s / max(stats.answered, 1),
        "seconds": seconds,
        "labels_per_s": len(answers) / seconds,
        "yes": sum(yes_no(a) is True for a in answers),
        "no": sum(yes_no(a) is False for a in answers),
        "unparsed": sum(yes_no(a) is None for a in answers),
        "load": os.getloadavg(),
    }


def prelabel(task: str, args: argparse.Namespace) -> dict:
    """Fill the persistent LLM cache the training runs read, through the rewards' own path.

    The ``oni:`` and ``subgoals:`` reward models are built from the same specs as training
    (only ``max_queue`` differs, which is not part of a cache key) and attached to the env;
    one expert episode per training task instance (seeds ``seed * 100_000 + i``) is played
    first, then ``--prelabel-random`` random episodes each, so expert captions are queued
    first. Each labeller then gets at most ``--prelabel-seconds`` (``oni``) or
    ``--propose-seconds`` (``subgoals``) to answer; whatever it answered is in the cache."""
    import gymnasium as gym
    import numpy as np

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.rewards import parse_reward_spec
    from agentgym.rewards.episodic import per_env
    from agentgym.text_env import expert_episode

    spec = TASKS[task]
    cache = Path(args.work) / "llm_cache.sqlite"
    seeds = [s * 100_000 + i for s in args.seeds for i in range(args.task_seeds)]
    probe = gym.make(spec["env_id"])
    task_spec = probe.unwrapped.task_spec
    probe.close()
    out: dict = {"task_instances": len(seeds)}
    for arm, budget in (("oni", args.prelabel_seconds), ("subgoals", args.propose_seconds)):
        if not budget:
            continue  # no time for this arm: leave its cache as it is
        text = reward_spec(arm, args.llm, cache).removeprefix("sparse+") + ";max_queue=4096"
        text = text.replace(";max_queue=32;", ";")
        model = parse_reward_spec(text, task_spec)
        env = gym.make(spec["env_id"], reward=per_env(model), max_episode_steps=spec["cap"])
        rng = np.random.default_rng(0)
        captions = 0
        rounds = [("expert", seeds)]
        if arm == "oni":
            rounds += [("random", seeds)] * args.prelabel_random
        for kind, round_seeds in rounds:
            for seed in round_seeds:
                if kind == "expert":
                    captions += len(expert_episode(env, seed=seed)["steps"])
                    continue
                obs, info = env.reset(seed=seed)
                while True:
                    action = str(rng.choice(info["admissible_actions"]))
                    obs, _, term, trunc, info = env.step(action)
                    captions += 1
                    if term or trunc:
                        break
        labeller = model.labeller if arm == "oni" else model.shared.labeller
        start = time.time()
        labeller.wait_idle(budget)
        seconds = time.time() - start
        metrics = model.metrics()
        labeller.close()
        env.close()
        out[arm] = {
            "steps_played": captions,
            "seconds_allowed": budget,
            "seconds_waited": seconds,
            "answered": labeller.stats.answered,
            "cache_hits": labeller.stats.cache_hits,
            "left_unanswered": labeller.stats.enqueued - labeller.stats.answered,
            "failed": labeller.stats.failed,
            "mean_latency_s": labeller.stats.latency_total_s / max(labeller.stats.answered, 1),
            "metrics": metrics,
            "load": os.getloadavg(),
        }
        print(json.dumps({"prelabel": task, arm: out[arm]}), flush=True)
    return out


def train(task: str, policy: str, arm: str, seed: int, args: argparse.Namespace) -> dict:
    from agentgym.learners.agent import AgentPPO, AgentPPOConfig
    from agentgym.rewards.metrics import reward_metrics

    spec = TASKS[task]
    work = Path(args.work)
    config = AgentPPOConfig(
        env_id=spec["env_id"],
        policy=policy,
        reward=reward_spec(arm, args.llm, work / "llm_cache.sqlite"),
        total_steps=args.steps,
        num_envs=8,
        episodes_per_update=16,
        max_episode_steps=spec["cap"],
        task_seeds=args.task_seeds,
        seed=seed,
        device="cpu",
        learning_rate=1e-4,
        kl_coef=0.05,
        history=spec["history"],
        max_prompt_tokens=256,
        eval_episodes=args.eval_episodes,
    )
    run_dir = work / f"{task}-{arm}-s{seed}-{args.steps}steps"
    start, cpu = time.time(), time.process_time()
    agent = AgentPPO(config, run_dir=run_dir)
    rows: list[dict] = []
    final = agent.learn(callback=rows.append)
    metrics = reward_metrics(agent.reward_model)
    for _, part in getattr(agent.reward_model, "parts", ()):
        for labeller in ("labeller", "shared"):
            obj = getattr(part, labeller, None)
            obj = getattr(obj, "labeller", obj)
            if hasattr(obj, "close"):
                obj.close()
    agent.close()
    return {
        "task": task,
        "arm": arm,
        "seed": seed,
        "env_steps": agent.global_step,
        "updates": agent.updates,
        "seconds": time.time() - start,
        "cpu_seconds": time.process_time() - cpu,
        "load": os.getloadavg(),
        "start_success": rows[0].get("eval/success_rate"),
        "success": final["eval/success_rate"],
        "train_success": [r["success_rate"] for r in rows if "success_rate" in r],
        "metrics": metrics,
        "run_dir": str(run_dir),
    }


def report(paths: list[str]) -> str:
    rows = [r for p in paths for r in json.loads(Path(p).read_text())["runs"]]

    def ms(values: list[float], digits: int = 3) -> str:
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"

    lines = [
        "| task | reward | seeds | env steps | success before | success after | LLM labels "
        "(cache hits) | dropped | classifier acc. | subgoal bonuses paid | s per run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task in TASKS:
        for arm in ARMS:
            sel = [r for r in rows if r["task"] == task and r["arm"] == arm]
            if not sel:
                continue
            m = [r["metrics"] for r in sel]
            labels = sum(
                x.get("oni/labels_made", x.get("subgoals/proposal/labels_made", 0)) for x in m
            )
            hits = sum(
                x.get("oni/label_cache_hits", x.get("subgoals/proposal/label_cache_hits", 0))
                for x in m
            )
            dropped = sum(x.get("oni/dropped", 0) for x in m)
            acc = [x["oni/classifier_accuracy"] for x in m if "oni/classifier_accuracy" in x]
            acc_text = ms([a for a in acc if a == a]) if any(a == a for a in acc) else "-"
            paid = sum(x.get("subgoals/bonuses_paid", 0) for x in m)
            lines.append(
                f"| {task} | {arm} | {len(sel)} | {ms([r['env_steps'] for r in sel], 0)} | "
                f"{ms([r['start_success'] for r in sel])} | {ms([r['success'] for r in sel])} | "
                f"{labels:.0f} ({hits:.0f}) | {dropped:.0f} | {acc_text} | "
                f"{paid:.0f} | {statistics.mean(r['seconds'] for r in sel):.0f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS))
    parser.add_argument("--llm", default=os.environ.get("AGENTGYM_LLM", ""))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--steps", type=int, default=600, help="env steps of PPO per run")
    parser.add_argument("--task-seeds", type=int, default=8, help="fixed task instances")
    parser.add_argument("--eval-episodes", type=int, default=32)
    parser.add_argument("--demos", type=int, default=60)
    parser.add_argument("--bc-epochs", type=int, default=4)
    parser.add_argument("--measure-labels", type=int, default=0, metavar="N")
    parser.add_argument("--label-wait", type=float, default=1800, help="seconds, --measure-labels")
    parser.add_argument("--prelabel-seconds", type=float, default=0, help="oni cache fill")
    parser.add_argument("--prelabel-random", type=int, default=2, help="random episodes each")
    parser.add_argument("--propose-seconds", type=float, default=0, help="subgoal cache fill")
    parser.add_argument(
        "--fill-only",
        action="store_true",
        help="fill the cache (--prelabel/--propose-seconds), train nothing",
    )
    parser.add_argument("--work", default="runs/oni")
    parser.add_argument("--out", help="JSON results file")
    parser.add_argument("--report", nargs="+", metavar="JSON")
    args = parser.parse_args()
    if args.report:
        print(report(args.report))
        return 0
    if not args.out or not args.llm:
        parser.error("--out and --llm (or $AGENTGYM_LLM) are required (or --report)")
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(1)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"task": args.task, "runs": []}
    if args.measure_labels:
        results["label_speed"] = measure_labels(args.llm, args.measure_labels, args.label_wait)
        Path(args.out).write_text(json.dumps(results, indent=1))
        print(json.dumps(results["label_speed"]), flush=True)
    if args.task and (args.prelabel_seconds or args.propose_seconds):
        results["prelabel"] = prelabel(args.task, args)
        Path(args.out).write_text(json.dumps(results, indent=1))
    if args.task and not args.fill_only:
        policy, results["bc"] = bc_policy(args.task, work, args.demos, args.bc_epochs)
        for seed in args.seeds:
            for arm in args.arms:
                results["runs"].append(train(args.task, policy, arm, seed, args))
                Path(args.out).write_text(json.dumps(results, indent=1))
                print(
                    json.dumps({k: v for k, v in results["runs"][-1].items() if k != "metrics"}),
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
