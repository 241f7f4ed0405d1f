"""The sandbox that runs untrusted reward code: audit what it stops on this machine."""

from __future__ import annotations

HELP = "inspect the sandbox for untrusted reward code: audit"
