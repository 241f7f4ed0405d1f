"""agentgym/Shop-v0 and agentgym/Shop-Browser-v0: buy what the instruction asks for.

## Description
A shop in the spirit of WebShop (Yao et al., 2022). A catalogue of 1,200 generated
products (``assets/shop/catalogue.json``: category, type, attributes, colour and size
options, price) is served as HTML by a real HTTP server on 127.0.0.1 that the env
starts on its first reset and stops on ``close()``. Each episode draws an instruction
such as "I am looking for a cotton t-shirt in red, size m, and price lower than 20.00
dollars" from a product of the catalogue. The agent searches, opens items, chooses
options and buys.

Text mode (``Shop-v0``) fetches the pages with urllib and parses their HTML; browser
mode (``Shop-Browser-v0``) drives Debian's Chromium with selenium (typing into the
search box, clicking links) and parses the HTML Chromium holds. Both observe the same
text.

## Action space
``Text``: WebShop's commands. ``search[red cotton t-shirt]`` on the search page;
``click[label]`` where label is a clickable shown as ``[label]`` on the page: a product
id (``p00123``), an option value (``red``, ``m``), ``buy now``, ``next >``, ``< prev``,
``back to search``. Case and surrounding spaces do not matter.

## Observation space
``Text``: the page as text: the instruction, then the page's content with every
clickable in brackets; after an invalid command, a line saying what was wrong.

## Rewards
WebShop's final reward at ``buy now`` (term ``purchase``): the product-type match
(1, 0.5 for another type of the same category, 0.1 otherwise) times the fraction of
wanted attributes, wanted options and the price bound that the purchase meets. 0 on
every other step. Its parts are in ``info["purchase"]``.

## Success
The purchase scores 1: right type, every wanted attribute and option, within budget.

## Episode end
Terminated at ``buy now``; truncated after 50 commands.

## Version history
- v0: first release.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from agentgym.envs.web.base import WebTaskEnv, unknown_name
from agentgym.envs.web.shop.catalogue import Goal, load_catalogue, reward
from agentgym.envs.web.shop.expert import ShopExpert
from agentgym.envs.web.shop.navigator import ChromiumNavigator, HttpNavigator, Navigator
from agentgym.envs.web.shop.page_text import ShopPage, parse_page
from agentgym.envs.web.shop.server import ShopServer
from agentgym.spec import StateVar, TaskSpec
from agentgym.text_env import TEXT_STATE, CommandResult, fit_text, text_space

log = logging.getLogger(__name__)

COMMAND = re.compile(r"^\s*(search|click)\s*\[(.*)\]\s*$", re.IGNORECASE | re.DOTALL)
MAX_OBS = 4096
PAGE_KINDS = ("search", "results", "item", "done")

SHOP_STATE = TEXT_STATE + (
    StateVar("page", (), "str", "-", "the kind of page shown: search, results, item or done"),
    StateVar("num_searches", (), "int64", "count", "searches made in this episode"),
    StateVar("items_viewed", (), "int64", "count", "product pages opened in this episode"),
    StateVar(
        "purchased", (), "bool", "-", "whether 'buy now' was clicked (not whether it was right)"
    ),
)


def _spec(name: str, tags: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name=name,
        instruction="Find and buy the product the shopper's instruction describes, with the "
        "wanted options, within the price bound.",
        success="The purchased product has the wanted type, every wanted attribute and option, "
        "and costs no more than the bound (WebShop reward == 1).",
        action_meaning="search[query] on the search page; click[label] for a clickable "
        "shown as [label] (product id, option value, buy now, next >, < prev, "
        "back to search).",
        family="web",
        tags=("shop", "webshop", "navigation", "search", *tags),
        state=SHOP_STATE,
    )


class ShopEnv(WebTaskEnv, EzPickle):
    __doc__ = __doc__
    task_spec: ClassVar[TaskSpec] = _spec("Shop", ("text",))
    reward_names = ("purchase",)
    browser: ClassVar[bool] = False

    def __init__(self, reward: Any = None, render_mode: str | None = None) -> None:
        EzPickle.__init__(self, reward=reward, render_mode=render_mode)
        super().__init__(reward=reward, render_mode=render_mode)
        self.observation_space = text_space(MAX_OBS)
        self.catalogue = load_catalogue()
        self._server: ShopServer | None = None
        self._nav: Navigator | None = None
        self._episode = 0
        self.goal: Goal | None = None
        self.page = ShopPage("search", "")
        self.html = ""  # the page's HTML as served, for clients that read it (AgentGym's /state)
        self.purchase: dict[str, float] | None = None
        self.num_searches = 0
        self.items_viewed = 0
        self._expert: ShopExpert | None = None

    # -- episode ------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._server is None:
            self._server = ShopServer(self.catalogue)
        if self._nav is None:
            self._nav = ChromiumNavigator() if self.browser else HttpNavigator()

    def _reset(self, *, seed, options):
        self._ensure_running()
        assert self._server is not None and self._nav is not None
        self.goal = self.catalogue.sample_goal(self.np_random)
        if self._episode:
            self._server.end_session(self._sid)
        self._episode += 1
        self._sid = f"e{self._episode}"
        self._begin_episode(self.goal.instruction)
        self.purchase = None
        self.num_searches = 0
        self.items_viewed = 0
        self._expert = ShopExpert(self.goal)
        url = self._server.new_session(self._sid, self.goal)
        try:
            html = self._nav.open(url)
        except Exception as err:
            if not self.browser:
                raise
            # A crashed or killed Chromium: start a fresh one rather than end the run.
            log.warning("shop: Chromium failed (%s); restarting it", str(err).splitlines()[0])
            self._nav.close()
            self._nav = ChromiumNavigator()
            html = self._nav.open(url)
        self.html, self.page = html, parse_page(html)
        return self._observe(self.page.text)

    # -- commands -----------------------------------------------------------------
    def _execute(self, command: str) -> CommandResult:
        assert self._nav is not None and self._server is not None
        m = COMMAND.match(self.raw_command)
        if m is None:
            return self._invalid(
                f"Invalid action {self.raw_command[:80]!r}: expected search[query] or click[label]."
            )
        verb, arg = m.group(1).lower(), " ".join(m.group(2).split())
        if self.page.kind == "done":
            return self._invalid("The purchase is complete; the episode has ended.")
        if verb == "search":
            if not self.page.has_search:
                return self._invalid(
                    "There is no search box on this page; click[back to search] first."
                )
            if not arg:
                return self._invalid("search[] needs a query, e.g. search[red cotton t-shirt].")
            self.num_searches += 1
            html = self._nav.search(f"{self._server.base_url}/{self._sid}/search", arg)
        else:
            label = arg.lower()
            if label not in self.page.links:
                return self._invalid(unknown_name("clickable", label, self.page.clickables))
            html = self._nav.click(label, self.page.links[label])
        self.html, self.page = html, parse_page(html)
        if self.page.kind == "item":
            self.items_viewed += 1
        if self.page.kind == "done":
            return self._finish()
        return CommandResult(self.page.text, True)

    def _invalid(self, message: str) -> CommandResult:
        return CommandResult(message, False)

    def _finish(self) -> CommandResult:
        assert self._server is not None and self.goal is not None
        bought = self._server.session(self._sid).purchase
        if bought is None:  # the done page without a recorded purchase is a server bug
            raise RuntimeError("shop: the confirmation page was served but no purchase recorded")
        product = self.catalogue.by_id[bought[0]]
        self.purchase = reward(self.goal, product, bought[1])
        return CommandResult(
            self.page.text, True, {"purchase": self.purchase["reward"]}, terminated=True
        )

    # -- observation --------------------------------------------------------------
    def _observe(self, feedback: str) -> tuple[str, dict[str, Any]]:
        # A valid command answers with the new page; anything else (an invalid or
        # malformed command) with its message above the unchanged page.
        text = (
            self.page.text
            if feedback in ("", self.page.text)
            else f"{feedback}\n\n{self.page.text}"
        )
        obs = fit_text(text, MAX_OBS)
        state = self.text_state(obs)
        state.update(
            {
                "page": self.page.kind,
                "num_searches": np.int64(self.num_searches),
                "items_viewed": np.int64(self.items_viewed),
                "purchased": self.purchase is not None,
            }
        )
        admissible = (
            []
            if self.page.kind == "done"
            else (["search[<query>]"] if self.page.has_search else [])
            + [f"click[{label}]" for label in self.page.clickables]
        )
        info: dict[str, Any] = {
            "reward_state": state,
            "success": bool(self.purchase is not None and self.purchase["reward"] >= 1.0 - 1e-9),
            "admissible_actions": admissible,
        }
        if self.purchase is not None:
            info["purchase"] = dict(self.purchase)
        return obs, info

    @property
    def url(self) -> str:
        """The address of the page shown ('' before the first reset)."""
        return self._nav.url if self._nav is not None else ""

    def expert_action(self) -> str:
        if self._expert is None:
            raise RuntimeError("ShopEnv.expert_action: call reset() first")
        item = re.search(r"/item/(P\d+)", self._nav.url if self._nav else "")
        return self._expert.act(self.page, item.group(1) if item else None)

    def close(self) -> None:
        if self._nav is not None:
            self._nav.close()
            self._nav = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        super().close()


class ShopBrowserEnv(ShopEnv):
    __doc__ = ShopEnv.__doc__
    task_spec: ClassVar[TaskSpec] = _spec("ShopBrowser", ("browser",))
    browser = True
