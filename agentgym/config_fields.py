"""The fields of a config dataclass: their docstrings, the checks of their values, and
building a config from plain data.

A config (``PPOConfig``, ``AgentPPOConfig``, ``SynthesisConfig``, ...) documents each
field with the string literal under it, as CleanRL/tyro configs do; ``field_docs`` reads
them, so ``agentgym train --help`` and the docs come from that one place.

Its ``__post_init__`` checks values with ``check_ints``, ``check_range`` and
``check_choice`` (or raises ``field_error`` for a rule of its own), and ``config_from_dict``
rejects keys it does not have, so every config's errors read alike::

    PPOConfig.num_envs: expected a positive int, got 0
    PPOConfig.vectorization: expected one of sync, async, got 'snyc'. Did you mean 'sync'?
    PPOConfig has no field 'num_env'. Did you mean 'num_envs'? Fields: env_id, ...
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import numbers
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from agentgym.registry import suggest

C = TypeVar("C")


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its docstring (the string literal under the field), whitespace folded.

    Fields of dataclass bases come first, as in ``dataclasses.fields``; a field without a
    docstring is absent.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if "__dataclass_fields__" not in vars(klass):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, after in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _class_name(owner: object) -> str:
    return (owner if isinstance(owner, type) else type(owner)).__name__


def field_error(owner: object, name: str, expected: str, value: Any, hint: str = "") -> ValueError:
    """``ValueError("<Class>.<name>: expected <expected>, got <value!r>.<hint>")``, where
    ``owner`` is the config or its class and ``hint`` a ``suggest`` did-you-mean."""
    message = f"{_class_name(owner)}.{name}: expected {expected}, got {value!r}"
    return ValueError(f"{message}.{hint}" if hint else message)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_ints(config: object, names: Iterable[str], minimum: int = 1) -> None:
    """Each field in ``names`` is an int >= ``minimum`` (1: "a positive int")."""
    expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    for name in names:
        value = getattr(config, name)
        if not _is_int(value) or value < minimum:
            raise field_error(config, name, expected, value)


def check_range(
    config: object, name: str, low: float, high: float, *, open_low: bool = False
) -> None:
    """The field is a number in [low, high], or (low, high] with ``open_low``."""
    value = getattr(config, name)
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    above = number and (value > low if open_low else value >= low)
    if not (above and value <= high):
        bracket = "(" if open_low else "["
        raise field_error(config, name, f"a float in {bracket}{low:g}, {high:g}]", value)


def check_choice(config: object, name: str, choices: Sequence[str]) -> None:
    """The field is one of ``choices`` (a did-you-mean for a near miss)."""
    value = getattr(config, name)
    if value not in choices:
        hint = suggest(str(value), list(choices))
        raise field_error(config, name, f"one of {', '.join(choices)}", value, hint)


def check_fields(cls: type, keys: Iterable[str]) -> None:
    """Every key names a field of the dataclass ``cls`` (a did-you-mean for the first that
    does not, and the list of fields)."""
    names = [f.name for f in dataclasses.fields(cls)]
    for key in keys:
        if key not in names:
            raise ValueError(
                f"{cls.__name__} has no field {key!r}.{suggest(key, names)} "
                f"Fields: {', '.join(names)}"
            )


def config_from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
    """Rebuild a config dataclass from plain data (YAML, JSON): unknown keys are an error
    (``check_fields``) and lists become tuples where the field is a tuple.

    A class may name ``RENAMED_FIELDS`` (old name -> new name): data written before a
    rename (run folders, checkpoints) still loads, under the new names.
    """
    renamed: Mapping[str, str] = getattr(cls, "RENAMED_FIELDS", {})
    data = {renamed.get(key, key): value for key, value in data.items()}
    check_fields(cls, data)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in data.items():
        field = fields[key]
        if isinstance(value, list) and (
            isinstance(field.default, tuple) or "tuple" in str(field.type)
        ):
            value = tuple(value)
        values[key] = value
    return cls(**values)
