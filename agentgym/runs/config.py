"""Configs to and from YAML: dataclasses as plain data, and back again equal.

YAML has no tuples, so a tuple field (``hidden_sizes``) is written as a list; the way
back is ``agentgym.config_fields.config_from_dict``, which turns it into a tuple again and
names any key the dataclass does not have, with a did-you-mean.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass instance (or a mapping) as plain YAML-safe data."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        data = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    elif isinstance(config, Mapping):
        data = dict(config)
    else:
        raise TypeError(
            f"config must be a dataclass instance or a mapping, got {type(config).__name__}"
        )
    return {k: _plain(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_to_dict(value)
    return value


def dump_yaml(data: Mapping[str, Any], path: str | Path) -> None:
    """Write ``data`` as block-style YAML in the order given."""
    text = yaml.safe_dump(
        _plain(dict(data)), sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a run killed mid-write keeps its old config


def load_yaml(path: str | Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top, got {type(data).__name__}")
    return data
