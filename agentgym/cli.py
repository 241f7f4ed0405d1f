"""The ``agentgym`` command.

Subcommands are discovered: each module in ``agentgym.commands`` defines ``HELP``,
``configure(parser)`` and ``run(args) -> int`` (and may name ``DEPRECATED_ALIASES``, old
names that still work for one release and print a warning); a subpackage (``commands/reward/``) is a
command group whose modules are its subcommands. Command modules import nothing heavy
at module level, so ``agentgym --help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from types import ModuleType

_DEPRECATED: dict[str, str] = {}
"""Deprecated command name -> the command's current name."""


def _add_commands(subparsers: argparse._SubParsersAction, package: ModuleType) -> None:
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        name = getattr(module, "NAME", info.name.replace("_", "-"))
        help_text = getattr(module, "HELP", None)
        aliases = list(getattr(module, "DEPRECATED_ALIASES", ()))
        for alias in aliases:
            _DEPRECATED[alias] = name
        parser = subparsers.add_parser(
            name,
            aliases=aliases,
            help=help_text,
            description=module.__doc__ or help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if info.ispkg:
            group = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)
            _add_commands(group, module)
        else:
            module.configure(parser)
            parser.set_defaults(_run=module.run)


def build_parser() -> argparse.ArgumentParser:
    from agentgym import commands

    parser = argparse.ArgumentParser(
        prog="agentgym",
        description="Reward design for RL with LLMs and VLMs: envs, reward designers, PPO, reports.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_commands(sub, commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.command in _DEPRECATED:
        print(
            f"warning: 'agentgym {args.command}' is deprecated and will be removed in the next "
            f"release; use 'agentgym {_DEPRECATED[args.command]}'",
            file=sys.stderr,
        )
    try:
        from agentgym.commands._task_options import apply

        try:
            apply(args)  # --task / --instruction: the user's own env, registered
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
