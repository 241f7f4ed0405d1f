"""The shop's catalogue: products, search, shopping goals and WebShop's final reward.

The reward follows WebShop (Yao et al., 2022, section 3.1): for a goal with attributes
U_att, options U_opt and a price bound u_price, buying product y with chosen options
Y_opt scores

    r = r_type * (|U_att ∩ Y_att| + |U_opt ∩ Y_opt| + 1[y_price <= u_price])
                 / (|U_att| + |U_opt| + 1)

where r_type is 1 for the right product type, 0.5 for another type of the same
category and 0.1 otherwise. The task succeeds when r == 1.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from agentgym.assets import asset_path

TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower().replace("-", ""))


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    brand: str
    category: str
    product_type: str
    attributes: tuple[str, ...]
    options: dict[str, tuple[str, ...]]
    price: float
    rating: float

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Product:
        return cls(
            id=d["id"],
            title=d["title"],
            brand=d["brand"],
            category=d["category"],
            product_type=d["product_type"],
            attributes=tuple(d["attributes"]),
            options={k: tuple(v) for k, v in d["options"].items()},
            price=float(d["price"]),
            rating=float(d["rating"]),
        )

    @property
    def search_text(self) -> str:
        return " ".join([self.title, self.product_type, self.category, *self.attributes])


@dataclass(frozen=True)
class Goal:
    """What the shopper asks for. ``options`` maps an option name to the wanted value."""

    product_type: str
    category: str
    attributes: tuple[str, ...]
    options: dict[str, str]
    price_upper: float
    target_id: str
    """The product the goal was drawn from (one of possibly several that satisfy it)."""

    @property
    def instruction(self) -> str:
        attrs = " and ".join(self.attributes)
        opts = ", ".join(f"size {v}" if k == "size" else f"in {v}" for k, v in self.options.items())
        return (
            f"I am looking for a {attrs} {self.product_type} {opts}, "
            f"and price lower than {self.price_upper:.2f} dollars"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_type": self.product_type,
            "category": self.category,
            "attributes": list(self.attributes),
            "options": dict(self.options),
            "price_upper": self.price_upper,
            "target_id": self.target_id,
        }


@dataclass
class Catalogue:
    products: list[Product]
    by_id: dict[str, Product] = field(init=False)
    _df: Counter = field(init=False)
    _docs: list[Counter] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.products}
        self._docs = [Counter(tokens(p.search_text)) for p in self.products]
        self._df = Counter(t for doc in self._docs for t in doc)

    def search(self, query: str, limit: int = 50) -> list[Product]:
        """Products ranked by a BM25-like score of the query tokens (ties by id)."""
        q = set(tokens(query))
        n = len(self.products)
        scored = []
        for product, doc in zip(self.products, self._docs, strict=True):
            score = sum(math.log(1 + n / self._df[t]) * min(doc[t], 1) for t in q if t in doc)
            if score > 0:
                scored.append((-score, product.id, product))
        scored.sort(key=lambda s: (s[0], s[1]))
        return [p for _, _, p in scored[:limit]]

    def sample_goal(self, rng: np.random.Generator) -> Goal:
        """A goal drawn from a random product: 1-2 of its attributes, one value per
        option, and a price bound above its price."""
        product = self.products[int(rng.integers(len(self.products)))]
        k = int(rng.integers(1, min(2, len(product.attributes)) + 1))
        picks = sorted(rng.choice(len(product.attributes), size=k, replace=False).tolist())
        attributes = tuple(product.attributes[i] for i in picks)
        options = {
            name: values[int(rng.integers(len(values)))]
            for name, values in sorted(product.options.items())
        }
        bound = math.ceil(product.price * float(rng.uniform(1.05, 1.6)))
        return Goal(
            product.product_type, product.category, attributes, options, float(bound), product.id
        )


def reward(goal: Goal, product: Product, chosen: dict[str, str]) -> dict[str, float]:
    """WebShop's final reward and its parts (see the module docstring)."""
    if product.product_type == goal.product_type:
        r_type = 1.0
    elif product.category == goal.category:
        r_type = 0.5
    else:
        r_type = 0.1
    att = sum(a in product.attributes for a in goal.attributes)
    opt = sum(chosen.get(name, "").lower() == value.lower() for name, value in goal.options.items())
    price_ok = float(product.price <= goal.price_upper)
    total = len(goal.attributes) + len(goal.options) + 1
    score = r_type * (att + opt + price_ok) / total
    return {
        "reward": float(score),
        "r_type": r_type,
        "r_att": att / max(1, len(goal.attributes)),
        "r_option": opt / max(1, len(goal.options)),
        "r_price": price_ok,
    }


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The shipped catalogue (``assets/shop/catalogue.json``), loaded once per process."""
    path = asset_path("shop", "catalogue.json")
    data = json.loads(path.read_text())
    return Catalogue([Product.from_dict(d) for d in data["products"]])
