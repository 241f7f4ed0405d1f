"""ICPL (Yu et al. 2024, In-Context Preference Learning): preference rounds over videos.

Each iteration samples K programs as Eureka does and trains them, recording one
evaluation video per trained policy. The iteration's ranking page (``page.py``) shows
the videos; whoever ranks them (``ranker``: a person through ``agentgym reward rank``,
the terminal, or the proxy ranker of ``ranking.py``) saves ``iter_NN/ranking.json``.
The next prompt is the first one, the best-ranked program as the assistant's turn, and
ICPL's feedback: its reward reflection, then every worse program in ranked order as
contrast. The ranking, not a success number, decides which program leads.

With the human ranker and no saved ranking the designer raises ``AwaitingFeedback``:
the loop saves the run, which stops with the command to rank and the one to resume.

``form="sketch"`` asks for each candidate as the structured designer's JSON sketch
(``structured/``: its prompt, structured output and compiler) instead of free-form code.
The ranking is over policies, so the program's form does not change ICPL; it lets a
small model whose free-form code rarely runs on a batch produce K trainable programs,
which a ranking needs (two at least). The ranked feedback then shows sketches and each
term's values during training, and asks for a sketch back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.llm.completion import Message
from agentgym.reward_designers.eureka.designer import EurekaDesigner
from agentgym.reward_designers.icpl.page import video_of, write_page
from agentgym.reward_designers.icpl.ranking import (
    Ranking,
    load_ranking,
    page_path,
    proxy_order,
    resume_command,
    save_ranking,
)
from agentgym.reward_designers.prompting import PromptBuilder
from agentgym.reward_designers.structured.compiler import sketch_of_program
from agentgym.reward_designers.structured.designer import StructuredDesigner, shown_errors
from agentgym.reward_designers.synthesis.candidates import Candidate
from agentgym.reward_designers.synthesis.designers import (
    AwaitingFeedback,
    IterationOutcome,
    Program,
    Proposal,
    conversation,
    join_feedback,
)
from agentgym.spec import TaskSpec

if TYPE_CHECKING:
    from agentgym.llm.client import LLMClient
    from agentgym.reward_designers.synthesis.numbers import Number

FORMS = ("code", "sketch")
"""How the LLM writes each candidate: free-form Python (ICPL's own) or a JSON sketch."""

Rank = Callable[[int, list[dict[str, Any]], Path], list[int]]
"""``rank(iteration, candidates, page) -> order``: a terminal ranker (the CLI's prompt);
``candidates`` are each trained sample's number, numbers and video path."""


class ICPLDesigner(EurekaDesigner):
    """Eureka's sampling; the next prompt follows a ranking of the policies' videos."""

    name = "icpl"
    wants_videos = True

    def __init__(
        self,
        task: TaskSpec,
        builder: PromptBuilder | None = None,
        *,
        run: str | Path,
        ranker: str = "human",
        rank: Rank | None = None,
        form: str = "code",
        **options: Any,
    ) -> None:
        super().__init__(task, builder, **options)
        if form not in FORMS:
            raise ValueError(f"ICPLDesigner.form: expected one of {FORMS}, got {form!r}")
        self.run = Path(run)
        self.ranker = ranker
        self.rank = rank
        self.form = form
        # Crossover off: in ICPL the ranking alone decides what the next prompt builds on.
        self.sketches = (
            StructuredDesigner(task, self.builder, crossover=False) if form == "sketch" else None
        )

    # -- the candidates' form: free-form code (Eureka's) or sketches (structured's) -----
    def initial_messages(self) -> list[Message]:
        if self.sketches is not None:
            return self.sketches.initial_messages()
        return super().initial_messages()

    def propose(
        self,
        client: LLMClient | None,
        messages: list[Message],
        k: int,
        *,
        temperature: float,
        max_tokens: int,
    ) -> list[Proposal]:
        if self.sketches is not None:
            return self.sketches.propose(
                client, messages, k, temperature=temperature, max_tokens=max_tokens
            )
        return super().propose(client, messages, k, temperature=temperature, max_tokens=max_tokens)

    def program(self, text: str) -> Program:
        if self.sketches is not None:
            return self.sketches.program(text)
        return super().program(text)

    def repair_messages(
        self, first: list[Message], source: str, code: str, message: str
    ) -> list[Message]:
        if self.sketches is not None:
            return self.sketches.repair_messages(first, source, code, message)
        return super().repair_messages(first, source, code, message)

    def reply_format(self) -> dict[str, Any] | None:
        if self.sketches is not None:
            return self.sketches.reply_format()
        return super().reply_format()

    def numbers(self, source: str, limit: int) -> list[Number]:
        if self.sketches is not None:
            return self.sketches.numbers(source, limit)
        return super().numbers(source, limit)

    def with_numbers(self, source: str, numbers: list[Number], values: dict[str, float]) -> str:
        if self.sketches is not None:
            return self.sketches.with_numbers(source, numbers, values)
        return super().with_numbers(source, numbers, values)

    def observe(self, outcome: IterationOutcome) -> None:
        """Write the iteration's ranking page; the proxy ranker ranks at once."""
        if self.sketches is not None:
            # Its follow-up without a ranking (fewer than two policies) reads the
            # trained sketches it kept.
            self.sketches.observe(outcome)
        write_page(
            self.run,
            outcome.iteration,
            outcome.candidates,
            outcome.sources,
            self.task.name,
            self.task.instruction,
        )
        if (
            self.ranker == "proxy"
            and len(outcome.trained()) >= 2  # one policy is no ranking (ranking() agrees)
            and load_ranking(self.run, outcome.iteration) is None
        ):
            order = proxy_order(outcome.candidates)
            if order:
                save_ranking(self.run, Ranking(outcome.iteration, order, "proxy"))

    def ranking(self, outcome: IterationOutcome) -> Ranking | None:
        """The iteration's saved ranking, asked for when there is none; None when fewer
        than two policies trained (nothing to compare). Raises AwaitingFeedback when a
        person has yet to rank them."""
        trained = outcome.trained()
        if len(trained) < 2:
            return None
        saved = load_ranking(self.run, outcome.iteration)
        if saved is not None:
            return saved
        page = page_path(self.run, outcome.iteration)
        if self.ranker == "terminal" and self.rank is not None:
            shown = [
                {
                    "index": c.index,
                    "success": c.success,
                    "fitness": c.fitness,
                    "video": str(video_of(self.run, outcome.iteration, c.index) or ""),
                }
                for c in trained
            ]
            order = self.rank(outcome.iteration, shown, page)
            ranking = Ranking(outcome.iteration, order, "terminal")
            save_ranking(self.run, ranking)
            return ranking
        raise AwaitingFeedback(
            f"iteration {outcome.iteration}'s {len(trained)} policies wait for a ranking: "
            f"rank them with `agentgym reward rank {self.run}` (a page on 127.0.0.1; "
            f"--terminal to rank in the terminal; the page alone is {page})",
            resume_command(self.run),
        )

    def next_messages(
        self, first: list[Message], outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> list[Message] | None:
        ranking = self.ranking(outcome)
        if ranking is None:
            # Nothing to rank: Eureka's reflection or errors (the structured designer's
            # follow-up for sketches), as ICPL would have to.
            if self.sketches is not None:
                return self.sketches.next_messages(first, outcome, best)
            return super().next_messages(first, outcome, best)
        if self.sketches is not None:
            return self.ranked_sketches(first, outcome, ranking)
        top = ranking.order[0]
        source = outcome.sources[top]
        reflection = ""
        if top in outcome.series:
            reflection = self.builder.reflection(
                source, outcome.series[top], outcome.checkpoints, fitness=self.task.fitness
            )
        total = len(ranking.order)
        worse = [(n + 2, outcome.sources[i]) for n, i in enumerate(ranking.order[1:])]
        parts = [
            self.builder.render(
                "preference.j2",
                form="code",
                ranker=ranking.ranker,
                total=total,
                reflection=reflection,
                worse=worse,
            )
        ]
        parts += self.closing_feedback(outcome)
        return conversation(first, source, join_feedback(parts))

    def ranked_sketches(
        self, first: list[Message], outcome: IterationOutcome, ranking: Ranking
    ) -> list[Message]:
        """ICPL's follow-up in sketch form: the best-ranked sketch as the assistant's turn;
        its terms' values during training, every worse sketch in ranked order and the
        rejected sketches' errors as feedback."""
        sketches = {i: sketch_of_program(outcome.sources[i]) for i in ranking.order}
        shown = {
            i: json.dumps(s) if s is not None else outcome.sources[i].strip()
            for i, s in sketches.items()
        }
        top = ranking.order[0]
        errors = shown_errors(outcome)
        feedback = self.builder.render(
            "preference.j2",
            form="sketch",
            ranker=ranking.ranker,
            total=len(ranking.order),
            series={k: v for k, v in outcome.series.get(top, {}).items() if k != "episode_length"},
            fitness=self.task.fitness,
            worse=[(n + 2, shown[i]) for n, i in enumerate(ranking.order[1:])],
            errors=errors,
            analysis=outcome.analysis,
            tuning=outcome.tuning,
        )
        return [
            *first,
            {"role": "assistant", "content": shown[top]},
            {"role": "user", "content": feedback},
        ]
