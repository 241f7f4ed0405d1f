"""Command-line options from a config dataclass's source: names, types, defaults, help.

The fields of a config such as ``PPOConfig`` are read with ``ast`` from its source file,
without importing it, so ``agentgym train --help`` stays fast (the module that holds a
learner may import torch). Each field's help is the string literal under it, as in
CleanRL/tyro configs. Options not given stay out of the namespace, so the dataclass's own
default applies and its ``__post_init__`` is the one place that validates values.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FieldOption:
    """One dataclass field as the CLI sees it."""

    name: str
    annotation: str
    default: Any
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def dataclass_options(source: str | Path, class_name: str) -> list[FieldOption]:
    """The annotated fields of ``class_name`` in the Python file ``source``."""
    tree = ast.parse(Path(source).read_text(encoding="utf-8"))
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
    if cls is None:
        raise LookupError(f"{source}: no class {class_name!r}")
    options = []
    body = cls.body
    for i, node in enumerate(body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        after = body[i + 1] if i + 1 < len(body) else None
        doc = ""
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            doc = " ".join(str(after.value.value).split())
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError:  # a default computed by a call; show it as written
            default = ast.unparse(node.value) if node.value is not None else None
        options.append(FieldOption(node.target.id, ast.unparse(node.annotation), default, doc))
    return options


def _optional(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.lower() in ("none", "null") else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")  # argparse names it in errors
    return parse


_SCALARS: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str}


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    options: Iterable[FieldOption],
    *,
    skip: Iterable[str] = (),
) -> list[FieldOption]:
    """Add ``--field-name`` for each option not in ``skip``; return the ones added."""
    skipped = set(skip)
    added = []
    for opt in options:
        if opt.name in skipped:
            continue
        ann = opt.annotation.replace(" ", "")
        default_text = "None" if opt.default is None else repr(opt.default)
        if isinstance(opt.default, tuple):
            default_text = " ".join(str(v) for v in opt.default)
        help_text = f"{opt.help} (default: {default_text})".replace("%", "%%")
        # SUPPRESS: an option not given is absent from the namespace, so an explicit
        # "none" (target_kl) differs from "not given" (the dataclass default applies).
        kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "dest": opt.name, "help": help_text}
        nullable = ann.endswith("|None") or ann.startswith("None|") or ann.startswith("Optional[")
        base = ann.removesuffix("|None").removeprefix("None|")
        if base.startswith("Optional[") and base.endswith("]"):
            base = base[len("Optional[") : -1]
        if base == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif base.startswith("tuple[") or base.startswith("list["):
            item = base[base.index("[") + 1 :].split(",")[0].rstrip("]")
            kwargs.update(nargs="+", type=_SCALARS.get(item, str), metavar=item.upper())
        else:
            convert = _SCALARS.get(base, str)
            kwargs.update(type=_optional(convert) if nullable else convert, metavar=base.upper())
        parser.add_argument(opt.flag, **kwargs)
        added.append(opt)
    return added


def given_values(args: argparse.Namespace, options: Iterable[FieldOption]) -> dict[str, Any]:
    """The options the user gave (the others are absent from the namespace)."""
    values = {}
    for opt in options:
        if hasattr(args, opt.name):
            value = getattr(args, opt.name)
            values[opt.name] = tuple(value) if isinstance(value, list) else value
    return values


def describe(options: Iterable[FieldOption]) -> Mapping[str, str]:
    """Field name -> help text (for docs)."""
    return {o.name: o.help for o in options}
