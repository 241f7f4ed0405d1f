"""Reward designers: what to ask for first, and what to say after each iteration.

A designer decides the messages; the synthesis loop (``loop.py``) does everything
else (sampling, vetting, training, scoring, the run folder). ``DESIGNERS`` is the one
registry of designers (``--designer``), with did-you-mean on a typo:

- ``eureka``: zero-shot with Eureka's tips; after each iteration, reward reflection of
  the iteration's best program plus the errors of the broken ones (``eureka/``);
- ``text2reward``: zero- or few-shot (library programs retrieved by similarity); after
  each round, plain-language feedback from a person or from the training results
  (``text2reward/``);
- ``structured``: the LLM writes a reward *sketch* (JSON terms over the state variables),
  checked against the TaskSpec and compiled into a program (``structured/``);
- ``icpl``: preference rounds (ICPL): the K policies' evaluation videos go on a ranking
  page, a person (or the proxy ranker) ranks them, and the ranked programs, best first,
  are the next prompt (``icpl/``);
- ``library``: no LLM at all. The candidates are human programs from
  ``reward_designers/library/`` (the task's own first), labelled as such everywhere;
  what ``make demo`` uses when no LLM is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.llm.completion import Message
from agentgym.registry import Registry
from agentgym.reward_designers.prompting import PromptBuilder
from agentgym.reward_designers.synthesis.candidates import FAILED, REJECTED, TRAINED, Candidate
from agentgym.spec import TaskSpec

if TYPE_CHECKING:
    from agentgym.llm.client import LLMClient
    from agentgym.reward_designers.synthesis.numbers import Number
    from agentgym.sandbox.results import VetResult
    from agentgym.sandbox.trajectories import Outcomes

Recheck = Callable[[dict[int, str], str], dict[int, "VetResult"]]
"""Vets new versions of samples' programs under a stage name (``stages.py``): index ->
source in, index -> verdict out, each recorded as ``sample_KK/vet_<stage>.json``."""

MAX_ERROR_FEEDBACK = 3
"""Broken programs whose errors go back in one prompt (distinct codes first)."""
NO_CODE = "NO_CODE"
NO_CODE_MESSAGE = (
    "the reply holds no Python code defining compute_reward; reply "
    "with one ```python block holding the complete function"
)


class AwaitingFeedback(Exception):
    """A designer needs a person's input (a ranking) before it can write the next prompt.

    The loop saves everything, marks the run as waiting and re-raises; ``str(err)`` tells
    the user what to do, ``resume`` is the command that continues the run afterwards."""

    def __init__(self, message: str, resume: str) -> None:
        super().__init__(message)
        self.resume = resume


@dataclass(frozen=True)
class Proposal:
    """One sample: the raw reply (LLM text or a library file) and where it came from."""

    text: str
    origin: str = "llm"


SALVAGED = "salvaged: "
"""The note of a candidate trained on the passing part of a rejected reply
(``Program.salvage``)."""


@dataclass(frozen=True)
class Program:
    """What a reply became: a program's source, or why there is none (a rejection code
    and the message for the LLM) and the text that feedback should show instead."""

    source: str | None
    code: str = ""
    message: str = ""
    shown: str = ""
    """For a rejected reply: what the next prompt shows beside the error (e.g. a sketch)."""
    salvage: str | None = None
    """For a rejected reply of which a part passes (some terms of a sketch): the program
    of that part, which trains once no repair round is left (``loop._vet``)."""
    salvage_note: str = ""
    """What the salvage left out, for the candidate's notes."""

    @property
    def ok(self) -> bool:
        """Whether the reply became a program: a rejected one is its own verdict (``code``,
        ``message``), which a repair round reads as it reads a vetting verdict."""
        return self.source is not None


@dataclass(frozen=True)
class Calibrated:
    """A program the designer changed after vetting it (numbers it set from the vetting
    of recorded states, ``structured/calibration.py``)."""

    source: str
    stage: str
    """The recheck (``Recheck``'s stage name) whose verdict on ``source`` stands."""
    changes: list[str]
    """One sentence per change, for the candidate's notes and the next prompt."""
    record: dict[str, Any] = field(default_factory=dict)
    """What ``sample_KK/calibration.json`` keeps (the sketch as written, the steps)."""


@dataclass
class IterationOutcome:
    """What one iteration produced, as the designer needs it for the next prompt."""

    iteration: int
    candidates: list[Candidate]
    sources: dict[int, str] = field(default_factory=dict)
    """index -> the program's source (when code was extracted)."""
    series: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    """index -> reflection series of a trained candidate (components at checkpoints)."""
    checkpoints: int = 10
    analysis: str = ""
    """The trajectory analyser's summary of failed evaluation episodes (--analyser)."""
    tuning: str = ""
    """What tuning the iteration's best program's numbers did (``tuning.py``; --tune)."""

    def trained(self) -> list[Candidate]:
        return [c for c in self.candidates if c.status == TRAINED]

    def broken(self) -> list[Candidate]:
        return [
            c for c in self.candidates if c.status in (REJECTED, FAILED) and c.index in self.sources
        ]


class Designer:
    """Base designer: Eureka-style first prompt; subclasses write the follow-ups."""

    name = "designer"
    uses_llm = True
    wants_videos = False
    """Whether each trained candidate records an evaluation video (a person watches them)."""
    calibrates = False
    """Whether ``calibrate`` may change vetted programs: only then does vetting load the
    trajectory filter's outcomes for it and offer the recheck."""

    def __init__(
        self, task: TaskSpec, builder: PromptBuilder | None = None, **options: Any
    ) -> None:
        self.task = task
        self.builder = builder or PromptBuilder()
        self.options = options

    # -- prompts ----------------------------------------------------------------------
    def initial_messages(self) -> list[Message]:
        return self.builder.initial(self.task)

    def next_messages(
        self, first: list[Message], outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> list[Message] | None:
        """The next iteration's messages; None when there is nothing to ask."""
        raise NotImplementedError  # abstract: eureka, text2reward and library each follow up their way

    def propose(
        self,
        client: LLMClient | None,
        messages: list[Message],
        k: int,
        *,
        temperature: float,
        max_tokens: int,
    ) -> list[Proposal]:
        """K samples for ``messages`` (through the cached client; None for a designer
        without an LLM)."""
        assert client is not None, f"the {self.name} designer samples from an LLM client"
        replies = client.chat(messages, n=k, temperature=temperature, max_tokens=max_tokens)
        return [Proposal(r.text) for r in replies]

    def repair_messages(
        self, first: list[Message], source: str, code: str, message: str
    ) -> list[Message]:
        """The request to fix ``source``, rejected before training with ``code``:
        ``message``: Eureka's conversation, the program as the assistant's turn, then
        ``repair.j2`` (which asks for the corrected function)."""
        return conversation(first, source, self.builder.repair(code, message))

    def ask_repair(
        self,
        client: LLMClient,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int,
    ) -> str:
        """The reply to a repair request (``repair_messages``, or the first prompt again
        when resampling), under the designer's ``reply_format``; the seed keeps each
        request distinct in the cache."""
        reply = client.chat(
            messages,
            n=1,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            response_format=self.reply_format(),
        )
        return reply[0].text

    def reply_format(self) -> dict[str, Any] | None:
        """The structured output (``response_format``) a repair asks for, as the
        designer's samples do; None: free text."""
        return None

    def observe(self, outcome: IterationOutcome) -> None:
        """Called after every iteration, a resumed one included (state a designer keeps
        across iterations is rebuilt from it; the base keeps none)."""

    def program(self, text: str) -> Program:
        """The program in a reply: its ```python block (or bare code)."""
        from agentgym.llm import extract_code

        source = extract_code(text).code
        return Program(source) if source is not None else Program(None, NO_CODE, NO_CODE_MESSAGE)

    def numbers(self, source: str, limit: int) -> list[Number]:
        """The numbers of ``source`` a tuner may change (``numbers.py``: float weights,
        scales and temperatures of free-form code)."""
        from agentgym.reward_designers.synthesis.numbers import tunable_numbers

        return tunable_numbers(source, limit)

    def with_numbers(self, source: str, numbers: list[Number], values: dict[str, float]) -> str:
        """``source`` with ``numbers`` set to ``values`` (name -> magnitude), its structure
        unchanged."""
        from agentgym.reward_designers.synthesis.numbers import with_numbers

        return with_numbers(source, numbers, values)

    def calibrate(
        self,
        sources: dict[int, str],
        verdicts: dict[int, VetResult],
        recheck: Recheck,
        outcomes: Outcomes | None,
    ) -> dict[int, Calibrated]:
        """Programs the designer changes after their first vetting (``verdicts``), each
        vetted again through ``recheck``; ``outcomes`` labels the trajectory filter's
        episodes (None without an expert). Free-form code keeps the LLM's numbers: {}
        (and ``calibrates`` False, so vetting never calls this)."""
        return {}

    # -- shared pieces ------------------------------------------------------------------
    def error_feedback(self, outcome: IterationOutcome, skip: int | None = None) -> list[str]:
        """Error messages of broken programs, each with its code, distinct codes first."""
        seen: set[str] = set()
        first, rest = [], []
        for c in outcome.broken():
            if c.index == skip:
                continue
            (rest if c.code in seen else first).append(c)
            seen.add(str(c.code))
        return [
            self.builder.error(outcome.sources[c.index], str(c.code), c.message)
            for c in (first + rest)[:MAX_ERROR_FEEDBACK]
        ]

    @staticmethod
    def focus(
        outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> tuple[Candidate, str] | None:
        """The program the follow-up talks about: this iteration's best trained one, else
        the best so far, else the first broken one."""
        trained = outcome.trained()
        if trained:
            top = max(trained, key=lambda c: (c.rank, -c.index))
            return top, outcome.sources[top.index]
        if best is not None:
            return best
        broken = outcome.broken()
        return (broken[0], outcome.sources[broken[0].index]) if broken else None


def conversation(first: list[Message], source: str, feedback: str) -> list[Message]:
    """Eureka's follow-up: the first prompt, the program as the assistant's turn, feedback."""
    return [
        *first,
        {"role": "assistant", "content": f"```python\n{source.strip()}\n```"},
        {"role": "user", "content": feedback},
    ]


class LibraryDesigner(Designer):
    """No LLM: proposes human programs from ``reward_designers/library/``."""

    name = "library"
    uses_llm = False

    def initial_messages(self) -> list[Message]:
        return [
            {
                "role": "system",
                "content": "no LLM: candidates are human-written programs "
                "from reward_designers/library/, not generated",
            }
        ]

    def next_messages(
        self, first: list[Message], outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> list[Message] | None:
        return None  # a library has nothing new to say after training

    def propose(
        self,
        client: LLMClient | None,
        messages: list[Message],
        k: int,
        *,
        temperature: float,
        max_tokens: int,
    ) -> list[Proposal]:
        from agentgym.reward_designers.library import LIBRARY
        from agentgym.reward_designers.synthesis.retrieval import library_examples, retrieve

        own = LIBRARY / f"{self.task.name.lower().replace('-', '_')}.py"
        out = [Proposal(own.read_text(), f"library:{own.name}")] if own.is_file() else []
        by_name = {p.stem: p for p in LIBRARY.glob("*.py")}
        for example in retrieve(self.task, max(0, k - len(out)), library_examples()):
            path = by_name.get(example.task_name.lower().replace("-", "_"))
            out.append(
                Proposal(example.source, f"library:{path.name if path else example.task_name}")
            )
        return out[:k]


DESIGNERS: Registry[Callable[..., Designer]] = Registry("reward designer")
"""``--designer`` names. One registration site: this module."""
DESIGNERS.register("eureka", "agentgym.reward_designers.eureka.designer:EurekaDesigner")
DESIGNERS.register(
    "text2reward", "agentgym.reward_designers.text2reward.designer:Text2RewardDesigner"
)
DESIGNERS.register("structured", "agentgym.reward_designers.structured.designer:StructuredDesigner")
DESIGNERS.register("icpl", "agentgym.reward_designers.icpl.designer:ICPLDesigner")
DESIGNERS.register("library", "agentgym.reward_designers.synthesis.designers:LibraryDesigner")


def make_designer(
    name: str, task: TaskSpec, template_dir: str | Path | None = None, **options: Any
) -> Designer:
    """Build a registered designer (UnknownNameError with a suggestion on a typo)."""
    factory = DESIGNERS.get(name)
    return factory(task, PromptBuilder(template_dir), **options)


def join_feedback(parts: Sequence[str]) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())
