"""Generate the tool tasks' knowledge base: facts about a fictional world, seeded.

Fictional on purpose: an LLM cannot answer "what is the population of Velmora?" from
memory, so it has to call ``kb_lookup``. Entities: countries (capital, population,
area_km2, currency, continent), mountains (height_m, country) and rivers (length_km,
country). Regenerate with ``python -m agentgym.envs.web.tools.make_kb``; the output is
byte-identical for the same seed.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

SEED = 7
ONSETS = (
    "b",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "th",
    "st",
    "kr",
    "dr",
)
VOWELS = ("a", "e", "i", "o", "u", "ae", "ei", "ou")
CODAS = ("", "n", "r", "l", "s", "th", "m", "nd", "rk")
CONTINENTS = ("Aurelia", "Borea", "Cyrene", "Dravia")


def _name(rng: random.Random, used: set[str], syllables: tuple[int, int] = (2, 3)) -> str:
    while True:
        n = rng.randint(*syllables)
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(n)) + rng.choice(
            CODAS
        )
        word = word.capitalize()
        if word not in used and 4 <= len(word) <= 12:
            used.add(word)
            return word


def make_kb(
    seed: int = SEED, countries: int = 30, mountains: int = 20, rivers: int = 20
) -> dict[str, Any]:
    rng = random.Random(seed)
    used: set[str] = set()
    entities: dict[str, dict[str, Any]] = {}
    country_names = []
    for _ in range(countries):
        name = _name(rng, used)
        country_names.append(name)
        entities[name] = {
            "type": "country",
            "capital": _name(rng, used),
            "population": rng.randint(200_000, 90_000_000),
            "area_km2": rng.randint(2_000, 900_000),
            "currency": _name(rng, used, (1, 2)).lower(),
            "continent": rng.choice(CONTINENTS),
        }
    for _ in range(mountains):
        entities["Mount " + _name(rng, used)] = {
            "type": "mountain",
            "height_m": rng.randint(900, 8_600),
            "country": rng.choice(country_names),
        }
    for _ in range(rivers):
        entities[_name(rng, used) + " River"] = {
            "type": "river",
            "length_km": rng.randint(40, 6_500),
            "country": rng.choice(country_names),
        }
    return {"seed": seed, "generator": "agentgym.envs.web.tools.make_kb", "entities": entities}


def default_path() -> Path:
    return Path(__file__).resolve().parents[3] / "assets" / "tools" / "kb.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or default_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(make_kb(args.seed), indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
