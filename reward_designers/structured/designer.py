"""The ``structured`` designer: sketches in, compiled programs out.

The first prompt (``templates/sketch.j2``) lists the TaskSpec's state variables with their
shapes, the term kinds and the expression language, and asks for a JSON sketch; each
request carries ``response_format`` with ``SKETCH_SCHEMA`` (the client drops it, once and
for good, for a server that refuses it, and the reply's JSON is then found in free text).
``program`` turns a reply into a program: a sketch that fails its checks is a coded
rejection (``SKETCH_*``) whose message and sketch go back in the next prompt.

Before anything trains, ``calibrate`` sets the scale of a term that is flat on recorded
states and flips the sign of a term the trajectory filter contradicts
(``calibration.py``); the follow-up tells the LLM what it changed.

Follow-ups (``templates/sketch_feedback.j2``) show the best sketches so far with their
training results (success, fitness, each term's values during training: reward
reflection over terms) and the iteration's rejected sketches with their errors, and ask
for a mutation of the best one. With ``crossover`` (the default), once two trained
sketches with different terms exist, the last sample of an iteration is their child
instead of an LLM sample (R*'s module crossover: the better parent's terms plus the
other's terms that it lacks), labelled origin "crossover".
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentgym.llm.completion import Message
from agentgym.reward_designers.structured.compiler import (
    compile_sketch,
    constant_names,
    dropped_of_program,
    sketch_of_program,
)
from agentgym.reward_designers.structured.expressions import describe
from agentgym.reward_designers.structured.sketch import (
    KINDS,
    MAX_TERMS,
    SketchRejection,
    Term,
    check_sketch,
    parse_sketch,
    response_format,
)
from agentgym.reward_designers.synthesis.candidates import Candidate
from agentgym.reward_designers.synthesis.designers import (
    SALVAGED,
    Calibrated,
    Designer,
    IterationOutcome,
    Program,
    Proposal,
    Recheck,
)
from agentgym.reward_designers.synthesis.numbers import Number
from agentgym.reward_designers.synthesis.stages import CALIBRATED

if TYPE_CHECKING:
    from agentgym.llm.client import LLMClient
    from agentgym.sandbox.results import VetResult
    from agentgym.sandbox.trajectories import Outcomes

SHOWN_RESULTS = 2
"""Trained sketches shown with their results in a follow-up (the best first)."""
SHOWN_ERRORS = 3
"""Rejected sketches shown with their errors in a follow-up."""
CROSSOVER = "crossover"


@dataclass(frozen=True)
class Parent:
    """A trained sketch and the rank it earned."""

    rank: tuple[float, float, float]
    sketch: dict[str, Any]
    summary: str
    series: dict[str, list[float]]


class StructuredDesigner(Designer):
    """Asks for JSON sketches with structured output; compiles them into programs."""

    name = "structured"
    calibrates = True

    def __init__(self, task, builder=None, *, crossover: bool = True, **options: Any) -> None:
        super().__init__(task, builder, **options)
        self.crossover = crossover
        self.parents: list[Parent] = []
        """Trained sketches of earlier iterations, best first (what follow-ups and
        crossover read)."""

    # -- prompts ----------------------------------------------------------------------
    def initial_messages(self) -> list[Message]:
        variables = [
            {
                "name": v.name,
                "shape_text": describe(v.shape),
                "units": v.units,
                "meaning": v.meaning,
                "aliases": v.aliases,
            }
            for v in self.task.state
            if not v.is_text
        ]
        user = self.builder.render("sketch.j2", task=self.task, variables=variables, kinds=KINDS)
        return [
            {"role": "system", "content": self.builder.render("system.j2")},
            {"role": "user", "content": user},
        ]

    def next_messages(
        self, first: list[Message], outcome: IterationOutcome, best: tuple[Candidate, str] | None
    ) -> list[Message] | None:
        errors = shown_errors(outcome)
        results = [
            {"summary": p.summary, "sketch": _one_line(p.sketch), "series": p.series}
            for p in self.parents[:SHOWN_RESULTS]
        ]
        calibrations = _noted(outcome, CALIBRATED)
        salvaged = _noted(outcome, SALVAGED)
        if not results and not errors:
            return first  # nothing came back at all: ask again
        feedback = self.builder.render(
            "sketch_feedback.j2",
            results=results,
            errors=errors,
            calibrations=calibrations,
            salvaged=salvaged,
            analysis=outcome.analysis,
            tuning=outcome.tuning,
        )
        if results:
            shown = _one_line(self.parents[0].sketch)
        else:
            shown = errors[0]["sketch"]
        return [
            *first,
            {"role": "assistant", "content": shown},
            {"role": "user", "content": feedback},
        ]

    def observe(self, outcome: IterationOutcome) -> None:
        """Keep the iteration's trained sketches (read back from their programs, so a
        resumed run rebuilds the same parents)."""
        for c in outcome.trained():
            sketch = sketch_of_program(outcome.sources.get(c.index, ""))
            if sketch is None:
                continue
            series = {
                k: v
                for k, v in outcome.series.get(c.index, {}).items()
                if k not in ("episode_length",)
            }
            self.parents.append(Parent(c.rank, sketch, _summary(c), series))
        self.parents.sort(key=lambda p: p.rank, reverse=True)

    # -- sampling ---------------------------------------------------------------------
    def propose(
        self,
        client: LLMClient | None,
        messages: list[Message],
        k: int,
        *,
        temperature: float,
        max_tokens: int,
    ) -> list[Proposal]:
        assert client is not None, "the structured designer samples from an LLM client"
        child = self.child() if self.crossover and k > 1 else None
        wanted = k - 1 if child is not None else k
        replies = client.chat(
            messages,
            n=wanted,
            temperature=temperature,
            max_tokens=max_tokens,
            response_format=self.reply_format(),
        )
        proposals = [Proposal(r.text) for r in replies]
        if child is not None:
            proposals.append(Proposal(_one_line(child), CROSSOVER))
        return proposals

    def repair_messages(
        self, first: list[Message], source: str, code: str, message: str
    ) -> list[Message]:
        """The fix request for a sketch: the sketch (not its compiled program; for a reply
        the checks rejected, the reply as written) as the assistant's turn and
        ``sketch_repair.j2``, which asks for JSON back, since the reply is parsed as a
        sketch (the Python that ``repair.j2`` asks for never parses)."""
        sketch = sketch_of_program(source)
        shown = _one_line(sketch) if sketch is not None else source.strip()
        return [
            *first,
            {"role": "assistant", "content": shown},
            {
                "role": "user",
                "content": self.builder.render("sketch_repair.j2", code=code, message=message),
            },
        ]

    def reply_format(self) -> dict[str, Any]:
        """Repairs ask for the sketch schema, as every first sample (``propose``)."""
        return response_format()

    def child(self) -> dict[str, Any] | None:
        """Module crossover of the two best trained sketches with different terms: the
        better parent's terms, then the other's terms whose name and shaped expression it lacks
        (up to MAX_TERMS). None when no such pair exists or the child adds nothing."""
        if len(self.parents) < 2:
            return None
        first = self.parents[0].sketch
        for other in self.parents[1:]:
            terms = list(first["terms"])
            names = {t["name"] for t in terms}
            shaped = {(t["kind"], t["expr"].replace(" ", "")) for t in terms}
            for t in other.sketch["terms"]:
                if len(terms) >= MAX_TERMS:
                    break
                if t["name"] not in names and (t["kind"], t["expr"].replace(" ", "")) not in shaped:
                    terms.append(t)
                    names.add(t["name"])
            if len(terms) > len(first["terms"]):
                return {"terms": terms}
        return None

    # -- tuning -----------------------------------------------------------------------
    def numbers(self, source: str, limit: int) -> list[Number]:
        """A compiled sketch's weights and scales (``REACH_WEIGHT``, ``REACH_SCALE``):
        retuned through the sketch, so its comment and docstring carry the new numbers.
        A weight of 0 stays off (a log-range has no room for it)."""
        sketch = sketch_of_program(source)
        if sketch is None:
            return super().numbers(source, limit)
        out: list[Number] = []
        for t in sketch["terms"]:
            weight, scale = constant_names(Term(**t))
            if t["weight"] > 0:
                out.append(Number(weight, float(t["weight"]), f"{t['name']}'s weight"))
            if scale is not None:
                out.append(Number(scale, float(t["scale"]), f"{t['name']}'s scale"))
        return out[:limit]

    def with_numbers(self, source: str, numbers: list[Number], values: dict[str, float]) -> str:
        """The sketch with the new weights and scales, checked and compiled again."""
        sketch = sketch_of_program(source)
        if sketch is None:
            return super().with_numbers(source, numbers, values)
        terms = []
        for t in sketch["terms"]:
            weight, scale = constant_names(Term(**t))
            terms.append(
                {
                    **t,
                    "weight": float(f"{values.get(weight, t['weight']):.4g}"),
                    "scale": float(f"{values[scale]:.4g}") if scale in values else t["scale"],
                }
            )
        checked = check_sketch({"terms": terms}, self.task)
        return compile_sketch(
            dataclasses.replace(checked, dropped=dropped_of_program(source)), self.task
        )

    # -- numbers from recorded states --------------------------------------------------
    def calibrate(
        self,
        sources: dict[int, str],
        verdicts: dict[int, VetResult],
        recheck: Recheck,
        outcomes: Outcomes | None,
    ) -> dict[int, Calibrated]:
        """Set the scales of flat terms, then flip the terms the trajectory filter
        contradicts (``calibration.py``); each step vets the changed programs again."""
        from agentgym.reward_designers.structured import calibration
        from agentgym.sandbox import Code

        sketches = {
            i: sketch
            for i, source in sources.items()
            if (sketch := sketch_of_program(source)) is not None and verdicts[i].stats
        }
        current = {i: sketches[i] for i in sketches}
        verdict = dict(verdicts)
        changes: dict[int, list[str]] = {i: [] for i in sketches}
        stage: dict[int, str] = {}
        record: dict[int, dict[str, Any]] = {i: {"sketch": sketches[i]} for i in sketches}

        flat = {
            i: names
            for i, sk in sketches.items()
            if (names := calibration.flat_terms(sk, verdicts[i].stats))
        }
        probes = {}
        for i in flat:
            try:
                probes[i] = compile_sketch(
                    check_sketch(calibration.probe_sketch(sketches[i]), self.task), self.task
                )
            except SketchRejection:
                continue  # a term whose |expr| the language cannot write: left as it is
        rescaled = {}
        for i, probe in recheck(probes, "probe").items() if probes else ():
            data, notes = calibration.rescaled(sketches[i], flat[i], probe.stats)
            record[i]["flat"] = flat[i]
            record[i]["spread"] = {n: probe.stats.get(n) for n in flat[i]}
            if notes:
                changes[i] += notes
                current[i] = data
                rescaled[i] = calibration.compiled(
                    data, self.task, changes[i], dropped_of_program(sources[i])
                )
        for i, v in recheck(rescaled, "scale").items() if rescaled else ():
            verdict[i], stage[i] = v, "scale"

        flips = {}
        judged = outcomes is not None and outcomes.judgeable
        for i in sketches if judged else ():
            v = verdict[i]
            if v.code != Code.PREFERENCE or not v.returns:
                continue
            data, notes = calibration.flipped(
                check_sketch(current[i], self.task), v.term_returns, outcomes.success, v.returns
            )
            if notes:
                changes[i] += notes
                current[i] = data
                flips[i] = calibration.compiled(
                    data, self.task, changes[i], dropped_of_program(sources[i])
                )
        for i, v in recheck(flips, "sign").items() if flips else ():
            verdict[i], stage[i] = v, "sign"

        return {
            i: Calibrated(
                rescaled.get(i) if s == "scale" else flips[i],
                s,
                changes[i],
                {**record[i], "calibrated": current[i], "verdict": verdict[i].to_dict()},
            )
            for i, s in stage.items()
        }

    def program(self, text: str) -> Program:
        """Parse, check and compile a sketch; a failed check is a coded rejection."""
        try:
            sketch = parse_sketch(text, self.task)
        except SketchRejection as err:
            salvage, note = self.salvage(text)
            return Program(
                None,
                str(err.code),
                err.message,
                shown=text.strip()[:2000],
                salvage=salvage,
                salvage_note=note,
            )
        return Program(compile_sketch(sketch, self.task))

    def salvage(self, text: str) -> tuple[str | None, str]:
        """The program of a rejected sketch's terms that pass their checks, and a note of
        what was left out; (None, "") when none passes or the reply is no sketch at all.

        A 1.5B model's sketch is often right but for one term (MountainCar: a useful
        speed term beside one reading ``velocity_prev``, which the task lacks); once its
        repairs are spent, the right terms train rather than none."""
        try:
            part = parse_sketch(text, self.task, partial=True)
        except SketchRejection:
            return None, ""
        if not part.dropped:
            return None, ""
        kept = ", ".join(t.name for t in part.terms)
        return compile_sketch(part, self.task), (
            f"{SALVAGED}{len(part.dropped)} term(s) that failed their checks left out, "
            f"kept {kept}: " + "; ".join(part.dropped)
        )


def shown_errors(outcome: IterationOutcome) -> list[dict[str, str]]:
    """The iteration's rejected sketches with their errors, up to SHOWN_ERRORS. A sketch
    that compiled and then failed vetting (PREFERENCE, CONSTANT) shows as its sketch, not
    as the program compiled from it: three such programs made a 3,300-token follow-up on
    Reach, slow to read for a small model and, before n_batch was raised, past what the
    embedded server could take."""
    out = []
    for c in outcome.broken()[:SHOWN_ERRORS]:
        source = outcome.sources[c.index]
        sketch = sketch_of_program(source)
        shown = _one_line(sketch) if sketch is not None else source.strip()
        out.append({"code": str(c.code), "message": c.message, "sketch": shown})
    return out


def _noted(outcome: IterationOutcome, prefix: str) -> list[str]:
    """The iteration's candidate notes that start with ``prefix``, without it."""
    return [n[len(prefix) :] for c in outcome.candidates for n in c.notes if n.startswith(prefix)]


def _one_line(sketch: dict[str, Any]) -> str:
    return json.dumps(sketch)


def _summary(c: Candidate) -> str:
    parts = [f"success rate {c.success or 0:.0%}"]
    if c.fitness is not None:
        parts.append(f"task fitness {c.fitness:.3g}")
    if c.episode_length is not None:
        parts.append(f"mean episode length {c.episode_length:.0f} steps")
    if c.components:
        parts.append(
            "mean term values per step "
            + ", ".join(f"{k} {v:.3g}" for k, v in c.components.items())
        )
    return ", ".join(parts) + (f" ({c.origin})" if c.origin != "llm" else "")
