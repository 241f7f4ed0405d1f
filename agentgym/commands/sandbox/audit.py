"""Try every way out of a sandbox worker on this machine and print what was blocked.

Each probe (read /etc/shadow, the home folder, a parent's environment variable, another
run's folder, the LLM cache; TCP, UDP, a unix socket at a path, an abstract socket;
mount, umount, ptrace, a new namespace, a program started, a signal to agentgym; a write
outside the run folder; memory, CPU, wall time, file size, disk, processes and
descriptors exhausted; a forged
result; secrets smuggled out in an exception) runs in a real worker under a dry run's
limits, the way a reward program runs, and the table shows the evidence.

Exit status: 0 when every probe was blocked under the strong sandbox (bubblewrap, uid
dropped); 1 when one escaped there, or when the default run could not get the strong
sandbox. Runs forced to a weaker isolation (--isolation netns, rlimits, all) show what
those fallbacks do not stop and never change the exit status on their own.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "run every escape probe in a real sandbox worker and print what was blocked"
ALL = "all"


def configure(parser: argparse.ArgumentParser) -> None:
    from agentgym.sandbox.isolation import ISOLATIONS

    parser.add_argument(
        "--isolation",
        choices=[*ISOLATIONS, ALL],
        default=None,
        help="force an isolation (all: each in turn); default: the strongest available",
    )
    parser.add_argument("--json", action="store_true", help="print the reports as one JSON object")
    parser.add_argument(
        "--probe",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this probe (repeatable)",
    )


def _header(report) -> str:  # noqa: ANN001 - an AuditReport, imported lazily
    ident = report.identity
    uid = ident.get("Uid", "?").split("\t")[0]
    seccomp = {"0": "none", "1": "strict", "2": "filter"}.get(ident.get("Seccomp", ""), "?")
    return (
        f"isolation [bold]{report.isolation}[/bold] (asked: {report.requested}) · uid {uid} · "
        f"CapEff {ident.get('CapEff', '?')} · NoNewPrivs {ident.get('NoNewPrivs', '?')} · "
        f"seccomp {seccomp}"
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from agentgym.sandbox.audit import probes, run_audit
    from agentgym.sandbox.isolation import ISOLATIONS, available

    err = Console(stderr=True, soft_wrap=True)
    known = {p.name for p in probes(0)}
    unknown = sorted(set(args.probe or []) - known)
    if unknown:
        err.print(
            f"[red]error:[/red] --probe: unknown {', '.join(unknown)}; one of {', '.join(sorted(known))}"
        )
        return 2
    strongest = available()
    if args.isolation == ALL:
        wanted = [i for i in ISOLATIONS if i != "bwrap" or strongest == "bwrap"]
    else:
        wanted = [args.isolation or strongest]
    if "bwrap" in wanted and strongest != "bwrap":
        err.print("[red]error:[/red] --isolation: bubblewrap is not usable on this machine")
        return 2
    reports = [run_audit(isolation, only=args.probe) for isolation in wanted]
    failed = any(r.strong and r.escaped for r in reports) or (
        args.isolation is None and not reports[0].strong
    )
    if args.json:
        sys.stdout.write(
            json.dumps({"ok": not failed, "reports": [r.to_dict() for r in reports]}) + "\n"
        )
        return 1 if failed else 0
    out = Console(soft_wrap=False)
    for report in reports:
        table = Table(title=_header(report), title_justify="left", show_lines=False)
        table.add_column("probe", no_wrap=True)
        table.add_column("channel")
        table.add_column("result", no_wrap=True)
        table.add_column("evidence", overflow="fold")
        for p in report.probes:
            verdict = "[green]blocked[/green]" if p.blocked else "[bold red]NOT blocked[/bold red]"
            table.add_row(escape(p.name), escape(p.channel), verdict, escape(p.evidence))
        out.print(table)
        escaped = ", ".join(p.name for p in report.escaped) or "none"
        out.print(f"escaped under {escape(report.isolation)}: {escape(escaped)}\n")
    if args.isolation is None and not reports[0].strong:
        err.print(
            f"[red]the strong sandbox is not available[/red] (got {escape(reports[0].isolation)}): "
            "install bubblewrap (scripts/sysdeps.sh)"
        )
    return 1 if failed else 0
