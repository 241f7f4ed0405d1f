"""List every agentgym env: id, family, robot, spaces and success criterion, and count the
tasks and the distinct robots that do them (Eureka reports 29 tasks on 10 robots)."""

from __future__ import annotations

import argparse
import json

HELP = "list the registered agentgym envs"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--family", default=None, help="only envs of this family (robotics, text, web, ...)"
    )
    parser.add_argument(
        "--no-spaces", action="store_true", help="skip building envs to read their spaces"
    )


def run(args: argparse.Namespace) -> int:
    from agentgym.catalog import describe, env_ids

    rows = []
    for env_id in env_ids():
        try:
            row = describe(env_id, build=not args.no_spaces)
        except Exception as err:  # one broken env (a missing extra) must not hide the others
            row = {"id": env_id, "family": "?", "error": f"{type(err).__name__}: {err}"}
        rows.append(row)
    families = sorted({str(r.get("family")) for r in rows} - {"?"})
    if args.family is not None and args.family not in families:
        import sys

        from agentgym.registry import suggest

        # An empty table and exit 0 read as "no such envs", not as a typo.
        print(
            f"error: --family: unknown family {args.family!r}.{suggest(args.family, families)} "
            f"Families: {', '.join(families)}",
            file=sys.stderr,
        )
        return 2
    rows = [r for r in rows if args.family is None or r.get("family") == args.family]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    robots = sorted({r["robot"] for r in rows if r.get("robot")})
    table = Table(title=f"agentgym envs: {len(rows)} tasks, {len(robots)} robots")
    for col in ("id", "family", "robot", "action space", "success"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            row["id"],
            row.get("family", ""),
            row.get("robot", ""),
            row.get("action_space", row.get("error", "")),
            row.get("success", ""),
        )
    Console().print(table)
    return 0
