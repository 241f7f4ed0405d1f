"""Text2Reward (Xie et al. 2023): zero- or few-shot programs, then rounds of feedback.

The first prompt is the Pythonic abstraction of the env with the instruction, optionally
preceded by ``few_shot`` programs retrieved from ``reward_designers/library/`` by
similarity to the instruction (never the task's own program). After each round the best
program so far goes back with feedback in plain language: typed by a person at the CLI
prompt (``ask`` callback) or written from the training results (``auto_feedback``).
"""

from __future__ import annotations

from collections.abc import Callable

from agentgym.llm.completion import Message
from agentgym.reward_designers.synthesis.candidates import TRAINED, Candidate
from agentgym.reward_designers.synthesis.designers import (
    Designer,
    IterationOutcome,
    conversation,
    join_feedback,
)
from agentgym.reward_designers.synthesis.retrieval import retrieve

Ask = Callable[[str, str], str]
"""``ask(summary, source) -> feedback``: a person's feedback on a trained program."""


def results_summary(candidate: Candidate) -> str:
    """One line of training results for the feedback prompt."""
    parts = [f"success rate {candidate.success or 0:.0%}"]
    if candidate.fitness is not None:
        parts.append(f"task fitness {candidate.fitness:.3g}")
    if candidate.episode_length is not None:
        parts.append(f"mean episode length {candidate.episode_length:.0f} steps")
    if candidate.mean_return is not None:
        parts.append(f"return of the environment's own reward {candidate.mean_return:.3g}")
    return ", ".join(parts)


def auto_feedback(candidate: Candidate, series: dict[str, list[float]]) -> str:
    """Plain-language feedback written from training results (no person in the loop)."""
    lines = []
    success = candidate.success or 0.0
    if success < 0.1:
        lines.append(
            "The trained policy almost never meets the success criterion, so the reward does not lead "
            "the agent to the goal: reconsider which quantity it rewards and its sign."
        )
    elif success < 0.8:
        lines.append(
            f"The trained policy succeeds in {success:.0%} of episodes: the reward points the right way "
            "but does not make the goal precise enough; reward reaching the criterion itself more sharply."
        )
    else:
        lines.append(
            f"The trained policy succeeds in {success:.0%} of episodes; keep what works and make "
            "learning faster and more reliable."
        )
    terms = {k: v for k, v in series.items() if k not in ("success_rate", "episode_length") and v}
    scale = {k: max(abs(x) for x in v) for k, v in terms.items()}
    for name, values in terms.items():
        spread = max(values) - min(values)
        if spread <= 0.05 * max(scale[name], 1e-8):
            lines.append(
                f"The component '{name}' hardly changed during training ({values[0]:.3g} to "
                f"{values[-1]:.3g}): the agent cannot improve it as written."
            )
    if len(scale) > 1:
        top = max(scale, key=scale.get)
        rest = max(v for k, v in scale.items() if k != top)
        if rest > 0 and scale[top] > 10 * rest:
            lines.append(
                f"The component '{top}' is over ten times larger than the others and dominates the total."
            )
    return " ".join(lines)


class Text2RewardDesigner(Designer):
    """Few-shot (``few_shot`` > 0) or zero-shot prompts; feedback rounds."""

    name = "text2reward"

    def __init__(
        self, task, builder=None, *, few_shot: int = 0, ask: Ask | None = None, **options
    ) -> None:
        super().__init__(task, builder, **options)
        self.few_shot = few_shot
        self.ask = ask

    def initial_messages(self) -> list[Message]:
        examples = retrieve(self.task, self.few_shot) if self.few_shot > 0 else []
        return self.builder.initial(self.task, examples)

    def next_messages(
        self, first: list[Message], outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> list[Message] | None:
        focus = best or self.focus(outcome, best)
        if focus is None:
            return first
        candidate, source = focus
        if candidate.status != TRAINED:
            parts = [self.builder.error(source, str(candidate.code), candidate.message)]
        else:
            series = (
                outcome.series.get(candidate.index, {})
                if candidate.iteration == outcome.iteration
                else {}
            )
            summary = results_summary(candidate)
            text = self.ask(summary, source) if self.ask is not None else ""
            text = text.strip() or auto_feedback(candidate, series)
            parts = [self.builder.feedback(source, text, summary)]
        if outcome.analysis:
            parts.append("Analysis of failed evaluation episodes:\n" + outcome.analysis)
        if outcome.tuning:
            parts.append(outcome.tuning)
        return conversation(first, source, join_feedback(parts))
