"""ICPL (Yu et al. 2024): preference rounds, the K policies' videos ranked by a person
(or the proxy ranker) to steer the next iteration's prompt."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "ICPLDesigner",
    "Ranking",
    "RankingServer",
    "load_ranking",
    "proxy_order",
    "save_ranking",
    "waiting_iteration",
    "write_page",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ICPLDesigner": "designer",
        "Ranking": "ranking",
        "load_ranking": "ranking",
        "proxy_order": "ranking",
        "save_ranking": "ranking",
        "waiting_iteration": "ranking",
        "RankingServer": "server",
        "write_page": "page",
    },
)
