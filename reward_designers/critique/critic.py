"""Auto MC-Reward's critique (Li et al. 2024) as options of the synthesis loops.

- ``RewardCritic`` (``--critic``): an LLM pass over each program *before any training*,
  checking it for self-consistency and errors (signs against the goal, components that
  do not add up, batch handling, numerics). A program it fails is rejected with code
  ``CRITIC`` and the critic's reasons go back to the designer like a vetting error.
- ``TrajectoryAnalyser`` (``--analyser``): after training, summarises failed evaluation
  episodes (state traces of the key variables, recorded in the training worker) into a
  few sentences of feedback for the next prompt.

Both talk to the same cached client as the designer, so a resumed run pays nothing twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.reward_designers.prompting import PromptBuilder
from agentgym.spec import TaskSpec

if TYPE_CHECKING:
    from agentgym.llm.client import LLMClient

CRITIC = "CRITIC"
"""The rejection code of a program the reward critic failed."""
_VERDICT = re.compile(r"VERDICT\s*:\s*(PASS|FAIL)", re.I)
_STATE_KEY = re.compile(r"""state\s*\[\s*['"](\w+)['"]\s*\]""")


@dataclass(frozen=True)
class CriticVerdict:
    """The critic's judgement of one program."""

    ok: bool
    problems: str
    """The critic's reasons (empty on a pass)."""
    response: str
    """The whole reply, kept in critic.json."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_verdict(reply: str) -> CriticVerdict:
    """A reply's verdict. No verdict line counts as a pass: the critic may only block a
    program for reasons it states, never for failing to follow the reply format."""
    match = _VERDICT.search(reply)
    ok = match is None or match.group(1).upper() == "PASS"
    rest = reply[match.end() :] if match else reply
    problems = (
        ""
        if ok
        else " ".join(line.strip(" -*") for line in rest.strip().splitlines() if line.strip())
    )
    return CriticVerdict(
        ok=ok,
        problems=problems or ("" if ok else "the critic failed it without a reason"),
        response=reply,
    )


class RewardCritic:
    """Checks programs with an LLM before training."""

    def __init__(
        self, client: LLMClient, builder: PromptBuilder | None = None, *, max_tokens: int = 300
    ) -> None:
        self.client = client
        self.builder = builder or PromptBuilder()
        self.max_tokens = max_tokens

    def review(self, task: TaskSpec, source: str) -> CriticVerdict:
        prompt = self.builder.render("critic.j2", task=task, source=source)
        [reply] = self.client.chat(
            [{"role": "user", "content": prompt}], n=1, temperature=0.0, max_tokens=self.max_tokens
        )
        return parse_verdict(reply.text)


def key_variables(source: str, traced: list[str]) -> list[str]:
    """The state variables a program reads (in order of first use), else every traced one."""
    used = list(dict.fromkeys(m.group(1) for m in _STATE_KEY.finditer(source)))
    keys = [k for k in used if k in traced]
    return keys or traced


def failed_episodes(
    traces: list[dict[str, Any]], source: str, limit: int = 2
) -> list[dict[str, Any]]:
    """Up to ``limit`` failed episodes with only the program's key variables."""
    out = []
    for episode in traces:
        if episode.get("success"):
            continue
        keys = key_variables(source, list(episode.get("state", {})))
        out.append({**episode, "state": {k: episode["state"][k] for k in keys}})
        if len(out) >= limit:
            break
    return out


class TrajectoryAnalyser:
    """Summarises failed evaluation episodes into feedback with an LLM."""

    def __init__(
        self,
        client: LLMClient,
        builder: PromptBuilder | None = None,
        *,
        max_tokens: int = 250,
        episodes: int = 2,
    ) -> None:
        self.client = client
        self.builder = builder or PromptBuilder()
        self.max_tokens = max_tokens
        self.episodes = episodes

    def prompt(self, task: TaskSpec, source: str, traces: list[dict[str, Any]]) -> str | None:
        """The analyser's prompt, or None when no traced episode failed."""
        episodes = failed_episodes(traces, source, self.episodes)
        if not episodes:
            return None
        return self.builder.render("analyser.j2", task=task, source=source, episodes=episodes)

    def summarise(self, task: TaskSpec, source: str, traces_path: Path) -> str:
        """The summary for one trained program ('' when it has no failed episode)."""
        if not Path(traces_path).is_file():
            return ""
        prompt = self.prompt(task, source, json.loads(Path(traces_path).read_text()))
        if prompt is None:
            return ""
        [reply] = self.client.chat(
            [{"role": "user", "content": prompt}], n=1, temperature=0.0, max_tokens=self.max_tokens
        )
        return reply.text.strip()
