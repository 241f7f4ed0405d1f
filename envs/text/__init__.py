"""Text games: BabyAI levels with text observations and commands, and a household text
world in the spirit of ALFWorld. Every register() call of the family is here.

Both keep the conventions of ``agentgym.text_env.TextTaskEnv`` (Text actions,
``info["action_valid"]``, ``info["admissible_actions"]``, ``expert_action()``).
"""

from __future__ import annotations

from gymnasium.envs.registration import register

# BabyAI levels: the minigrid level sets its own step limit (truncation), so no TimeLimit.
BABYAI_LEVELS = {
    "GoToLocal": "BabyAIGoToLocalEnv",
    "GoTo": "BabyAIGoToEnv",
    "Pickup": "BabyAIPickupEnv",
    "Open": "BabyAIOpenEnv",
    "PutNext": "BabyAIPutNextEnv",
    "Unlock": "BabyAIUnlockEnv",
    "SynthSeq": "BabyAISynthSeqEnv",
}
for _name, _cls in BABYAI_LEVELS.items():
    register(id=f"agentgym/BabyAI-{_name}-v0", entry_point=f"agentgym.envs.text.babyai.env:{_cls}")

# The household world: one id with the task type drawn from the seed, one per task type.
HOUSEHOLD_TASKS = {
    "": "HouseholdEnv",
    "PickPlace": "HouseholdPickPlaceEnv",
    "PickTwo": "HouseholdPickTwoEnv",
    "Clean": "HouseholdCleanEnv",
    "Heat": "HouseholdHeatEnv",
    "Cool": "HouseholdCoolEnv",
    "Examine": "HouseholdExamineEnv",
}
for _name, _cls in HOUSEHOLD_TASKS.items():
    register(
        id=f"agentgym/Household{'-' + _name if _name else ''}-v0",
        entry_point=f"agentgym.envs.text.household.env:{_cls}",
        max_episode_steps=80,
    )
