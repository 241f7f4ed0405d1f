"""Eureka (Ma et al. 2023): I iterations x K samples, reward reflection in between.

Each iteration asks for K programs with the same prompt; the loop vets and trains them
and scores them on the task's success metric. The next prompt is the first one, then
the iteration's best program as the assistant's turn, then its *reward reflection*:
each component's values at ~10 checkpoints of training with their max/mean/min, the
success rate and episode length, and Eureka's rules (rewrite when success stays near
zero; rescale or drop components that stay constant or dominate by magnitude). The
errors of the iteration's broken programs (vetting codes, NONFINITE at step t, runtime
errors) go back too, each with its code, and so does the trajectory analyser's summary
when ``--analyser`` is on.
"""

from __future__ import annotations

from agentgym.llm.completion import Message
from agentgym.reward_designers.synthesis.candidates import TRAINED, Candidate
from agentgym.reward_designers.synthesis.designers import (
    Designer,
    IterationOutcome,
    conversation,
    join_feedback,
)

ERRORS_HEADER = "Other samples of this iteration could not be used; avoid their mistakes:"


class EurekaDesigner(Designer):
    """Zero-shot prompt with Eureka's tips; reflection-driven follow-ups."""

    name = "eureka"

    def next_messages(
        self, first: list[Message], outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> list[Message] | None:
        focus = self.focus(outcome, best)
        if focus is None:
            return first  # nothing came back at all: ask again
        candidate, source = focus
        parts: list[str] = []
        if (
            candidate.status == TRAINED
            and candidate.index in outcome.series
            and candidate.iteration == outcome.iteration
        ):
            parts.append(
                self.builder.reflection(
                    source,
                    outcome.series[candidate.index],
                    outcome.checkpoints,
                    fitness=self.task.fitness,
                )
            )
        elif candidate.status == TRAINED:
            parts.append(
                f"The program below is the best so far (success rate {candidate.success or 0:.0%}"
                f"{_fitness_note(candidate.fitness)}); "
                "every program of the last iteration failed."
            )
        else:
            parts.append(self.builder.error(source, str(candidate.code), candidate.message))
        parts += self.closing_feedback(
            outcome, skip=candidate.index if candidate.status != TRAINED else None
        )
        return conversation(first, source, join_feedback(parts))

    def closing_feedback(self, outcome: IterationOutcome, skip: int | None = None) -> list[str]:
        """What ends every feedback message: the other samples' errors (all but
        ``skip``), the trajectory analysis and the tuning rounds, where there are any."""
        parts = []
        errors = self.error_feedback(outcome, skip=skip)
        if errors:
            parts.append(ERRORS_HEADER + "\n\n" + "\n\n".join(errors))
        if outcome.analysis:
            parts.append("Analysis of failed evaluation episodes:\n" + outcome.analysis)
        if outcome.tuning:
            parts.append(outcome.tuning)
        return parts


def _fitness_note(fitness: float | None) -> str:
    return "" if fitness is None else f", task fitness {fitness:.3g}"
