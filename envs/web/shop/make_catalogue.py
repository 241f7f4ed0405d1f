"""Generate the shop's product catalogue, seeded, in the spirit of WebShop's scraped one.

WebShop's own catalogue (1.18M Amazon products) cannot be downloaded here, so the shop
ships a generated one: ``assets/shop/catalogue.json``. Each product has an id, a title,
a category, a product type, attributes (materials and features, as WebShop mines them
from titles and bullet points), options (colour, size) and a price.

Regenerate with ``python -m agentgym.envs.web.shop.make_catalogue`` (the output is
byte-identical for the same seed, so the shipped file can be checked against it).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

SEED = 20261122
NUM_PRODUCTS = 1200

COLORS = (
    "black",
    "white",
    "red",
    "blue",
    "navy",
    "green",
    "grey",
    "pink",
    "beige",
    "brown",
    "yellow",
    "purple",
    "olive",
    "orange",
)
CLOTHING_SIZES = ("xs", "s", "m", "l", "xl", "xxl")
SHOE_SIZES = ("6", "7", "8", "9", "10", "11", "12")

# category -> product type -> (attribute pool, size options or None, price range in $)
CATALOGUE_PLAN: dict[
    str, dict[str, tuple[tuple[str, ...], tuple[str, ...] | None, tuple[float, float]]]
] = {
    "clothing": {
        "t-shirt": (
            (
                "cotton",
                "organic",
                "slim fit",
                "machine washable",
                "short sleeve",
                "crew neck",
                "moisture wicking",
                "relaxed fit",
            ),
            CLOTHING_SIZES,
            (8, 40),
        ),
        "hoodie": (
            (
                "fleece",
                "cotton",
                "zip up",
                "pullover",
                "machine washable",
                "oversized",
                "lightweight",
            ),
            CLOTHING_SIZES,
            (20, 80),
        ),
        "jeans": (
            ("slim fit", "stretch", "high waist", "straight leg", "distressed", "machine washable"),
            ("28", "30", "32", "34", "36", "38"),
            (25, 90),
        ),
        "dress": (
            ("floral", "sleeveless", "midi", "cotton", "long sleeve", "v neck", "machine washable"),
            CLOTHING_SIZES,
            (20, 120),
        ),
        "jacket": (
            (
                "waterproof",
                "windproof",
                "insulated",
                "hooded",
                "lightweight",
                "packable",
                "fleece lined",
            ),
            CLOTHING_SIZES,
            (40, 200),
        ),
        "socks": (
            ("wool", "cotton", "cushioned", "ankle", "moisture wicking", "breathable"),
            ("s", "m", "l"),
            (5, 25),
        ),
    },
    "footwear": {
        "running shoes": (
            ("lightweight", "breathable", "cushioned", "non slip", "mesh", "wide fit"),
            SHOE_SIZES,
            (35, 160),
        ),
        "boots": (
            ("leather", "waterproof", "insulated", "lace up", "non slip", "steel toe"),
            SHOE_SIZES,
            (50, 220),
        ),
        "sandals": (
            ("leather", "adjustable strap", "arch support", "waterproof", "lightweight"),
            SHOE_SIZES,
            (15, 70),
        ),
        "slippers": (
            ("memory foam", "fleece lined", "non slip", "machine washable"),
            SHOE_SIZES,
            (10, 45),
        ),
    },
    "home": {
        "pillow": (
            ("memory foam", "hypoallergenic", "cooling", "machine washable", "down", "organic"),
            ("standard", "queen", "king"),
            (15, 90),
        ),
        "blanket": (
            ("fleece", "wool", "weighted", "machine washable", "cotton", "hypoallergenic"),
            ("throw", "twin", "queen", "king"),
            (20, 150),
        ),
        "mug": (
            ("ceramic", "insulated", "dishwasher safe", "microwave safe", "stainless steel"),
            ("8 oz", "12 oz", "16 oz"),
            (6, 30),
        ),
        "desk lamp": (
            ("led", "dimmable", "usb charging", "adjustable arm", "touch control"),
            None,
            (15, 80),
        ),
        "curtains": (
            ("blackout", "thermal insulated", "linen", "machine washable", "grommet top"),
            ("52x63", "52x84", "52x96"),
            (15, 70),
        ),
    },
    "electronics": {
        "headphones": (
            (
                "wireless",
                "noise cancelling",
                "bluetooth",
                "over ear",
                "foldable",
                "long battery life",
            ),
            None,
            (20, 300),
        ),
        "phone case": (
            ("shockproof", "slim", "clear", "wireless charging compatible", "leather"),
            ("iphone 14", "iphone 15", "galaxy s23", "pixel 8"),
            (8, 45),
        ),
        "charger": (
            ("fast charging", "usb c", "dual port", "foldable plug", "compact"),
            ("20w", "30w", "65w"),
            (10, 60),
        ),
        "speaker": (
            ("bluetooth", "waterproof", "portable", "wireless", "long battery life"),
            None,
            (25, 200),
        ),
    },
    "outdoor": {
        "backpack": (
            ("waterproof", "lightweight", "laptop compartment", "anti theft", "padded straps"),
            ("20l", "30l", "40l"),
            (25, 150),
        ),
        "water bottle": (
            ("stainless steel", "insulated", "bpa free", "leak proof", "dishwasher safe"),
            ("500 ml", "750 ml", "1 l"),
            (8, 45),
        ),
        "tent": (
            ("waterproof", "lightweight", "easy setup", "windproof", "double layer"),
            ("2 person", "4 person", "6 person"),
            (50, 350),
        ),
    },
}

BRANDS = (
    "Acme",
    "Northwind",
    "Bluepeak",
    "Fernway",
    "Kestrel",
    "Lumo",
    "Marlow",
    "Nordhaven",
    "Oakridge",
    "Pinecrest",
    "Quillon",
    "Rivet",
    "Solace",
    "Tidewater",
    "Umbra",
    "Vantage",
    "Willow",
    "Yarrow",
    "Zephyr",
    "Brightline",
)


def make_product(rng: random.Random, index: int) -> dict[str, Any]:
    """One product: a random type, 2-4 of its attributes, colours, sizes and a price."""
    category = rng.choice(sorted(CATALOGUE_PLAN))
    product_type = rng.choice(sorted(CATALOGUE_PLAN[category]))
    pool, sizes, (low, high) = CATALOGUE_PLAN[category][product_type]
    attributes = sorted(rng.sample(pool, rng.randint(2, min(4, len(pool)))))
    options: dict[str, list[str]] = {"color": sorted(rng.sample(COLORS, rng.randint(1, 5)))}
    if sizes is not None:
        # Keep the catalogue's order (xs < s < m ...) rather than sorting alphabetically.
        chosen = set(rng.sample(sizes, rng.randint(1, len(sizes))))
        options["size"] = [s for s in sizes if s in chosen]
    price = round(rng.uniform(low, high), 0) - 0.01
    brand = rng.choice(BRANDS)
    # Titles carry one or two attributes, as marketplace titles do; the rest are listed
    # as features on the item page, so an agent has to open items to check them.
    shown = rng.sample(attributes, min(len(attributes), rng.randint(1, 2)))
    title = f"{brand} {' '.join(shown)} {product_type}".replace("  ", " ")
    return {
        "id": f"P{index:05d}",
        "title": title.title().replace("Usb", "USB").replace("Led", "LED"),
        "brand": brand,
        "category": category,
        "product_type": product_type,
        "attributes": attributes,
        "options": options,
        "price": price,
        "rating": round(rng.uniform(3.0, 5.0), 1),
    }


def make_catalogue(seed: int = SEED, num_products: int = NUM_PRODUCTS) -> list[dict[str, Any]]:
    """The whole catalogue, deterministic in ``seed``."""
    rng = random.Random(seed)
    return [make_product(rng, i) for i in range(num_products)]


def default_path() -> Path:
    return Path(__file__).resolve().parents[3] / "assets" / "shop" / "catalogue.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--num-products", type=int, default=NUM_PRODUCTS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or default_path()
    products = make_catalogue(args.seed, args.num_products)
    payload = {
        "seed": args.seed,
        "generator": "agentgym.envs.web.shop.make_catalogue",
        "products": products,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
