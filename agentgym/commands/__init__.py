"""Subcommands of the ``agentgym`` CLI, one module each (see agentgym.cli)."""
