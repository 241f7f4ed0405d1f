"""A real Ray cluster of two nodes on this machine, one CPU each, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

NODE = {"num_cpus": 1, "object_store_memory": 80 * 2**20}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """``ray.cluster_utils.Cluster``: a head and a worker node; this process is its driver."""
    ray = pytest.importorskip(
        "ray", reason="the ray extra is not installed (pip install agentgym[ray]; make installs it)"
    )
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        connect=True,
        head_node_args={**NODE, "include_dashboard": False},
    )
    cluster.add_node(**NODE)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()
