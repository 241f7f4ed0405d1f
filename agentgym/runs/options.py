"""Command-line options from a config dataclass: names, types, defaults, help.

A config module (``learners/ppo/config.py``) imports no torch, so reading its class keeps
``agentgym train --help`` fast. Each field's help is its docstring
(``agentgym.config_fields.field_docs``). Options not given stay out of the namespace, so
the dataclass's own default applies and its ``__post_init__`` is the one place that
validates values.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentgym.config_fields import field_docs


@dataclass(frozen=True)
class FieldOption:
    """One dataclass field as the CLI sees it."""

    name: str
    annotation: str
    default: Any
    help: str
    other_defaults: str = ""
    """Defaults of the same field under other learners, shown after the default."""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def dataclass_options(cls: type) -> list[FieldOption]:
    """The fields of the config dataclass ``cls``, in order, each with its docstring."""
    docs = field_docs(cls)
    options = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        default: Any = None
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        # Under ``from __future__ import annotations`` f.type is the annotation as written.
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        options.append(FieldOption(f.name, annotation, default, docs.get(f.name, "")))
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
    defaults: Mapping[str, str] | None = None,
) -> list[FieldOption]:
    """Add ``--field-name`` for each option not in ``skip``; return the ones added.
    ``defaults`` (field -> text) replaces the shown default of fields whose default the
    command decides itself (``train`` turns ``video`` on for envs that render)."""
    skipped = set(skip)
    shown = dict(defaults or {})
    added = []
    for opt in options:
        if opt.name in skipped:
            continue
        ann = opt.annotation.replace(" ", "")
        default_text = "None" if opt.default is None else repr(opt.default)
        if isinstance(opt.default, tuple):
            default_text = " ".join(str(v) for v in opt.default)
        default_text = shown.get(opt.name, default_text)
        others = f"; {opt.other_defaults}" if opt.other_defaults else ""
        help_text = f"{opt.help} (default: {default_text}{others})".replace("%", "%%")
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


LearnerGroup = tuple[str, list[str], list[FieldOption]]
"""(config class name, the learners that use it, the fields no earlier group has)."""


def learner_option_groups(
    skip: Iterable[str] = (), learners: Iterable[str] | None = None
) -> list[LearnerGroup]:
    """One option group per config class of the registered learners (or of ``learners``),
    PPOConfig first. A field an earlier group already has, with another default here, gets
    that default named in its help (unless the command sets the field itself: ``skip``)."""
    from dataclasses import replace

    from agentgym.learners import LEARNER_CONFIGS

    skipped = set(skip)
    names = list(LEARNER_CONFIGS) if learners is None else list(learners)
    users: dict[type, list[str]] = {}
    for name in names:
        users.setdefault(LEARNER_CONFIGS.get(name), []).append(name)
    seen: dict[str, int] = {}  # field -> index of the group that has it
    groups: list[LearnerGroup] = []
    for cls in sorted(users, key=lambda c: c.__name__ != "PPOConfig"):
        fresh = []
        for opt in dataclass_options(cls):
            if opt.name not in seen:
                seen[opt.name] = len(groups)
                fresh.append(opt)
                continue
            owner = groups[seen[opt.name]][2]
            i = next(j for j, o in enumerate(owner) if o.name == opt.name)
            if owner[i].default != opt.default and opt.name not in skipped:
                note = f"{', '.join(users[cls])}: {opt.default!r}"
                joined = "; ".join(filter(None, [owner[i].other_defaults, note]))
                owner[i] = replace(owner[i], other_defaults=joined)
        groups.append((cls.__name__, users[cls], fresh))
    return groups


def add_learner_options(
    parser: argparse.ArgumentParser,
    *,
    skip: Iterable[str] = (),
    learners: Iterable[str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> list[FieldOption]:
    """Add every learner config field as ``--field-name`` (one argument group per config
    class, help from the field docstrings), except ``skip``; return the options added.
    ``defaults`` replaces shown defaults (see ``add_options``)."""
    skipped = set(skip)
    added: list[FieldOption] = []
    for index, (name, users, options) in enumerate(learner_option_groups(skipped, learners)):
        title = f"{name} (--learner {' | '.join(users)}; help from each field's docstring)"
        if index:
            title += "; also takes the fields above that it shares"
        added += add_options(
            parser.add_argument_group(title), options, skip=skipped, defaults=defaults
        )
    return added


def check_learner_flags(learner: str, values: Mapping[str, Any], preset: str | None = None) -> None:
    """Fields of another learner's config are an error that names the learners they fit
    (and, when the env's preset chose the learner, that preset and how to choose another)."""
    from agentgym.learners import LEARNER_CONFIGS

    LEARNER_CONFIGS.check(learner)
    own = {f.name for f in dataclasses.fields(LEARNER_CONFIGS.get(learner))}
    foreign = sorted(set(values) - own)
    if foreign:
        fits = [
            n
            for n in LEARNER_CONFIGS
            if foreign[0] in {f.name for f in dataclasses.fields(LEARNER_CONFIGS.get(n))}
        ]
        flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
        why = (
            f", the learner of {preset}'s preset; pass --learner "
            f"{'ppo' if 'ppo' in fits else fits[0]} (or --no-preset)"
            if preset and fits
            else ""
        )
        raise ValueError(
            f"{flags}: not a setting of --learner {learner} (it is of --learner "
            f"{' | '.join(fits) or 'none'}){why}"
        )
