"""Parameter digests of a fixed, seeded PPO run and population run (behaviour checks).

A refactor that claims no behaviour change prints the same digests before and after:
``python scripts/param_digests.py``. Uses only the public import paths.
"""

from __future__ import annotations

import tempfile

from agentgym.learners import (
    PPO,
    PPOConfig,
    train_population,  # noqa: F401  (public path must import)
)


def main() -> None:
    base = PPOConfig(
        env_id="agentgym/Reach-v0",
        total_steps=4096,
        num_envs=4,
        num_steps=128,
        seed=3,
        device="cpu",
        eval_episodes=2,
        checkpoint_every=0,
    )
    with tempfile.TemporaryDirectory() as tmp:
        agent = PPO(base, run_dir=f"{tmp}/ppo")
        final = agent.learn()
        print("ppo", agent.parameters_digest(), f"return={final.get('episode_return')}")
        agent.close()
        from agentgym.learners import Population

        pop = Population(base, ["env", "sparse"], seeds=[3, 4], run_dirs=[f"{tmp}/m0", f"{tmp}/m1"])
        pop.learn_all()
        print("population", pop.parameters_digest(0), pop.parameters_digest(1))
        pop.close()


if __name__ == "__main__":
    main()
