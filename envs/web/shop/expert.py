"""The shop's scripted shopper: reads the instruction and the page, like a person would.

Search for the wanted attributes and product type; on the results, open the first
product of the right type within budget that it has not ruled out; on an item page,
check the features, price and options, go back if one is missing, else choose the
options and buy. If the results run out, it searches again with the type alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agentgym.envs.web.shop.catalogue import Goal, tokens
from agentgym.envs.web.shop.page_text import ShopPage

RESULT_LINE = re.compile(r"^\[(p\d+)\]\s+(.*?)\s+\$(\d+(?:\.\d+)?)$", re.MULTILINE)
MAX_RESULT_PAGES = 5


@dataclass
class ShopExpert:
    goal: Goal
    rejected: set[str] = field(default_factory=set)
    query_index: int = 0

    @property
    def queries(self) -> list[str]:
        return [" ".join([*self.goal.attributes, self.goal.product_type]), self.goal.product_type]

    def _fits_title(self, title: str) -> bool:
        return set(tokens(self.goal.product_type)) <= set(tokens(title))

    def act(self, page: ShopPage, item_id: str | None) -> str:
        if page.kind == "search":
            return f"search[{self.queries[min(self.query_index, len(self.queries) - 1)]}]"
        if page.kind == "results":
            for pid, title, price in RESULT_LINE.findall(page.text):
                if (
                    pid not in self.rejected
                    and float(price) <= self.goal.price_upper
                    and self._fits_title(title)
                ):
                    return f"click[{pid}]"
            if "next >" in page.links and self._result_page(page) < MAX_RESULT_PAGES:
                return "click[next >]"
            self.query_index += 1
            return "click[back to search]"
        if page.kind == "item":
            if not self._item_fits(page):
                if item_id:
                    self.rejected.add(item_id.lower())
                return "click[< prev]"
            for value in self.goal.options.values():
                if value.lower() not in page.selected:
                    return f"click[{value.lower()}]"
            return "click[buy now]"
        return "click[back to search]"

    @staticmethod
    def _result_page(page: ShopPage) -> int:
        m = re.search(r"Page (\d+) of", page.text)
        return int(m.group(1)) if m else 1

    def _item_fits(self, page: ShopPage) -> bool:
        features = re.search(r"^Features: (.*)$", page.text, re.MULTILINE)
        price = re.search(r"^Price: \$(\d+(?:\.\d+)?)$", page.text, re.MULTILINE)
        if not features or not price:
            return False
        lines = page.text.splitlines()
        if len(lines) < 3 or not self._fits_title(lines[2]):  # instruction, navigation, title
            return False
        have = {f.strip() for f in features.group(1).split(",")}
        if not set(self.goal.attributes) <= have or float(price.group(1)) > self.goal.price_upper:
            return False
        return all(v.lower() in page.links for v in self.goal.options.values())
