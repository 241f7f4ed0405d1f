"""Prompts for reward designers, rendered from a TaskSpec with Jinja2 templates.

The templates ship in ``reward_designers/templates/``; a folder given as
``template_dir`` overrides any of them by file name (e.g. your own ``task.j2``).
The task prompt is Text2Reward's "Pythonic abstraction" of the env (a class stub whose
attributes are the state variables), the instruction, the success criterion, the
``compute_reward`` signature, and Eureka's tips on named components and temperatures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from agentgym.spec import TaskSpec

TEMPLATES = Path(__file__).parent / "templates"

Message = dict[str, str]


@dataclass(frozen=True)
class Example:
    """A reward program shown as a few-shot example."""

    task_name: str
    instruction: str
    source: str


class PromptBuilder:
    """Renders the messages a designer sends to its LLM."""

    def __init__(self, template_dir: str | Path | None = None) -> None:
        search = [str(template_dir)] if template_dir else []
        if template_dir is not None and not Path(template_dir).is_dir():
            raise FileNotFoundError(f"template_dir {str(template_dir)!r} is not a folder")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([*search, str(TEMPLATES)]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,  # prompts are plain text, not HTML
        )

    def render(self, name: str, **values: object) -> str:
        return self.env.get_template(name).render(**values).strip()

    def tips(self) -> list[str]:
        return [line.strip() for line in self.render("tips.j2").splitlines() if line.strip()]

    def initial(self, task: TaskSpec, examples: Sequence[Example] = ()) -> list[Message]:
        """System and user messages asking for a first reward function."""
        user = self.render("task.j2", task=task, tips=self.tips())
        if examples:
            user = self.render("examples.j2", examples=examples) + "\n\n" + user
        return [
            {"role": "system", "content": self.render("system.j2")},
            {"role": "user", "content": user},
        ]

    def reflection(
        self,
        source: str,
        series: Mapping[str, Sequence[float]],
        checkpoints: int,
        fitness: str = "",
    ) -> str:
        """Eureka's reward reflection: component statistics after training; ``fitness``
        says what the ``task_fitness`` series measures (``TaskSpec.fitness``)."""
        clean = {k: [float(v) for v in vals] for k, vals in series.items() if len(vals)}
        return self.render(
            "reflection.j2", source=source, series=clean, checkpoints=checkpoints, fitness=fitness
        )

    def error(self, source: str, code: str, message: str) -> str:
        """Feedback for a program that failed vetting or training."""
        return self.render("error.j2", source=source, code=code, message=message)

    def repair(self, code: str, message: str) -> str:
        """The follow-up asking to fix a program that failed vetting (the program itself
        is the conversation's previous assistant turn)."""
        return self.render("repair.j2", code=code, message=message)

    def feedback(self, source: str, feedback: str, results: str = "") -> str:
        """Text2Reward's plain-language feedback round (from a person or from training)."""
        return self.render("feedback.j2", source=source, feedback=feedback, results=results)
