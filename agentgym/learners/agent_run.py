"""``agentgym train --learner agent-ppo``: agent PPO runs in run folders.

``runs/training.py`` hands agent-ppo requests here: ``start_agent_run`` validates the
request (env id, policy folder, reward spec, config fields) before any folder is made
and writes config.yaml (``config`` holds an ``AgentPPOConfig``) and manifest.json;
``train_agent_run`` trains (or resumes) and writes the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from agentgym.registry import suggest

LEARNER = "agent-ppo"


def agent_config(values: dict[str, Any], rewards: Sequence[str] = ()) -> Any:
    """An ``AgentPPOConfig`` from CLI values; ValueError naming a field agent PPO lacks."""
    from agentgym.learners.agent_config import AgentPPOConfig

    known = {f.name for f in fields(AgentPPOConfig)}
    unknown = sorted(set(values) - known - {"reward"})
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        hint = suggest(unknown[0], sorted(known))
        raise ValueError(
            f"{flags}: not a setting of --learner {LEARNER}.{hint} It takes: "
            + ", ".join("--" + k.replace("_", "-") for k in sorted(known))
        )
    rewards = list(rewards)
    if len(rewards) > 1:
        raise ValueError(
            f"--reward was given {len(rewards)} times; --learner {LEARNER} trains one reward"
        )
    reward = rewards[0] if rewards else values.get("reward", "sparse")
    return AgentPPOConfig(
        **{**{k: v for k, v in values.items() if k != "reward"}, "reward": reward}
    )


def check_agent_config(config: Any) -> None:
    """Env id, policy folder and reward spec checked (errors name the problem)."""
    import gymnasium as gym

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.learners.agent_policy import policy_path
    from agentgym.rewards import parse_reward_spec

    env_spec = gym.spec(config.env_id)
    policy_path(config.policy)
    env = gym.make(env_spec.id)
    task = getattr(env.unwrapped, "task_spec", None)
    text_actions = isinstance(env.action_space, gym.spaces.Text)
    env.close()
    if not text_actions:
        raise ValueError(
            f"--env {config.env_id!r}: --learner agent-ppo acts with text commands, and this "
            f"env's actions are {type(env.action_space).__name__}; pick a text, web or tool "
            "env (agentgym envs --family text)"
        )
    if config.reward != "env":
        parse_reward_spec("spa:" if config.reward == "spa" else config.reward, task)


def start_agent_run(
    *,
    values: dict[str, Any],
    rewards: Sequence[str] = (),
    out: str | Path | None = None,
    root: str | Path = "runs",
    overwrite: bool = False,
    argv: Sequence[str] | None = None,
    command: str = "train",
) -> Any:
    """Validate an agent-PPO request and write its run folder (before any training)."""
    from agentgym.runs.manifest import build_manifest, resolve_device
    from agentgym.runs.rundir import RunDir

    config = agent_config(values, rewards)
    check_agent_config(config)
    device = resolve_device(config.device)
    run_config = {
        "command": command,
        "learner": LEARNER,
        "env_id": config.env_id,
        "rewards": [config.reward],
        "seeds": [config.seed],
        "config": asdict(config),
    }
    run = RunDir.create(
        command=command,
        env_id=config.env_id,
        config=run_config,
        out=out,
        root=root,
        overwrite=overwrite,
    )
    run.write_manifest(
        build_manifest(
            command=command,
            seeds=[config.seed],
            device=device,
            argv=argv,
            extra={"learner": LEARNER, "policy": config.policy, "status": "created"},
        )
    )
    return run


def train_agent_run(
    run: Any,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    *,
    resume: bool = False,
    report: bool = True,
) -> dict[str, Any]:
    """Train (or resume) the agent-PPO run in ``run``; the manifest's status and the
    report follow ``runs.training.train_run``'s conventions."""
    from agentgym.learners.agent_ppo import AgentPPO, AgentPPOConfig
    from agentgym.runs.training import run_with_status

    spec = run.read_config()

    def train() -> dict[str, Any]:
        if resume:
            if not (run.checkpoints_dir / "latest.pt").is_file():
                raise FileNotFoundError(
                    f"--resume {run.path}: no checkpoints/latest.pt yet; start it "
                    "again with --overwrite"
                )
            agent = AgentPPO.resume(run.path)
        else:
            agent = AgentPPO(AgentPPOConfig(**spec["config"]), run_dir=run.path)
        try:
            return agent.learn(callback=callback)
        finally:
            agent.close()

    return run_with_status(run, train, resume=resume, report=report)
