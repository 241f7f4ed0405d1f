"""The BabyAI expert's guard: minigrid's ``BabyAIBot`` with a bounded replan.

minigrid 3.2's bot can loop forever inside one ``replan`` (it re-plans fetching a key
without end; e.g. BabyAI-Unlock-v0 seed 63). ``bounded_replan`` abandons a replan after
``BOT_BFS_BUDGET`` searches by raising ``BotStuck``; the env's ``expert_action()`` then
explores for ``BOT_RECOVERY_STEPS`` steps and starts a fresh bot (``new_bot``).
"""

from __future__ import annotations

from typing import Any

BOT_BFS_BUDGET = 100
BOT_RECOVERY_STEPS = 4


class BotStuck(RuntimeError):
    """The BabyAI bot searched more than BOT_BFS_BUDGET times for one action."""


def new_bot(inner: Any) -> Any:
    """A fresh ``BabyAIBot`` planning from ``inner``'s current state (the unwrapped level)."""
    from minigrid.utils.baby_ai_bot import BabyAIBot

    return BabyAIBot(inner)


def bounded_replan(bot: Any, taken: int | None) -> int:
    """``bot.replan(taken)``, abandoned with BotStuck after BOT_BFS_BUDGET searches."""
    search = type(bot)._breadth_first_search
    calls = 0

    def bounded(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > BOT_BFS_BUDGET:
            raise BotStuck(f"more than {BOT_BFS_BUDGET} searches for one action")
        return search(bot, *args, **kwargs)

    bot._breadth_first_search = bounded  # the bot calls self._breadth_first_search
    try:
        return bot.replan(taken)
    finally:
        del bot._breadth_first_search
