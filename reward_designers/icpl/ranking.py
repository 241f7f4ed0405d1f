"""An iteration's ranking: the order of its trained candidates, best first, on disk.

    <run>/iter_NN/ranking.html   the page a person ranks on (``page.py``)
    <run>/iter_NN/ranking.json   {"iteration", "order": [sample, ...] best first,
                                  "candidates": the samples that were ranked, "ranker"}

Only trained candidates are ranked (a rejected or failed program has no policy to watch).
A ranking must be a permutation of them; anything else is refused with an error naming
the field. ``proxy_order`` is ICPL's own stand-in for a person: the task's success rate,
then its fitness, never the env's own return (which a person cannot see).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentgym.reward_designers.synthesis.candidates import (
    TRAINED,
    Candidate,
    iteration_dir,
    read_json,
    write_json,
)

RANKING_FILE = "ranking.json"
PAGE_FILE = "ranking.html"


@dataclass(frozen=True)
class Ranking:
    """The samples of one iteration, best first, and who ranked them."""

    iteration: int
    order: list[int]
    ranker: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "order": list(self.order),
            "candidates": sorted(self.order),
            "ranker": self.ranker,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def resume_command(run: Path) -> str:
    """The command that continues a synthesis run once it is ranked."""
    return f"agentgym reward synthesize --resume {run}"


def ranking_path(run: Path, iteration: int) -> Path:
    return iteration_dir(run, iteration) / RANKING_FILE


def page_path(run: Path, iteration: int) -> Path:
    return iteration_dir(run, iteration) / PAGE_FILE


def rankable(run: Path, iteration: int) -> list[int]:
    """The samples of ``iteration`` a person can rank: those trained to the end."""
    out = []
    for path in sorted(iteration_dir(run, iteration).glob("sample_*/result.json")):
        candidate = Candidate.from_dict(read_json(path))
        if candidate.status == TRAINED:
            out.append(candidate.index)
    return out


def check_order(order: Any, candidates: Sequence[int]) -> list[int]:
    """``order`` as a list of sample numbers, or ValueError naming the field when it is not
    a permutation of ``candidates`` (each once, best first)."""
    expected = sorted(candidates)
    if not isinstance(order, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) for x in order
    ):
        raise ValueError(f"order: expected a list of sample numbers, best first, got {order!r}")
    if sorted(order) != expected:
        raise ValueError(
            f"order: expected a permutation of the ranked samples {expected} (each exactly "
            f"once, best first), got {order}"
        )
    return list(order)


def order_from_ranks(ranks: Mapping[str, Any], candidates: Sequence[int]) -> list[int]:
    """The order given as one rank per sample (``{"rank_02": "1", ...}``, as the page's form
    posts it); ValueError naming the field when the ranks are not 1..n, each once."""
    expected = sorted(candidates)
    given: dict[int, int] = {}
    for key, value in ranks.items():
        if not key.startswith("rank_"):
            continue
        try:
            sample, rank = int(key[len("rank_") :]), int(str(value))
        except ValueError:
            raise ValueError(f"{key}: expected a whole number rank, got {value!r}") from None
        given[sample] = rank
    if sorted(given) != expected:
        raise ValueError(
            f"rank_KK: expected one rank for each ranked sample {expected}, got ranks for "
            f"{sorted(given)}"
        )
    if sorted(given.values()) != list(range(1, len(expected) + 1)):
        raise ValueError(
            f"rank_KK: expected the ranks 1 to {len(expected)}, each exactly once (1 the "
            f"best), got {[given[s] for s in expected]} for samples {expected}"
        )
    return sorted(given, key=lambda s: given[s])


def proxy_order(candidates: Sequence[Candidate]) -> list[int]:
    """ICPL's proxy human: trained candidates by success rate, then task fitness (a
    missing value ranks lowest), the earlier sample first on a tie. The env's own return
    is left out on purpose: it is a reward, not what a person watching would judge."""
    trained = [c for c in candidates if c.status == TRAINED]

    def key(c: Candidate) -> tuple[float, float, int]:
        fitness = c.fitness if c.fitness is not None else -math.inf
        return (-(c.success or 0.0), -fitness, c.index)

    return [c.index for c in sorted(trained, key=key)]


def save_ranking(run: Path, ranking: Ranking) -> Path:
    """Write ``ranking`` atomically (a reader sees the old file or the new, never half);
    ValueError when its order is not a permutation of the iteration's trained samples."""
    check_order(ranking.order, rankable(run, ranking.iteration))
    path = ranking_path(run, ranking.iteration)
    write_json(path, ranking.to_dict())
    return path


def load_ranking(run: Path, iteration: int) -> Ranking | None:
    """The saved ranking of ``iteration``, None when there is none yet; ValueError naming
    the file when it does not rank exactly the iteration's trained samples."""
    path = ranking_path(run, iteration)
    data = read_json(path)
    if data is None:
        return None
    try:
        order = check_order(data.get("order"), rankable(run, iteration))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return Ranking(iteration, order, str(data.get("ranker", "human")))


def waiting_iteration(run: Path) -> int | None:
    """The earliest iteration with a ranking page, two or more policies and no ranking
    (None: none waits; with fewer policies there is nothing to compare)."""
    for page in sorted(Path(run).glob(f"iter_*/{PAGE_FILE}")):
        it = int(page.parent.name.split("_")[1])
        if not ranking_path(run, it).is_file() and len(rankable(run, it)) >= 2:
            return it
    return None
