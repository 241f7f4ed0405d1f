"""Training presets of the robotics tasks (``agentgym.presets``): the learner, its settings
and the budget under which each task's human reward succeeds on a 2-core CPU.

Where the numbers came from is in each ``source``; what they reached is in ``measured``
(seeds, success, wall time, the machine). ``scripts/preset_table.py`` retrains sparse and
human rewards under every preset on 3 seeds and writes docs/presets.md.
"""

from __future__ import annotations

from agentgym.presets import Preset, register_preset

MACHINE = "AMD EPYC, 2 cores, shared with other jobs (load 2-8)"
MACHINE_XEON = "Intel Xeon, 2 cores, two runs side by side (load ~2)"
"""The dev machine of 2026-12-05's evening session (the same size, another CPU)."""
MACHINE_XEON_IDLE = "Intel Xeon, 2 cores, idle (load < 1)"

register_preset(
    Preset(
        env_id="agentgym/Reach-v0",
        learner="sac",
        steps=100_000,
        config={"gamma": 0.9, "num_envs": 4, "hidden_sizes": (128, 128), "learning_rate": 1e-3},
        search_steps=30_000,
        source=(
            "2026-12-04. PPO: optuna TPE over 35 trials of 9 PPOConfig fields "
            "(agentgym.presets.tune, 2 seeds, 100k steps) peaked at 55% success, so the task "
            "moved to SAC. SAC, gamma 0.9, 4 envs: 256-256 networks at lr 3e-4 reached 100% "
            "at 100k (seed 0) in 358 s; 13 optuna TPE trials over SACConfig at 30k steps "
            "(agentgym.presets.tune --learner sac, 2 seeds) peaked at 45% (4 envs, 128-128, "
            "lr 1e-3, gamma 0.95); then hand variants at 100k, 20 eval episodes, under load: "
            "8 envs 64-64 lr 1e-3 (65%, 85%), with 2 gradient steps (90%, 90%, 85%), 8 envs "
            "128-128 lr 3e-4 (35%), and 4 envs 128-128 lr 1e-3 (100%, 100%, 95%; 65% at 30k "
            "and 90% at 50k steps, seed 0), kept: 3x cheaper than 256-256."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 0.98,
            "wall_s": 111,
            "machine": MACHINE,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/CartPole-v0",
        learner="ppo",
        steps=100_000,
        config={
            "num_envs": 8,
            "num_steps": 32,
            "num_minibatches": 1,
            "learning_rate": 1e-3,
            "gamma": 0.98,
            "gae_lambda": 0.8,
            "update_epochs": 20,
            "norm_obs": False,
            "norm_reward": False,
        },
        source=(
            "2026-12-05: rl-baselines3-zoo's CartPole-v1 PPO settings (8 envs x 32 steps, one "
            "minibatch of 256, 20 epochs, gamma 0.98, gae_lambda 0.8, lr 1e-3 annealed, no "
            "normalisation). The earlier optuna preset (12 TPE trials on seeds 0-1) reached "
            "1.00, 0.50, 0.00 on seeds 0-2 when retrained (scripts/preset_table.py); with "
            "reward normalisation on, the zoo settings reached 0.10, 0.50, 0.00."
        ),
        measured={
            "seeds": [0, 1, 2, 3, 4],
            "human_success": 1.0,
            "wall_s": 60,
            "machine": MACHINE,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/MountainCar-v0",
        learner="ppo",
        steps=500_000,
        config={
            "num_envs": 16,
            "num_steps": 16,
            "num_minibatches": 4,
            "gamma": 0.99,
            "gae_lambda": 0.98,
            "update_epochs": 4,
        },
        search_steps=200_000,
        source="2026-12-04, rl-baselines3-zoo's MountainCar-v0 PPO settings (n_envs 16, "
        "n_steps 16, gae_lambda 0.98, 4 epochs, normalised observations), one run at 500k",
        # Wall time of one seed (2026-12-04); docs/presets.md: 1.00 on seeds 0-2, 70 s for
        # the three together (scripts/preset_table.py, 2026-12-05).
        measured={"seeds": [0, 1, 2], "human_success": 1.0, "wall_s": 60, "machine": MACHINE},
    )
)

METAWORLD_SAC = {
    "num_envs": 4,
    "hidden_sizes": (128, 128),
    "learning_rate": 1e-3,
    "gradient_steps": 2,
    "learning_starts": 2_000,
    "compile": True,
}
"""SAC on MetaWorld: 4 envs and 2 gradient steps per vector step (one per 2 env steps),
128-128 networks at lr 1e-3, 2k random steps first, the compiled gradient step. The
learner, not the env, is the cost (4.6k env steps/s against ~300 SAC steps/s here), so the
networks are half SB3's width."""

LOCOMOTION_SAC = {**METAWORLD_SAC, "learning_starts": 5_000, "critic_layer_norm": True}
"""SAC on the planar locomotion tasks: MetaWorld's setting (4 envs, one gradient step per 2
env steps, 128-128 at lr 1e-3, the compiled step) with layer norm in the critics, 5k random
steps first and the default target entropy -dim(A). Sample-efficient where the PPO
throughput presets were not: on HalfCheetah 3,480 at 50k and 6,320 at 300k (seed 0), where
PPO at 64 envs reached 881 at 300k."""

LOCOMOTION_SAC_STEADY = {**LOCOMOTION_SAC, "learning_rate": 3e-4}
"""The locomotion setting at SB3's and CleanRL's learning rate: on Hopper (seeds 0-2, 400k)
it returned 725, 549, 3,189 where lr 1e-3 returned 529, 642, 471."""

register_preset(
    Preset(
        env_id="agentgym/HalfCheetah-v0",
        learner="sac",
        steps=500_000,
        config=LOCOMOTION_SAC,
        search_steps=50_000,
        source=(
            "2026-12-05, one run by hand, not a search: MetaWorld's SAC setting with critic "
            "layer norm (LOCOMOTION_SAC), seed 0 alone for 400k steps beside another run "
            "(Intel Xeon), evaluation every 50k over 5 episodes: Gymnasium return 3,480, "
            "4,135, 4,676, 5,152, 5,835, 6,321 at 50k-300k, 468 s of training for 300k. "
            "300k passes rl-baselines3-zoo's PPO at 1M (5,800); search 50k. Seeds 0-2 at "
            "400k (scripts/preset_table.py, beside another run): 5,386, 4,888, 5,949 (0.93x "
            "rl-zoo's 5,800) where 300k gave 5,122, 4,425, 5,214 (0.85x). 2026-12-06: seeds "
            "0-2 at 500k, evaluated every 50k: 5,974, 5,195, 6,274 (mean 5,814, 1.00x "
            "rl-zoo's PPO at 1M; at 450k 5,824, 5,127, 6,011, 0.98x), so the budget is 500k, "
            "the least that reaches the published return; search 50k (the ranking needs "
            "signal, not the final return)."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # 3 m/s over 2 s, each seed (scripts/preset_table.py)
            "human_return": 5814,  # per seed 5,974, 5,195, 6,274: 1.00x SB3 zoo, 4.0x CleanRL
            "wall_s": 2470,  # the 3 seeds together in one process, beside two other jobs
            "lone_wall_s": 468,  # seed 0 alone for 300k (training), beside another run
            "machine": MACHINE_XEON,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/HalfCheetah-v0",
        learner="ppo",
        steps=300_000,
        config={
            "vectorization": "native",
            "num_envs": 128,
            "num_steps": 16,
            "num_minibatches": 4,
            "update_epochs": 5,
            "learning_rate": 3e-3,
            "torch_threads": 1,
            "compile": True,
        },
        source=(
            "2026-12-06, chosen among 12 settings x seeds 0-2 at 300k steps "
            "(scripts/preset_curves.py --candidate and the same train(); idle Intel Xeon): "
            "the native vector env at 128 envs x 16 steps, the compiled update and policy "
            "step, 2048-sample rollouts in minibatches of 512 for 5 epochs at lr 3e-3 "
            "(annealed); otherwise PPOConfig defaults. Mean late return (last 20% of steps) "
            "over the seeds, and steps/s: this 1,163 (848, 1,909, 731) at ~40-43k; the same "
            "at lr 2e-3 790 (773, 735, 863); 64 envs x 32 steps at lr 2e-3 922 (1,016, 776, "
            "974) at ~37k, 0.48 of the ceiling; SB3's settings 632-708; the 12-04 preset (64 "
            "x 32, minibatch 256, 10 epochs, lr 3e-4) 534-603 at ~28k; it at lr 1e-3 1,395, at "
            "lr 6e-4 942; 64 x 32 in minibatches of 512 x 10 epochs at lr 1e-3 1,105 at "
            "~31k; 128 x 32 in 8 minibatches of 512 x 5 at lr 2e-3 542; 64 x 64 in "
            "minibatches of 1,024 x 4 epochs at lr 2e-3 409. The learning rate, not the "
            "minibatch count, held the 12-04 preset back; 128 envs spread the collector's "
            "per-vector-step Python over twice the env steps. Curves: "
            "bench/results/half_cheetah_curves.md. The env's default preset is SAC since "
            "2026-12-05 (LOCOMOTION_SAC); this one is taken with --learner ppo and is the "
            "throughput case of bench/bench_ppo.py."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 0.0,  # 3 m/s over 2 s: neither this nor SB3's settings, at 300k
            "late_return": 1163,  # mean episode return over the last 60k of 300k steps
            "sb3_settings_late_return": 632,
            "steps_per_s": 40400,  # training alone (compile paid before), idle machine
            "machine": MACHINE_XEON_IDLE,
        },
    ),
    default=False,
)

# Walker2d takes HalfCheetah's throughput settings: a planar MuJoCo robot like it, behind
# the same native vector env, so the same rollout and update shapes.
PLANAR_THROUGHPUT = {
    "vectorization": "native",
    "num_envs": 64,
    "num_steps": 32,
    "num_minibatches": 8,
    "update_epochs": 10,
    "torch_threads": 1,
    "compile": True,
}

CLEANRL_PPO = {"num_envs": 1, "num_steps": 2048, "num_minibatches": 32, "compile": True}
"""CleanRL's ppo_continuous_action defaults: one env, 2048-step rollouts in 32 minibatches
of 64 for 10 epochs, lr 3e-4 annealed, observation and reward normalisation, 64-64 tanh
(the rest are PPOConfig's defaults, which are CleanRL's), with the compiled update."""

register_preset(
    Preset(
        env_id="agentgym/Hopper-v0",
        learner="ppo",
        steps=1_000_000,
        config=CLEANRL_PPO,
        search_steps=250_000,
        source=(
            "2026-12-05, CleanRL's PPO defaults (CLEANRL_PPO), not a search. `agentgym "
            "reward eval` of the human program on seeds 0-2 for 1M (one population process, "
            "evaluation every 250k over 10 episodes, beside another run, Intel Xeon): "
            "Gymnasium return 3,275, 1,050, 3,270 at 250k; 3,279, 3,441, 3,407 at 500k; "
            "3,279, 3,549, 3,403 at 750k; 3,219, 2,755, 3,377 at 1M (success 1.00 on each seed "
            "at every evaluation; 1,478 s for the three to 1M), so the budget is 1M, "
            "search 250k. The learning rate anneals to 0 over the budget: under a 500k "
            "preset the same seeds returned 1,376, 1,101, 1,432 at 500k (success 1.00 each). "
            "Before it: SAC (LOCOMOTION_SAC_STEADY, --learner sac) returned 725, 549, 3,189 at 400k; HalfCheetah's PPO throughput "
            "settings (64 envs x 32 steps) 344-361 at 200k and 381-452 at 1M."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # 1 m/s over 2 s on each seed; sparse 0.00 on each
            "human_return": 3117,  # per seed 3,219, 2,755, 3,377: 1.30x SB3 zoo, 1.31x CleanRL
            "wall_s": 1478,  # the 3 seeds together in one process, beside another run
            "lone_wall_s": 205,  # seed 1 alone under a 500k budget (3,268), beside another run
            "machine": MACHINE_XEON,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/Hopper-v0",
        learner="sac",
        steps=400_000,
        config=LOCOMOTION_SAC_STEADY,
        search_steps=100_000,
        source=(
            "2026-12-05, HalfCheetah's SAC setting, not a search. LOCOMOTION_SAC (lr 1e-3), "
            "seed 0 alone for 300k beside another run (Intel Xeon), evaluation every 50k over "
            "5 episodes: Gymnasium return 272, 336, 631, 284, 1,049, 2,330 at 50k-300k (458 "
            "s), so the budget is 400k; but seeds 0-2 in one process (scripts/preset_table.py) "
            "returned 529, 642 and 471 at 400k. At lr 3e-4 (LOCOMOTION_SAC_STEADY) the same "
            "table gave 725, 549 and 3,189 (success 0, 0, 1): short of the published returns "
            "on two seeds of three. The env's default preset is PPO since 2026-12-05."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 0.33,  # 1 m/s over 2 s on seed 2 only, at 400k
            "human_return": 1488,  # per seed 725, 549, 3,189: 0.62x SB3 zoo, 0.63x CleanRL
            "wall_s": 1559,  # the 3 seeds together in one process, beside another run
            "machine": MACHINE_XEON,
        },
    ),
    default=False,
)

register_preset(
    Preset(
        env_id="agentgym/Walker2d-v0",
        learner="ppo",
        steps=1_000_000,
        config=PLANAR_THROUGHPUT,
        search_steps=250_000,
        source=(
            "2026-12-05, HalfCheetah's PPO throughput settings, not a search. At 200k (the "
            "budget until then) seeds 0-2 returned 682, 450, 920 (AMD EPYC, load ~10). "
            "Seed 0 for 2M beside another run (Intel Xeon, 4 min 21 s in all), evaluation "
            "every 250k over 5 episodes: 2,420, 2,010, 3,870, 4,760, 4,360, 5,240 at "
            "250k-1.5M (3,660 and 4,180 at 1.75M and 2M), so the budget is 1M (past CleanRL's 2,290 and rl-baselines3-zoo's "
            "3,500 at 1M on that seed), search 250k. SAC at HalfCheetah's setting "
            "(LOCOMOTION_SAC) reached 350-681 through 300k on seed 0."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # 1 m/s over 2 s, on each seed (scripts/preset_table.py)
            "human_return": 3775,  # per seed 3,590, 2,803, 4,932: 1.08x SB3 zoo, 1.65x CleanRL
            "wall_s": 326,  # the 3 seeds together in one process, beside another run
            "machine": MACHINE_XEON,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/FetchReach-v0",
        learner="sac",
        steps=40_000,
        config={"gamma": 0.95, "num_envs": 4, "hidden_sizes": (128, 128), "learning_rate": 1e-3},
        search_steps=15_000,
        source=(
            "2026-12-05, Reach's SAC settings with gamma 0.95 (50-step episodes), not a "
            "search: one run of the human program (seed 0, load ~7) reached 20% evaluation "
            "success at 15k steps and 75% at 20k, so the budget is twice that."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 0.83,  # per seed 1.00, 0.50, 1.00; sparse 0.00 on all three
            "wall_s": 364,  # the 3 seeds together, load average ~10
            "machine": MACHINE,
        },
    )
)

METAWORLD_SCREENING = (
    "2026-12-05, one setting for every MetaWorld task, not a search per task: each task's "
    "human reward trained once (seed 0, 100k-150k steps, evaluation every 25k steps over "
    "10 episodes, load 5-7 from other jobs, ~90 steps/s)"
)

register_preset(
    Preset(
        env_id="agentgym/MetaWorld-DrawerClose-v0",
        learner="sac",
        steps=60_000,
        config=METAWORLD_SAC,
        search_steps=30_000,
        source=(
            f"{METAWORLD_SCREENING}: 60% success at 25k, 100% at 50k and 75k, so the budget "
            "is 60k (search 30k)."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # per seed 1.00, 1.00, 1.00 (compiled step, any-step success)
            "wall_s": 364,  # the 3 seeds together in one process, load ~2
            "machine": MACHINE,
        },
    )
)

METAWORLD_SAC_STEADY = {**METAWORLD_SAC, "learning_rate": 3e-4}
"""The MetaWorld setting at SB3's and CleanRL's learning rate: on Reach, lr 1e-3 collapsed
on one of three seeds (0.35 at 25k, 0.00 from 125k), 3e-4 rose steadily on all three."""

register_preset(
    Preset(
        env_id="agentgym/MetaWorld-Reach-v0",
        learner="sac",
        steps=125_000,
        config=METAWORLD_SAC_STEADY,
        search_steps=60_000,
        source=(
            "2026-12-05, success counted as MetaWorld counts it (any step of the episode). "
            "`agentgym reward eval` of the human program on seeds 0-2 (one population "
            "process, 20 evaluation episodes every 25k): at lr 1e-3 (METAWORLD_SAC) 0.00, "
            "0.85, 0.85 at 150k (seed 0 never above 0.35); at lr 3e-4 0.90, 0.80, 1.00 at "
            "100k and 1.00, 0.85, 0.95 at 125k, so 125k at 3e-4. Past the budget it is not "
            "steady: 0.50, 0.70, 1.00 at 150k."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # scripts/preset_table.py: 1.00 on each (10 episodes)
            "wall_s": 694,  # the 3 seeds together in one process, load ~2
            "machine": MACHINE,
        },
    )
)

METAWORLD_SAC_EXPLORE = {**METAWORLD_SAC, "target_entropy": 0.0}
"""The MetaWorld setting with target entropy 0 instead of -dim(A) = -4: on WindowClose the
default's entropy fell to -4 by 40k steps and the policy never closed the window (0 at 100k
at lr 1e-3 and 3e-4); with target 0 it reached 0.70 at 75k and 1.00 at 100k."""

METAWORLD_SAC_LN = {**METAWORLD_SAC_EXPLORE, "critic_layer_norm": True}
"""The exploring MetaWorld setting with layer norm in the critics (``critic_layer_norm``):
WindowClose on seeds 0-2 went from 0.50, 0.10, 0.00 at 150k without it to 1.00 on each at
50k and 100k with it."""

register_preset(
    Preset(
        env_id="agentgym/MetaWorld-WindowOpen-v0",
        learner="sac",
        steps=125_000,
        config=METAWORLD_SAC_LN,
        search_steps=60_000,
        source=(
            "2026-12-05, success counted at any step of the episode. METAWORLD_SAC: seeds 1 "
            "and 2 alone reached 0.95 and 0.90 at 150k, but seeds 0-2 in one process 0.60, "
            "0.60, 0.90; at lr 3e-4 with target entropy 0, 0.00, 0.15, 0.40 at 150k. With "
            "METAWORLD_SAC_LN, `agentgym reward eval` on seeds 0-2 (20 evaluation episodes "
            "every 25k) reached 1.00, 1.00, 0.95 at 100k, 0.95, 1.00, 1.00 at 125k and 1.00 "
            "on each at 150k (seed 2 dipped to 0.10 at 75k), so the budget is 125k."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # per seed 1.00, 1.00, 1.00 (10 episodes)
            "wall_s": 766,  # the 3 seeds together in one process, beside another run
            "machine": MACHINE_XEON,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/MetaWorld-WindowClose-v0",
        learner="sac",
        steps=75_000,
        config=METAWORLD_SAC_LN,
        search_steps=40_000,
        source=(
            "2026-12-05, success counted at any step of the episode. METAWORLD_SAC reached 0 "
            "at 100k (lr 1e-3 and 3e-4, seed 0); with target entropy 0 (METAWORLD_SAC_EXPLORE) "
            "seed 0 reached 1.00 at 100k alone, but seeds 0-2 in one process reached 0.50, "
            "0.10, 0.00 at 150k. With layer norm in the critics as well (METAWORLD_SAC_LN), "
            "`agentgym reward eval` on seeds 0-2 (20 evaluation episodes every 50k) reached "
            "1.00, 1.00, 1.00 at 50k (fitness 0.96, 0.96, 0.87) and 1.00 on each at 100k "
            "(fitness 1.00), so the budget is 75k (search 40k)."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 1.0,  # per seed 1.00, 1.00, 1.00 (10 episodes; 1.00 each at 50k)
            "wall_s": 440,  # the 3 seeds together in one process, beside another run
            "machine": MACHINE_XEON,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/MetaWorld-DoorOpen-v0",
        learner="sac",
        steps=350_000,
        config=METAWORLD_SAC_LN,
        search_steps=150_000,
        source=(
            "2026-12-05, success counted at any step of the episode. METAWORLD_SAC and "
            "METAWORLD_SAC_EXPLORE reached 0 through 100k and 150k (seed 0). With "
            "METAWORLD_SAC_LN, `agentgym reward eval` on seeds 0-2 (20 evaluation episodes "
            "every 25k) reached 0.05, 0.00, 0.15 at 125k and 0.80, 0.45, 0.00 at 150k while "
            "the fitness (door angle) rose on each seed, so the budget is 300k. Retrained by "
            "scripts/preset_table.py (seeds 0-2 in one process, 10 episodes every 50k): 0.00, "
            "0.00, 0.00 at 100k; 0.80, 0.30, 0.00 at 150k; 0.60, 1.00, 0.40 at 200k; 1.00 on "
            "each at 250k and at 300k. One seed alone (`agentgym train`, the preset, two "
            "runs side by side) took 638-678 s and reached 0.00 (seed 0), 1.00 (seed 1) and "
            "0.80 (seed 2): the compiled kernels differ between a lone run and a population, "
            "so these are fresh samples, and over the six runs the mean is 0.80. A lone run "
            "replays exactly whatever its evaluation schedule (seed 0 at 300k: fitness 0.496 "
            "in both of its runs), so lone runs evaluated every 25k or 50k showed each seed's "
            "curve: seed 0 0.00 at 300k, 0.50 at 325k, 1.00 at 350k and 400k; seed 1 1.00 "
            "from 250k to 400k; seed 2 0.80 at 300k, 1.00 at 325k, 350k and 400k. So the "
            "budget is 350k: seed 1 trained alone under the preset, beside another run, "
            "took 13 min 45 s (825 s) and reached 1.00. Retrained at 350k by "
            "scripts/preset_table.py: 1.00 on each seed from 250k to 350k."
        ),
        measured={
            "seeds": [0, 1, 2],
            # scripts/preset_table.py at 350k: 1.00 on each (10 episodes; 1.00 each from 250k)
            "human_success": 1.0,
            "wall_s": 2162,  # the 3 seeds together in one process, beside another run
            # seeds 0-2, each alone under the preset at 350k (seed 1's wall: the preset as is)
            "lone_runs": {"success": [1.0, 1.0, 1.0], "wall_s": [None, 825, None]},
            "machine": MACHINE_XEON,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/MetaWorld-ButtonPress-v0",
        learner="sac",
        steps=100_000,
        config=METAWORLD_SAC_EXPLORE,
        search_steps=50_000,
        source=(
            "2026-12-05, success counted at any step of the episode. METAWORLD_SAC reached "
            "0.45, 0.30, 0.15, 0.45 at 25k-100k (seed 0); at lr 3e-4 seeds 0-2 rose and fell "
            "(seed 1: 1.00 at 50k, 0.00 at 100k and 125k); with target entropy 0 seed 0 "
            "reached 1.00 at every evaluation from 50k to 150k (20 episodes each). Retrained "
            "by scripts/preset_table.py on seeds 0-2: 1.00, 1.00, 0.70."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 0.9,  # per seed 1.00, 1.00, 0.70 (10 episodes)
            "wall_s": 567,  # the 3 seeds together in one process, load ~2.2
            "machine": MACHINE,
        },
    )
)

register_preset(
    Preset(
        env_id="agentgym/Ant-v0",
        learner="sac",
        steps=300_000,
        config=LOCOMOTION_SAC,
        search_steps=50_000,
        source=(
            "2026-12-05, HalfCheetah's SAC setting (LOCOMOTION_SAC) at HalfCheetah's budget, "
            "not a search. scripts/preset_table.py (seeds 0-2 in one process, 10 episodes "
            "every 50k): success 0.30, 0.00, 0.60 at 50k and 0.60, 0.50, 0.80 at 300k, "
            "Gymnasium return 857, 959, 1,566: it walks, not yet robustly. Walker2d's PPO "
            "throughput settings (64 envs x 32 steps) returned 317-459 at 500k (success "
            "0.30, 0.00, 0.10; stopped there)."
        ),
        measured={
            "seeds": [0, 1, 2],
            "human_success": 0.63,  # per seed 0.60, 0.50, 0.80 (1 m/s over 2 s)
            "human_return": 1127,  # per seed 857, 959, 1,566
            "wall_s": 1868,  # the 3 seeds together in one process, beside another run
            "machine": MACHINE_XEON,
        },
    )
)


# Tasks that no setting tried here solves within 15 minutes a seed. Each still gets a
# preset, so that every entry point trains it the same way and docs/presets.md has its
# row: the learner its family learns with elsewhere, at a screening budget, and in
# ``measured`` what sparse and human reached over 3 seeds (0 where nothing was learned).
SCREENING = "2026-12-05, a screening budget, not a search and not a solved task"


def _screened(human: list[float], fitness: list[float], wall_s: int) -> dict[str, object]:
    """``measured`` of a MetaWorld screening preset (scripts/preset_table.py, seeds 0-2 in
    one process beside another run, Intel Xeon): the human reward's success and task
    fitness per seed; the sparse reward reached 0.00 on every seed of all five tasks."""
    return {
        "seeds": [0, 1, 2],
        "human_success": round(sum(human) / len(human), 2),
        "human_success_per_seed": human,
        "human_fitness_per_seed": fitness,
        "sparse_success": 0.0,
        "wall_s": wall_s,
        "machine": MACHINE_XEON,
    }


METAWORLD_SCREENED: dict[str, tuple[str, dict[str, object]]] = {
    # task: (what else was tried, what the human reward reached under the preset)
    "DrawerOpen": (
        "Longer runs (docs/envs-robotics.md): 0 through 200k with METAWORLD_SAC; with "
        "METAWORLD_SAC_LN 0 through 125k on each seed, and in a 300k run seed 1 reached 1.00 "
        "at 150k and 200k while seeds 0 and 2 stayed at 0 (the gripper parks at the handle).",
        _screened([0.0, 0.0, 0.0], [0.13, 0.19, 0.13], 585),
    ),
    "LeverPull": (
        "Longer runs (docs/envs-robotics.md): at most 0.05 through 150k with target entropy "
        "0 (seed 0); with METAWORLD_SAC_LN 0 through 75k on each seed, lever fitness flat.",
        _screened([0.0, 0.0, 0.0], [0.07, 0.07, 0.08], 594),
    ),
    "Push": (
        "Longer runs (docs/envs-robotics.md): with METAWORLD_SAC_LN 0 through 75k on each "
        "seed (0.05 once), stopped at 92k.",
        _screened([0.1, 0.0, 0.0], [0.12, 0.14, 0.19], 725),
    ),
    "PickPlace": (
        "Not run before this preset.",
        _screened([0.0, 0.0, 0.0], [0.14, 0.12, 0.14], 722),
    ),
    # Measured beside two other jobs (a CI run as well).
    "PegInsertSide": (
        "Not run before this preset.",
        _screened([0.0, 0.0, 0.0], [0.11, 0.08, 0.10], 917),
    ),
}
"""The MetaWorld tasks without a solving preset: what was tried and what they reached."""

for _task, (_tried, _measured) in METAWORLD_SCREENED.items():
    register_preset(
        Preset(
            env_id=f"agentgym/MetaWorld-{_task}-v0",
            learner="sac",
            steps=100_000,
            config=METAWORLD_SAC_LN,
            search_steps=50_000,
            source=f"{SCREENING}: the setting of WindowOpen, WindowClose and DoorOpen. {_tried}",
            measured=_measured,
        )
    )

# Humanoid, the goal-conditioned Fetch tasks and the dexterous hands: one screening
# setting per family, so that every task with a human reward has a preset and a row in
# docs/presets.md. Budgets sized for this machine, not for the tasks (HER, demonstrations
# and millions of steps are what the literature solves them with).
FETCH_SAC = {**METAWORLD_SAC, "gamma": 0.95}
"""SAC on Fetch Push, Slide and PickAndPlace: MetaWorld's setting at FetchReach's gamma
(50-step episodes)."""

HAND_PPO = {
    "num_envs": 16,
    "num_steps": 64,
    "num_minibatches": 4,
    "update_epochs": 10,
    "torch_threads": 1,
    "compile": True,
}
"""PPO on the Adroit and Shadow hands: 16 envs x 64 steps, 4 minibatches of 256 for 10
epochs, one torch thread, the compiled update (the envs, 700-2,500 steps/s here, are the
cost; SAC's one gradient step per two env steps would be slower still)."""

SCREENED_2026_12_06 = "2026-12-06, a screening budget, not a search and not a solved task"


def _measured(
    human: list[float], fitness: list[float], sparse: list[float], wall_s: int, sparse_wall_s: int
) -> dict[str, object]:
    """What ``scripts/preset_table.py`` measured under a screening preset (seeds 0-2 in one
    process beside another run, Intel Xeon): the human reward's success and task fitness
    per seed, the sparse reward's success per seed, each reward's wall time."""
    return {
        "seeds": [0, 1, 2],
        "human_success": round(sum(human) / len(human), 2),
        "human_success_per_seed": human,
        "human_fitness_per_seed": fitness,
        "sparse_success": round(sum(sparse) / len(sparse), 2),
        "sparse_success_per_seed": sparse,
        "wall_s": wall_s,
        "sparse_wall_s": sparse_wall_s,
        "machine": MACHINE_XEON,
    }


SCREENING_FAMILIES: dict[str, tuple[str, int, dict[str, object]]] = {
    # family: (learner, steps, config); search at half the steps
    "fetch": ("sac", 50_000, FETCH_SAC),
    "adroit": ("ppo", 150_000, HAND_PPO),
    "shadow": ("ppo", 50_000, HAND_PPO),
    "humanoid": ("sac", 100_000, LOCOMOTION_SAC),
}

SCREENED: dict[str, tuple[str, dict[str, object]]] = {
    "agentgym/Humanoid-v0": (
        "humanoid",
        _measured([0.0, 0.0, 0.0], [-0.07, 0.53, 0.35], [0.0, 0.0, 0.0], 1932, 1896),
    ),
    "agentgym/FetchPush-v0": (
        "fetch",
        _measured([0.0, 0.0, 0.0], [-0.22, -0.23, -0.31], [0.0, 0.0, 0.0], 484, 476),
    ),
    "agentgym/FetchSlide-v0": (
        "fetch",
        _measured([0.0, 0.0, 0.0], [-0.39, -0.42, -0.40], [0.0, 0.0, 0.0], 476, 479),
    ),
    "agentgym/FetchPickAndPlace-v0": (
        "fetch",
        _measured([0.0, 0.0, 0.0], [-0.27, -0.25, -0.25], [0.0, 0.0, 0.0], 507, 512),
    ),
    "agentgym/AdroitHandDoor-v0": (
        "adroit",
        _measured([0.0, 0.0, 0.0], [0.01, 0.01, 0.01], [0.0, 0.0, 0.0], 319, 320),
    ),
    "agentgym/AdroitHandHammer-v0": (
        "adroit",
        _measured([0.0, 0.0, 0.0], [-0.09, -0.09, -0.09], [0.0, 0.0, 0.0], 409, 394),
    ),
    "agentgym/AdroitHandPen-v0": (
        "adroit",
        _measured([0.0, 0.0, 0.0], [0.30, 0.35, 0.38], [0.0, 0.0, 0.0], 360, 355),
    ),
    "agentgym/AdroitHandRelocate-v0": (
        "adroit",
        _measured([0.0, 0.0, 0.0], [-0.34, -0.34, -0.35], [0.0, 0.0, 0.0], 328, 323),
    ),
    "agentgym/HandManipulateBlock-v0": (
        "shadow",
        _measured([0.0, 0.0, 0.0], [-2.51, -2.53, -2.55], [0.0, 0.0, 0.0], 301, 300),
    ),
    "agentgym/HandManipulateEgg-v0": (
        "shadow",
        _measured([0.0, 0.0, 0.0], [-2.48, -2.53, -2.61], [0.0, 0.0, 0.0], 303, 302),
    ),
    "agentgym/HandManipulatePen-v0": (
        "shadow",
        _measured([0.0, 0.0, 0.0], [-1.63, -1.48, -1.43], [0.0, 0.0, 0.0], 330, 323),
    ),
}
"""Humanoid, Fetch and the hands under their screening presets."""

for _env_id, (_family, _result) in SCREENED.items():
    _learner, _steps, _config = SCREENING_FAMILIES[_family]
    register_preset(
        Preset(
            env_id=_env_id,
            learner=_learner,
            steps=_steps,
            config=_config,
            search_steps=_steps // 2,
            source=(
                f"{SCREENED_2026_12_06}: one setting per family (LOCOMOTION_SAC, FETCH_SAC, "
                "HAND_PPO), sized for this machine's 15 minutes, not for the task."
            ),
            measured=_result,
        )
    )
