"""``agentgym sandbox audit``: every probe runs in a real worker and, under the strong
sandbox, every one is blocked; forced weaker isolations say what they let through."""

from __future__ import annotations

import json

import pytest

from agentgym.cli import main
from agentgym.sandbox.isolation import available

needs_bwrap = pytest.mark.skipif(available() != "bwrap", reason="bubblewrap is not usable here")
QUICK = [
    "root-file", "home", "environment", "other-run", "tcp", "unix-socket", "abstract-socket",
    "mount", "ptrace", "namespace", "spawn", "forge-result", "smuggle",
]  # fmt: skip


def audit(capsys, *args: str) -> tuple[int, dict]:
    code = main(["sandbox", "audit", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


@needs_bwrap
def test_the_quick_probes_are_all_blocked_under_the_strong_sandbox(capsys):
    code, data = audit(capsys, *(arg for name in QUICK for arg in ("--probe", name)))
    (report,) = data["reports"]
    assert [p["name"] for p in report["probes"]] == QUICK
    assert report["escaped"] == [], report["probes"]
    assert code == 0 and data["ok"] is True and report["strong"] is True
    assert report["identity"]["Seccomp"] == "2"
    assert report["identity"]["CapEff"] == "0000000000000000"


def test_an_unknown_probe_is_an_error_naming_the_flag(capsys):
    assert main(["sandbox", "audit", "--probe", "nope"]) == 2
    assert "--probe: unknown nope" in capsys.readouterr().err


@needs_bwrap
@pytest.mark.slow
def test_the_whole_audit_blocks_everything_under_bwrap_and_prints_a_table(capsys):
    code, data = audit(capsys)
    (report,) = data["reports"]
    assert len(report["probes"]) >= 25
    assert report["escaped"] == [], [p for p in report["probes"] if not p["blocked"]]
    assert code == 0
    assert main(["sandbox", "audit", "--probe", "mount", "--probe", "tcp"]) == 0
    out = capsys.readouterr().out
    assert "isolation bwrap" in out and "blocked" in out and "NOT blocked" not in out


@pytest.mark.slow
def test_the_rlimits_fallback_is_reported_with_what_it_does_not_stop(capsys):
    code, data = audit(capsys, "--isolation", "rlimits")
    (report,) = data["reports"]
    assert report["strong"] is False and report["requested"] == "rlimits"
    # No network namespace: the loopback and the abstract socket are reachable.
    assert {"tcp", "abstract-socket"} <= set(report["escaped"])
    # The host's file system is shared: another run's files are readable, and what a
    # program reads leaves in its exception message.
    assert {"other-run", "smuggle"} <= set(report["escaped"])
    # The layers that do not depend on the isolation still hold.
    blocked = {p["name"] for p in report["probes"] if p["blocked"]}
    assert {"mount", "ptrace", "namespace", "environment", "forge-result", "memory"} <= blocked
    assert code == 0  # a forced weaker run informs; it does not fail the audit
