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
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from agentgym.reward_designers.synthesis.candidates import Candidate
from agentgym.reward_designers.synthesis.designers import (
    AwaitingFeedback,
    IterationOutcome,
    conversation,
    join_feedback,
)
from agentgym.spec import TaskSpec

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
        **options: Any,
    ) -> None:
        super().__init__(task, builder, **options)
        self.run = Path(run)
        self.ranker = ranker
        self.rank = rank

    def observe(self, outcome: IterationOutcome) -> None:
        """Write the iteration's ranking page; the proxy ranker ranks at once."""
        write_page(
            self.run,
            outcome.iteration,
            outcome.candidates,
            outcome.sources,
            self.task.name,
            self.task.instruction,
        )
        if self.ranker == "proxy" and load_ranking(self.run, outcome.iteration) is None:
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
            # Nothing to rank: Eureka's reflection or errors, as ICPL would have to.
            return super().next_messages(first, outcome, best)
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
                ranker=ranking.ranker,
                total=total,
                reflection=reflection,
                worse=worse,
            )
        ]
        parts += self.closing_feedback(outcome)
        return conversation(first, source, join_feedback(parts))
