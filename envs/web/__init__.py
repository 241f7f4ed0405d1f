"""Web and tool-use tasks: MiniWoB++ in Chromium, a WebShop-style shop, tool calls.

Every register() call of the family is here. Ids whose TaskSpec carries the tag
"browser" need Debian's chromium and chromium-driver (the registry sweep marks them
``browser``).
"""

from __future__ import annotations

from gymnasium.envs.registration import register

register(
    id="agentgym/Shop-v0",
    entry_point="agentgym.envs.web.shop.env:ShopEnv",
    max_episode_steps=50,
)
register(
    id="agentgym/Shop-Browser-v0",
    entry_point="agentgym.envs.web.shop.env:ShopBrowserEnv",
    max_episode_steps=50,
)

# MiniWoB++ in Chromium: one id per task, e.g. agentgym/MiniWoB-click-button-v0.
from agentgym.envs.web.miniwob.tasks import TASKS, class_name  # noqa: E402 (light module)

for _task in TASKS:
    register(
        id=f"agentgym/MiniWoB-{_task}-v0",
        entry_point=f"agentgym.envs.web.miniwob.env:{class_name(_task)}",
        max_episode_steps=10,
    )

# Tool use: questions answered with JSON function calls (ToolRL-style reward).
register(
    id="agentgym/Tools-v0", entry_point="agentgym.envs.web.tools.env:ToolsEnv", max_episode_steps=8
)
for _kind, _name in (
    ("calculator", "Calculator"),
    ("units", "Units"),
    ("kb", "KB"),
    ("sql", "SQL"),
    ("multi", "Multi"),
):
    register(
        id=f"agentgym/Tools-{_name}-v0",
        entry_point="agentgym.envs.web.tools.env:ToolsEnv",
        max_episode_steps=8,
        kwargs={"kinds": (_kind,)},
    )
