"""Reward synthesis: the candidate lifecycle and the iteration loop shared by designers.

    extract -> vet -> [critic] -> train (population learner, one sandbox worker per
    iteration) -> score (the env's success rate, never the generated reward)

``Synthesis(config, run).run()`` drives a designer (``designers.py``) for
``config.iterations`` iterations of ``config.samples`` samples, keeps the best program
(``best_reward.py``, which ``gym.make(ID, reward=...)`` and ``agentgym train --reward``
accept as is), retrains it on ``final_seeds`` seeds beside the sparse and human
references, and writes everything into the run folder (layout in ``candidates.py``).

The stages after extraction (vet, critic, train, score) are in ``stages.py``.

Resumable at any moment: a sample is finished when its ``result.json`` exists; a rerun
skips finished samples, reuses each iteration's saved ``prompt.json``, and gets every
reply it already paid for from ``<run>/llm_cache.sqlite``.

The settings and the run folder live in ``config.py``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.reward_designers.synthesis.candidates import (
    REJECTED,
    Candidate,
    best_candidate,
    iteration_dir,
    read_json,
    sample_dir,
    write_json,
)
from agentgym.reward_designers.synthesis.config import (
    SynthesisConfig,
    truncated_without_code,
)
from agentgym.reward_designers.synthesis.designers import (
    AwaitingFeedback,
    Designer,
    IterationOutcome,
    Program,
    make_designer,
)
from agentgym.reward_designers.synthesis.stages import CandidateStages
from agentgym.reward_designers.synthesis.tuning import Tuner

if TYPE_CHECKING:
    from agentgym.executors import Executor
    from agentgym.llm.client import LLMClient
    from agentgym.llm.usage import UsageAccount
    from agentgym.runs.rundir import RunDir

log = logging.getLogger(__name__)

Event = Callable[[str, dict[str, Any]], None]


class Synthesis:
    """One synthesis run: a designer, an LLM client, a run folder."""

    def __init__(
        self,
        config: SynthesisConfig,
        run: RunDir,
        *,
        on_event: Event | None = None,
        ask: Callable[[str, str], str] | None = None,
        rank: Callable[..., list[int]] | None = None,
        executor: Executor | None = None,
    ) -> None:
        from agentgym.catalog import task_spec

        self.config = config
        self.run_dir = run
        self.path = Path(run.path)
        self.task = task_spec(config.env_id)
        options: dict[str, Any] = {}
        if config.designer == "text2reward":
            options = {"few_shot": config.few_shot, "ask": ask}
        elif config.designer == "icpl":
            options = {
                "run": self.path,
                "ranker": config.ranker or "human",
                "rank": rank,
                "form": config.form or "code",
            }
        self.designer: Designer = make_designer(
            config.designer, self.task, config.template_dir, **options
        )
        self.on_event = on_event or (lambda kind, data: None)
        self.client: LLMClient | None = None
        self.usage: UsageAccount | None = None
        if self.designer.uses_llm or config.critic or config.analyser:
            from agentgym.llm import UsageAccount, make_client

            if not config.llm:
                raise ValueError(
                    f"--llm: the {config.designer} designer needs an LLM spec "
                    "(or set AGENTGYM_LLM); use --designer library to run without one"
                )
            self.usage = UsageAccount()
            self.client = make_client(
                config.llm,
                cache=self.path / "llm_cache.sqlite",
                usage=self.usage,
                checks=(truncated_without_code,),
            )
        builder = self.designer.builder
        from agentgym.reward_designers.critique import RewardCritic, TrajectoryAnalyser

        self.critic = RewardCritic(self.client, builder) if config.critic else None
        self.analyser = TrajectoryAnalyser(self.client, builder) if config.analyser else None
        # Not part of the config: a run resumes under either executor.
        self.stages = CandidateStages(
            self.path, config, self.task, self.critic, self.emit, executor
        )
        self.stages.videos = self.designer.wants_videos
        self.stages.calibrator = self.designer.calibrate if self.designer.calibrates else None
        self.tuner = (
            Tuner(self.path, config, self.designer, self.stages, self.emit)
            if config.tuning
            else None
        )

    # -- events and usage ---------------------------------------------------------------
    def emit(self, kind: str, **data: Any) -> None:
        if self.usage is not None:
            data.setdefault("tokens", self.tokens_spent())
        self.on_event(kind, data)

    def tokens_spent(self) -> int:
        """Tokens of this run, earlier sessions included."""
        now = (self.usage.prompt_tokens + self.usage.completion_tokens) if self.usage else 0
        return getattr(self, "_earlier_tokens", 0) + now

    def _sessions(self) -> list[dict[str, Any]]:
        return read_json(self.path / "llm_usage.json", {}).get("sessions", [])

    def _write_usage(self) -> None:
        if self.usage is None:
            return
        data = read_json(self.path / "llm_usage.json", {"sessions": []})
        sessions = data.get("sessions", [])[: self._session_index] + [self.usage.to_dict()]
        totals: dict[str, Any] = {
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "requests": 0,
            "cache_hits": 0,
            "cost_usd": 0.0,
        }
        for s in sessions:
            for key in ("prompt_tokens", "completion_tokens", "requests", "cache_hits"):
                totals[key] += int(s.get(key) or 0)
            cost = s.get("cost_usd")
            totals["cost_usd"] = (
                None if (cost is None or totals["cost_usd"] is None) else totals["cost_usd"] + cost
            )
        write_json(
            self.path / "llm_usage.json",
            {"llm": self.config.llm, "totals": totals, "sessions": sessions},
        )

    def _write_summary(self) -> None:
        from agentgym.reward_designers.synthesis.summary import summary_rows

        self.run_dir.update_manifest(summary=summary_rows(self.path, self.config))

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run (or finish) every iteration and the final retraining; returns best.json."""
        from agentgym.runs.report import build_report
        from agentgym.sandbox.policy import require_strong_isolation

        if self.config.designer != "library":
            require_strong_isolation("LLM-written reward programs", self.path)
        previous = self._sessions()
        self._session_index = len(previous)
        self._earlier_tokens = sum(
            int(s.get("prompt_tokens", 0)) + int(s.get("completion_tokens", 0)) for s in previous
        )
        self.run_dir.update_manifest(status="running")
        try:
            first = self._prompt_for(0, None)
            outcome: IterationOutcome | None = None
            for it in range(self.config.iterations):
                messages = self._prompt_for(it, outcome, first) if it else first
                if messages is None:
                    break
                outcome = self.iteration(it, messages)
                if self.tuner is not None:
                    self._tune(it, outcome)
                self.designer.observe(outcome)
                self._write_usage()
                self._write_summary()
            summary = self.finish()
        except AwaitingFeedback as wait:
            # Not a failure: every finished sample is on disk, and --resume goes on from here.
            self.run_dir.update_manifest(status=f"waiting: {wait}")
            self._write_usage()
            self._write_summary()
            build_report(self.run_dir)
            self.emit("waiting", message=str(wait), resume=wait.resume)
            raise
        except BaseException as err:
            status = (
                "interrupted"
                if isinstance(err, KeyboardInterrupt)
                else f"failed: {type(err).__name__}: {err}"
            )
            self.run_dir.update_manifest(status=status)
            self._write_usage()
            raise
        self._write_usage()
        self._write_summary()
        self.run_dir.update_manifest(status="done")
        build_report(self.run_dir)
        self.emit("done", report=str(self.run_dir.report_path), best=summary.get("best"))
        return summary

    def _prompt_for(
        self, it: int, outcome: IterationOutcome | None, first: list[dict[str, str]] | None = None
    ) -> list[dict[str, str]] | None:
        """Iteration ``it``'s messages: the saved ones on a resume, else the designer's."""
        path = iteration_dir(self.path, it) / "prompt.json"
        saved = read_json(path)
        if saved is not None:
            return saved["messages"]
        if it == 0:
            messages = self.designer.initial_messages()
        else:
            assert outcome is not None and first is not None
            if self.analyser is not None:  # only when a next prompt will read it
                outcome.analysis = self._analyse(it - 1, outcome)
            messages = self.designer.next_messages(first, outcome, self.best())
            if messages is None:
                return None
        write_json(
            path,
            {
                "iteration": it,
                "designer": self.designer.name,
                "llm": self.config.llm,
                "messages": messages,
            },
        )
        return messages

    def best(self) -> tuple[Candidate, str] | None:
        from agentgym.reward_designers.synthesis.candidates import load_candidates

        top = best_candidate(load_candidates(self.path))
        if top is None:
            return None
        return top, (sample_dir(self.path, top.iteration, top.index) / "reward.py").read_text()

    # -- one iteration ------------------------------------------------------------------
    def iteration(self, it: int, messages: list[dict[str, str]]) -> IterationOutcome:
        cfg = self.config
        folder = iteration_dir(self.path, it)
        k = cfg.samples
        self.emit("iteration", iteration=it, samples=k)
        done = {
            i: Candidate.from_dict(d)
            for i in range(k)
            if (d := read_json(sample_dir(self.path, it, i) / "result.json")) is not None
        }
        sources: dict[int, str] = {}
        unread: dict[int, Program] = {}  # replies the designer rejected, for a repair
        repairs_on = self.client is not None and cfg.repairs > 0
        if len(done) < k:
            proposals = self.designer.propose(
                self.client, messages, k, temperature=cfg.temperature, max_tokens=cfg.max_tokens
            )
            self._write_usage()  # a run killed later still accounts for what it paid
        else:
            proposals = []
        self.emit("received", iteration=it, received=k if not proposals else len(proposals))
        pending: list[int] = []
        for i in range(k):
            folder_i = sample_dir(self.path, it, i)
            if i in done:
                if (folder_i / "reward.py").is_file():
                    sources[i] = (folder_i / "reward.py").read_text()
                elif (folder_i / "response.txt").is_file():
                    # a reply the designer rejected: shown again beside its error
                    shown = self.designer.program((folder_i / "response.txt").read_text()).shown
                    if shown:
                        sources[i] = shown
                continue
            if i >= len(proposals):
                continue  # the library designer has fewer programs than samples
            proposal = proposals[i]
            write_json(folder_i / "prompt.json", {"messages": messages, "origin": proposal.origin})
            (folder_i / "response.txt").write_text(proposal.text)
            program = self.designer.program(proposal.text)
            source = program.source
            origin = proposal.origin
            if source is None and program.salvage is not None and not repairs_on:
                # no repair to ask for: the part of the reply that passes trains
                source = program.salvage
                self.stages.salvaged[(it, i)] = program.salvage_note
            if source is None:
                # NO_CODE, or the designer's own rejection (a sketch that fails its checks)
                if program.shown:
                    sources[i] = program.shown  # so the next prompt can show it with its error
                if program.shown and repairs_on:
                    # a reply the designer read and can show back (an unknown variable, a
                    # vector for a scalar): repaired like a vetting rejection (_vet). A
                    # program here is an unfinished session's repair, not this reply's.
                    (folder_i / "reward.py").unlink(missing_ok=True)
                    unread[i] = program
                    continue
                done[i] = self.stages.record(
                    Candidate(it, i, REJECTED, program.code, program.message, origin=origin)
                )
                continue
            (folder_i / "reward.py").write_text(source)
            sources[i] = source
            pending.append(i)
        origins = {i: proposals[i].origin for i in [*pending, *unread]}
        pending = self._vet(it, pending, sources, origins, done, messages, unread)
        pending = self.stages.criticise(it, pending, sources, origins, done)
        self.stages.train(it, pending, origins, done)
        outcome = IterationOutcome(it, [done[i] for i in sorted(done)], sources)
        for c in outcome.trained():
            outcome.series[c.index] = self._series(it, c.index)
        best = self.best()
        if best is not None:
            self._keep_best(*best)
        self.emit(
            "iteration_done",
            iteration=it,
            candidates=[c.to_dict() for c in outcome.candidates],
            best_success=best[0].success if best else None,
        )
        write_json(
            folder / "summary.json",
            {"iteration": it, "candidates": [c.to_dict() for c in outcome.candidates]},
        )
        return outcome

    def _tune(self, it: int, outcome: IterationOutcome) -> None:
        """Tune the iteration's best program's numbers (tuning.py); a tuned candidate that
        beat it joins the outcome, with its reflection series."""
        tuned = self.tuner.tune(it, outcome)
        if tuned is None:
            return
        outcome.series[tuned.index] = self._series(it, tuned.index)
        best = self.best()
        if best is not None:
            self._keep_best(*best)

    def _vet(
        self,
        it: int,
        pending: list[int],
        sources: dict[int, str],
        origins: dict[int, str],
        done: dict[int, Candidate],
        messages: list[dict[str, str]],
        unread: dict[int, Program] | None = None,
    ) -> list[int]:
        """Vet the pending programs; with ``repairs``, send each rejected one back to the
        LLM (``_repair``) and vet what comes back, up to ``repairs`` rounds. ``unread``
        holds the samples whose reply the designer itself rejected (``Designer.program``:
        a sketch with an unknown variable, a bad shape, broken JSON), each with its
        rejection as its verdict: they go into the first round like a vetting rejection.
        A reply that repeats the rejected program keeps its verdict without being vetted
        again, and one the designer rejects carries that new rejection into the next
        round. A reply still rejected by the designer when no round is left, of which a
        part passes (``Program.salvage``: some terms of a sketch), has that part vetted
        and, if it passes, trained with a note. Returns those that passed; the others are
        recorded as rejected with their last verdict."""
        total = len(pending) + len(unread or {})
        passed: list[int] = []
        rounds = self.config.repairs if self.client is not None else 0
        # still failing without a vetting: unread replies, echoes, replies the designer
        # rejected; each with its verdict
        carried: dict[int, Any] = dict(unread or {})
        salvage: dict[int, Program] = {}  # final rejections whose passing part trains
        for attempt in range(rounds + 1):
            verdicts = self.stages.check(it, pending, sources)
            passed += [i for i in pending if verdicts[i].ok]
            failed = {i: v for i, v in verdicts.items() if not v.ok} | carried
            if failed and attempt < rounds:
                fixed, carried = self._repair(
                    it, sorted(failed), sources, failed, messages, attempt + 1
                )
            else:
                fixed, carried = {}, {}
            for i, v in failed.items():
                if i in fixed or i in carried:
                    self.stages.repairs[(it, i)] = attempt + 1
                elif isinstance(v, Program) and v.salvage is not None:
                    salvage[i] = v
                else:
                    done[i] = self.stages.reject(it, i, str(v.code), v.message, origins[i])
            pending = sorted(fixed)
            if not pending and not carried:
                break
        if salvage:
            for i, v in salvage.items():
                (sample_dir(self.path, it, i) / "reward.py").write_text(v.salvage or "")
                sources[i] = v.salvage or ""
                self.stages.salvaged[(it, i)] = v.salvage_note
            verdicts = self.stages.check(it, sorted(salvage), sources)
            for i, verdict in verdicts.items():
                if verdict.ok:
                    passed.append(i)
                else:  # the part's own verdict; its note says what was left out
                    done[i] = self.stages.reject(
                        it, i, str(verdict.code), verdict.message, origins[i]
                    )
        self.emit("vetted", iteration=it, passed=len(passed), rejected=total - len(passed))
        return sorted(passed)

    def _repair(
        self,
        it: int,
        failed: list[int],
        sources: dict[int, str],
        verdicts: dict[int, Any],
        messages: list[dict[str, str]],
        attempt: int,
    ) -> tuple[dict[int, str], dict[int, Any]]:
        """One repair round: each failed program (or rejected reply), its error and a
        request for a fix go to the LLM (``repair_mode="fix"``), or the iteration's prompt
        is sampled afresh for it (``"resample"``). A seed per sample and round keeps each
        request distinct in the cache, so a round never gets an earlier round's reply
        back. Returns the new sources that hold code, and the verdicts of the samples
        still failing without a vetting: a reply that repeated its program keeps its
        verdict, one the designer rejected (``Designer.program``) has that rejection."""
        cfg = self.config
        fixed: dict[int, str] = {}
        carried: dict[int, Any] = {}
        for i in failed:
            folder = sample_dir(self.path, it, i)
            v = verdicts[i]
            self.emit("repair", iteration=it, sample=i, attempt=attempt, code=str(v.code))
            seed = (it * 1000 + i) * 100 + attempt
            if cfg.repair_mode == "resample":
                ask = messages
            else:
                ask = self.designer.repair_messages(messages, sources[i], str(v.code), v.message)
            text = self.designer.ask_repair(
                self.client, ask, temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=seed
            )
            self._write_usage()
            if (folder / "reward.py").is_file():  # a rejected reply has none: response.txt
                shutil.copyfile(folder / "reward.py", folder / f"reward_attempt{attempt - 1}.py")
            write_json(
                folder / f"repair_{attempt}.json",
                {
                    "mode": cfg.repair_mode,
                    "code": str(v.code),
                    "message": v.message,
                    "messages": ask,
                    "reply": text,
                },
            )
            program = self.designer.program(text)
            source = program.source
            if source is not None and source.strip() == sources[i].strip():
                carried[i] = v
            elif source is not None:
                (folder / "reward.py").write_text(source)
                sources[i] = source
                fixed[i] = source
            else:
                carried[i] = program
                if program.shown:
                    sources[i] = program.shown
        return fixed, carried

    def _series(self, it: int, i: int) -> dict[str, list[float]]:
        from agentgym.learners.logger import read_metrics
        from agentgym.reward_designers.synthesis.reflection import reflection_series

        path = sample_dir(self.path, it, i) / "train" / "logs" / "metrics.jsonl"
        return reflection_series(read_metrics(path)) if path.is_file() else {}

    def _analyse(self, it: int, outcome: IterationOutcome) -> str:
        path = iteration_dir(self.path, it) / "analysis.txt"
        if path.is_file():
            return path.read_text()
        trained = outcome.trained()
        if not trained:
            return ""
        top = max(trained, key=lambda c: (c.rank, -c.index))
        text = self.analyser.summarise(
            self.task,
            outcome.sources[top.index],
            sample_dir(self.path, it, top.index) / "train" / "traces.json",
        )
        path.write_text(text)
        return text

    def _keep_best(self, candidate: Candidate, source: str) -> None:
        header = (
            f"# Reward for {self.config.env_id}, synthesised by agentgym ({self.config.designer}, "
            f"{candidate.origin if candidate.origin != 'llm' else self.config.llm}),\n"
            f"# candidate {candidate.folder_name}: success {candidate.success or 0:.2f} after "
            f"{self.config.search_steps()} steps.\n"
        )
        text = source if source.startswith("# Reward for") else header + source
        if (self.path / "best_reward.py").is_file() and (
            self.path / "best_reward.py"
        ).read_text() == text:
            return
        (self.path / "best_reward.py").write_text(text)
        write_json(self.path / "best.json", candidate.to_dict())

    # -- the end -------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        """Retrain the best program on M seeds beside the references; write final.json."""
        from agentgym.reward_designers.synthesis.scores import evaluate_rewards, human_normalised

        best = self.best()
        summary: dict[str, Any] = {"best": best[0].to_dict() if best else None}
        saved = read_json(self.path / "final.json")
        if saved is not None:
            return saved
        cfg = self.config
        if best is None or cfg.final_seeds == 0:
            write_json(self.path / "final.json", summary)
            return summary
        steps = cfg.retrain_steps()
        learner, settings = cfg.training_settings(steps)
        self.emit("final", seeds=cfg.final_seeds, steps=steps)
        seeds = [cfg.seed + s for s in range(cfg.final_seeds)]
        # The worker sees only its own folder (a private /tmp under bubblewrap): the
        # program travels inside it.
        program = self.path / "final" / "best_reward.py"
        program.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path / "best_reward.py", program)
        results = evaluate_rewards(
            cfg.env_id,
            {"synthesised": str(program.resolve())},
            seeds,
            steps,
            run_dir=self.path / "final",
            learner=learner,
            config=settings,
            references=cfg.references,
            video=cfg.video,
            deadline_s=cfg.train_deadline_s * max(1, cfg.final_seeds),
            executor=self.stages.executor,
        )
        summary["final"] = results
        summary["human_normalised"] = human_normalised(results)
        write_json(self.path / "final.json", summary)
        return summary
