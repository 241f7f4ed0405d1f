"""What the web and tool envs add to ``TextTaskEnv``: the command as the agent wrote it.

``TextTaskEnv`` lower-cases commands before ``_execute`` sees them, which suits text
games ("Go North" == "go north") but not web and tool actions, whose arguments are
data: the text typed into a field, a search query, a SQL query, a final answer.
``WebTaskEnv`` keeps the raw command (only surrounding whitespace removed) beside the
normalised one, so ``_execute`` can parse the raw text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.registry import suggest
from agentgym.text_env import TextTaskEnv


class WebTaskEnv(TextTaskEnv):
    """A TextTaskEnv whose ``_execute`` can read ``self.raw_command``."""

    raw_command: str = ""

    def _step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        raw = action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        self.raw_command = raw.strip() if isinstance(raw, str) else ""
        return super()._step(action)


def unknown_name(kind: str, name: str, known: list[str], limit: int = 12) -> str:
    """An error line naming an unknown ``kind`` with did-you-mean and the known names."""
    shown = ", ".join(known[:limit]) + (", ..." if len(known) > limit else "")
    return f"Unknown {kind} {name!r}.{suggest(name, known)} Known: {shown or 'none'}."
