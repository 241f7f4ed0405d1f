"""BabyAI with text: levels whose observation describes the agent's view and whose actions
are commands (``env``), the words it understands and speaks (``language``), and the bot
that serves as its expert (``expert``). Registered in ``agentgym.envs.text``."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "BabyAIGoToEnv",
    "BabyAIGoToLocalEnv",
    "BabyAIOpenEnv",
    "BabyAIPickupEnv",
    "BabyAIPutNextEnv",
    "BabyAISynthSeqEnv",
    "BabyAITextEnv",
    "COMMANDS",
]
__getattr__, __dir__ = lazy_exports(
    __name__, {**{name: "env" for name in __all__ if name != "COMMANDS"}, "COMMANDS": "language"}
)
