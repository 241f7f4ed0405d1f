"""Vector infos in the layout Gymnasium's ``SyncVectorEnv`` gives: one array per key over
all N sub-envs, and beside it a ``_key`` mask of the sub-envs whose info had the key.

``SyncVectorEnv`` builds this one sub-env at a time (``VectorEnv._add_info``); a native
vector env holds whole groups of sub-envs at once (those that stepped, those that reset),
each group's info already as arrays, and stacks the groups here in one pass per key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def stack_infos(groups: Sequence[tuple[dict[str, Any], np.ndarray]], num_envs: int) -> dict:
    """Merge ``(info, mask)`` groups into one vector info.

    ``info`` maps each key to an array over all N sub-envs (only the rows in ``mask``
    count) or to a nested dict of such arrays; masks of different groups are disjoint.
    As in ``VectorEnv._add_info``: rows outside every group that has a key stay zero,
    the array takes the dtype of the first group that has the key, nested dicts get
    their own masks, and ``final_obs`` is an object array (None where absent).
    """
    return _stack([(info, mask, bool(mask.all())) for info, mask in groups], num_envs)


def _stack(groups: list[tuple[dict[str, Any], np.ndarray, bool]], num_envs: int) -> dict:
    out: dict[str, Any] = {}
    keys: dict[str, None] = {}
    for info, _, _ in groups:
        keys.update(dict.fromkeys(info))
    for key in keys:
        having = [(info[key], mask, full) for info, mask, full in groups if key in info]
        first, present, full = having[0]
        if len(having) > 1:
            present = np.logical_or.reduce([mask for _, mask, _ in having])
            full = bool(present.all())
        if isinstance(first, dict):
            out[key] = _stack(having, num_envs)
        elif key == "final_obs":
            array = np.full(num_envs, None, dtype=object)
            for value, mask, _ in having:
                for i in np.flatnonzero(mask):
                    array[i] = value[i]
            out[key] = array
        elif len(having) == 1 and full:
            out[key] = np.asarray(first)  # every sub-env in one group: the group's own array
        else:
            first = np.asarray(first)
            array = np.zeros((num_envs, *first.shape[1:]), dtype=first.dtype)
            for value, mask, _ in having:
                array[mask] = np.asarray(value)[mask]
            out[key] = array
        out[f"_{key}"] = present.copy()
    return out


def info_rows(info: dict[str, Any], rows: slice) -> dict[str, Any]:
    """The vector info of the sub-envs ``rows`` of a batch: every array (and ``_key``
    mask, nested dicts included) cut to those rows, so a slice of a K*N batch's info is
    the info a vector env of those N sub-envs would have given."""
    return {
        key: info_rows(value, rows)
        if isinstance(value, dict)
        else value[rows]
        if isinstance(value, np.ndarray)
        else value
        for key, value in info.items()
    }
