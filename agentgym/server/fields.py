"""The fields of a request, read with errors that name them: the instance number, seeds
and game indices, commands. Every protocol reads its requests with these."""

from __future__ import annotations

from typing import Any

from agentgym.server.instances import PoolError


class BadRequest(PoolError):
    status = 400


class NotFound(PoolError):
    status = 404


class MethodNotAllowed(PoolError):
    status = 405


def instance_id(fields: dict[str, Any], keys: tuple[str, ...] = ("id", "env_idx")) -> int:
    """The instance number, under the first of ``keys`` the request has."""
    for key in keys:
        if key in fields:
            value = fields[key]
            if isinstance(value, list):  # a query string value
                value = value[0]
            try:
                if isinstance(value, bool):
                    raise ValueError
                return int(value)
            except (TypeError, ValueError):
                raise BadRequest(f"'{key}' must be an integer instance id, got {value!r}") from None
    named = " or ".join(f"'{k}'" for k in keys)
    raise BadRequest(f"the request names no instance: give {named}")


def optional_index(fields: dict[str, Any], key: str) -> int | None:
    """A non-negative integer (a seed, a data or game index), or None when absent."""
    value = fields.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{key}' must be an integer, got {value!r}")
    if value < 0:
        # numpy seeds (and data set indices) are non-negative; refuse before the env does
        raise BadRequest(f"'{key}' must be a non-negative integer, got {value}")
    return value


def one_seed(fields: dict[str, Any], *keys: str) -> int | None:
    """The one seed the request gives under any of ``keys`` (they must agree)."""
    given = {k: v for k in keys if (v := optional_index(fields, k)) is not None}
    if len(set(given.values())) > 1:
        listed = ", ".join(f"'{k}' ({v})" for k, v in given.items())
        raise BadRequest(f"{listed} disagree; give one of them")
    return next(iter(given.values()), None)


def required(fields: dict[str, Any], key: str) -> Any:
    if key not in fields:
        raise BadRequest(f"the body has no '{key}'")
    return fields[key]


def command(fields: dict[str, Any], key: str = "action") -> str:
    """A text command: AgentGym's servers take ``action`` as a string."""
    value = required(fields, key)
    if not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a string command, got {type(value).__name__}")
    return value
