"""``KEY=VALUE;...`` reward-spec options into a config dataclass, with an LLM spec inside.

An LLM spec has ``;`` options of its own (``openai:M@URL;timeout=1800;concurrency=1``),
and so does a reward spec. Parts after ``llm=`` whose key is not a field of the config
belong to the LLM spec: ``oni:llm=openai:m@http://h/v1;timeout=60;weight=0.1`` sets
``llm="openai:m@http://h/v1;timeout=60"`` and ``weight=0.1``. The LLM spec is parsed
here, so a bad one is reported at parse time, naming the reward's field.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from agentgym.config_fields import check_fields, field_error
from agentgym.registry import suggest

C = TypeVar("C")

_KINDS = {"float": float, "int": int, "bool": bool}


def _as_bool(owner: type, key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise field_error(owner, key, "a bool (true/false)", value)


def parse_options(cls: type[C], args: str, what: str) -> C:
    """``args`` -> ``cls(**values)``; ValueError naming ``<cls>.<field>`` for a bad part."""
    names = {f.name: str(f.type) for f in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    last = ""
    for part in filter(None, (p.strip() for p in args.split(";"))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        # A near miss of a field (qeue=) is a typo of the reward's option, not the LLM's.
        if last == "llm" and key not in names and not suggest(key, list(names)):
            values["llm"] += ";" + part
            continue
        if not sep:
            raise ValueError(f"{what}: expected KEY=VALUE, got {part!r}")
        check_fields(cls, [key])  # type: ignore[arg-type]
        kind = names[key]
        if kind == "bool":
            values[key] = _as_bool(cls, key, value)
        elif kind in _KINDS:
            try:
                values[key] = _KINDS[kind](value)
            except ValueError:
                raise field_error(cls, key, f"a {kind}", value) from None
        else:
            values[key] = value
        last = key
    if values.get("llm"):
        from agentgym.llm import LLMSpecError, parse_spec

        try:
            parse_spec(values["llm"])
        except LLMSpecError as err:
            raise field_error(
                cls, "llm", "an LLM spec such as openai:MODEL@URL", values["llm"], f" {err}"
            ) from err
    return cls(**values)
