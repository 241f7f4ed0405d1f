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
