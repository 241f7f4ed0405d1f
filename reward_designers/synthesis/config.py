"""A synthesis run's settings (``SynthesisConfig``, its config.yaml) and its run folder.

``open_run`` creates the folder, or reopens it when it already holds the very same run
(which is how rerunning a command resumes it); ``resume_config`` reads a run's settings
back for ``--resume DIR``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.config_fields import (
    check_choice,
    check_ints,
    check_range,
    config_from_dict,
    field_error,
)

if TYPE_CHECKING:
    from agentgym.llm.completion import Completion
    from agentgym.presets import Preset, Resolved
    from agentgym.runs.rundir import RunDir

REPORT_SECTION = "agentgym.reward_designers.synthesis.report:build"

SEARCH_STEPS = 30_000
"""N when the env has no preset, or the learner asked for is not its preset's."""
PER_RUN_FIELDS = ("env_id", "reward", "seed", "total_steps", "eval_episodes", "video")
"""Learner config fields the search sets itself (steps, seed, eval_episodes, video)."""
PPO_ERA_FIELDS = ("num_envs", "num_steps", "learning_rate", "gamma", "init_log_std")
"""SynthesisConfig's fields from before presets (PPO only); old config.yaml files hold them."""


REPAIR_MODES = ("fix", "resample")
RANKERS = ("human", "terminal", "proxy")
"""Who ranks an icpl iteration's candidates (``icpl/ranking.py``)."""
FORMS = ("code", "sketch")
"""How the icpl designer's LLM writes each candidate (``icpl/designer.py``)."""


@dataclass(frozen=True)
class SynthesisConfig:
    """Everything that decides what a synthesis run does (its config.yaml)."""

    env_id: str
    """Gymnasium id of an agentgym env (it carries the TaskSpec)."""
    designer: str = "eureka"
    """eureka, text2reward, structured (JSON sketches compiled to programs), icpl
    (preference rounds) or library (no LLM)."""
    llm: str | None = None
    """LLM spec (agentgym.llm.parse_spec); None with the library designer."""
    iterations: int = 2
    """I: rounds of sampling, training and feedback."""
    samples: int = 4
    """K: programs sampled per iteration."""
    steps: int | None = None
    """N: env steps each candidate trains for (None: the preset's search_steps, else its
    steps; 30000 without a preset)."""
    seed: int = 0
    """Seed of every candidate's training run (all candidates share it: a fair race)."""
    final_seeds: int = 3
    """M: seeds the best program is retrained on at the end (0: no retraining)."""
    final_steps: int | None = None
    """Env steps of the final retraining (None: the preset's steps; N without a preset)."""
    references: bool = True
    """Train the sparse and human rewards on the same seeds and budget for comparison."""
    critic: bool = False
    """Auto MC-Reward's reward critic checks each program before training."""
    analyser: bool = False
    """Auto MC-Reward's trajectory analyser summarises failed episodes into feedback."""
    repairs: int = 0
    """Rounds in which a program that fails vetting, or a reply the designer's checks reject
    (a sketch's SKETCH_* codes), goes back to the LLM with its error for a fix, before
    training (0: Eureka's behaviour, a rejected sample waits for the next iteration's
    feedback)."""
    repair_mode: str = "fix"
    """fix: the program and its error go back to the LLM for a fix; resample: a fresh
    program is drawn from the iteration's prompt (better for small models that echo)."""
    reject_constant: bool = True
    """Reject (code CONSTANT, before training) an LLM's program whose total reward is the
    same on every recorded state of a random policy: it teaches PPO nothing."""
    trajectory_filter: bool = True
    """Reject (code PREFERENCE, before training) an LLM's program whose returns on recorded
    expert, random and perturbed episodes do not rank the successful above the failed ones
    (CARD's trajectory preference evaluation; envs with a scripted expert only)."""
    filter_auc: float = 0.7
    """The trajectory filter's threshold: the least P(a successful episode's return > a
    failed one's) a program needs (the human rewards score 0.875 to 1)."""
    few_shot: int = 0
    """text2reward: library programs retrieved as examples (0: zero-shot)."""
    ranker: str | None = None
    """icpl: who ranks each iteration's policies: human (a page served by ``agentgym reward
    rank``; the run waits for it), terminal (asked in the terminal) or proxy (the task's
    success, then fitness). None: human for icpl; other designers take none."""
    form: str | None = None
    """icpl: how the LLM writes each candidate: code (free-form Python, ICPL's own) or
    sketch (the structured designer's JSON sketches, compiled into programs). None: code
    for icpl; other designers take none."""
    tune: bool | None = None
    """Tune the numbers (weights, scales, temperatures) of each iteration's best program
    with optuna's TPE, each round's trials trained as one population (tuning.py). None:
    the designer's default, on for structured, off for the others (--tune turns it on)."""
    tune_rounds: int = 2
    """Tuning rounds per iteration (each costs about one candidate training run)."""
    tune_trials: int = 4
    """Settings tried per tuning round, trained together as one population batch."""
    tune_range: float = 10.0
    """Each number is tuned within [value / tune_range, value * tune_range], log-scaled."""
    tune_params: int = 8
    """The most numbers of one program that are tuned (a sketch's weights and scales first,
    then free-form code's literals in source order)."""
    temperature: float = 1.0
    max_tokens: int = 1024
    learner: str | None = None
    """ppo or sac: candidates train K at a time with its population learner (population,
    sac-population). None: the env's preset's learner, else ppo."""
    use_preset: bool = True
    """Start from the env's training preset (agentgym.presets); False: the learner's defaults."""
    training: dict[str, Any] = field(default_factory=dict)
    """Fields of the learner's config laid over the preset (num_envs, learning_rate, ...)."""
    eval_episodes: int = 10
    trace_episodes: int = 3
    """Evaluation episodes recorded as state traces per trained candidate (the analyser's input)."""
    video: bool = True
    """A video of the best policy in the final retraining (envs that render)."""
    train_deadline_s: float = 3600.0
    """Wall-clock limit of one iteration's training worker."""
    serve_programs: bool = True
    """Candidates trained together in one worker get their programs served from workers of
    their own (agentgym.sandbox.served); False runs them inside the shared worker (faster
    on a busy machine; one candidate's code could then write another's folder)."""
    vet_timeout_s: float = 30.0
    template_dir: str | None = None
    """A folder of Jinja2 templates overriding the packaged ones by file name."""

    def __post_init__(self) -> None:
        from agentgym.learners import population_learner

        check_ints(self, ("iterations", "samples"))
        check_ints(self, [n for n in ("steps", "final_steps") if getattr(self, n) is not None])
        check_ints(self, ("final_seeds", "few_shot", "repairs"), 0)
        check_ints(self, ("tune_rounds", "tune_trials", "tune_params"))
        if self.tune is not None and not isinstance(self.tune, bool):
            raise field_error(
                self, "tune", "true, false or null (the designer's default)", self.tune
            )
        if isinstance(self.tune_range, bool) or not (
            isinstance(self.tune_range, (int, float)) and self.tune_range > 1
        ):
            raise field_error(self, "tune_range", "a number > 1", self.tune_range)
        check_choice(self, "repair_mode", REPAIR_MODES)
        if self.ranker is not None:
            if self.designer != "icpl":
                raise field_error(
                    self,
                    "ranker",
                    f"None (only the icpl designer ranks, not {self.designer})",
                    self.ranker,
                )
            check_choice(self, "ranker", RANKERS)
        if self.form is not None:
            if self.designer != "icpl":
                raise field_error(
                    self,
                    "form",
                    f"None (only the icpl designer takes a form, not {self.designer})",
                    self.form,
                )
            check_choice(self, "form", FORMS)
        check_range(self, "filter_auc", 0.0, 1.0)
        if self.learner is not None:
            try:
                population_learner(self.learner)
            except (ValueError, KeyError) as err:
                raise ValueError(f"SynthesisConfig.learner: {err}") from err
        if not isinstance(self.training, dict):
            raise field_error(self, "training", "a dict of learner config fields", self.training)
        # Tuples as lists, as config.yaml gives them back: the same run, the same digest.
        object.__setattr__(self, "training", json.loads(json.dumps(self.training)))
        reserved = sorted(set(self.training) & set(PER_RUN_FIELDS))
        if reserved:
            raise field_error(
                self,
                "training",
                "no per-run field (steps, final_steps, seed and eval_episodes are set "
                f"by SynthesisConfig's own fields; video by the search): {reserved}",
                self.training,
            )

    @property
    def tuning(self) -> bool:
        """Whether the numbers are tuned: ``tune``, else on for the structured designer."""
        return self.tune if self.tune is not None else self.designer == "structured"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthesisConfig:
        """Rebuild from config.yaml; a run written before presets (PPO fields of its own)
        resumes as it ran: PPO, no preset, those fields as ``training``."""
        data = dict(data)
        old = {k: data.pop(k) for k in PPO_ERA_FIELDS if k in data}
        if old:
            batch = old.get("num_envs", 8) * old.get("num_steps", 64)
            data.setdefault("learner", "ppo")
            data.setdefault("use_preset", False)
            # ppo() used to derive the minibatch count from the batch size.
            data["training"] = {
                **old,
                "num_minibatches": 4 if batch % 4 == 0 else 1,
                **data.get("training", {}),
            }
        return config_from_dict(cls, data)

    def resolved(self) -> Resolved:
        """The learner and its config fields after the env's preset and ``training``."""
        from agentgym.presets import resolve

        return resolve(self.env_id, self.learner, self.training, use_preset=self.use_preset)

    def _preset(self) -> Preset | None:
        from agentgym.presets import preset_for

        plan = self.resolved()
        return preset_for(self.env_id, plan.learner) if plan.preset else None

    def search_steps(self) -> int:
        """N: ``steps``, else the preset's search budget, else SEARCH_STEPS."""
        if self.steps is not None:
            return self.steps
        preset = self._preset()
        return (preset.search_steps or preset.steps) if preset else SEARCH_STEPS

    def retrain_steps(self) -> int:
        """Steps of the final retraining: ``final_steps``, else the preset's full budget,
        else N."""
        if self.final_steps is not None:
            return self.final_steps
        preset = self._preset()
        return preset.steps if preset else self.search_steps()

    def preset_record(self) -> dict[str, Any]:
        """config.yaml's ``preset: {name, overrides}``, as ``agentgym train`` writes it
        (``steps`` and ``final_steps`` count as overrides of the preset's budgets)."""
        plan = self.resolved()
        budgets = [n for n in ("steps", "final_steps") if getattr(self, n) is not None]
        return {"name": plan.preset, "overrides": sorted({*plan.overrides, *budgets})}

    def training_settings(self, steps: int, video: bool = False) -> tuple[str, dict[str, Any]]:
        """(population learner, its config fields) of a candidate's or the final training
        run; ValueError naming the flag when ``training`` holds another learner's field."""
        from agentgym.learners import LEARNER_CONFIGS, population_learner
        from agentgym.runs.options import check_learner_flags

        plan = self.resolved()
        check_learner_flags(plan.learner, self.training, preset=plan.preset)
        values = {
            # Candidates are scored once and thrown away: no checkpoints, one thread each.
            "checkpoint_every": 0,
            "device": "auto",
            "torch_threads": 1,
            **plan.values,
            "env_id": self.env_id,
            "total_steps": steps,
            "seed": self.seed,
            "eval_episodes": self.eval_episodes,
            "video": video,
        }
        learner = population_learner(plan.learner)
        # Every field, defaults included (config.yaml shows what trained); a bad value
        # fails here, naming its field, not in the worker.
        return learner, LEARNER_CONFIGS.get(learner).from_dict(values).to_dict()

    def digest(self) -> str:
        data = self.to_dict()
        for name in ("ranker", "form"):
            if data[name] is None:
                del data[name]  # runs from before the field keep their default folder
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


def truncated_without_code(completion: Completion) -> str | None:
    """Content check: a reply cut off by max_tokens is re-sampled only when no complete
    program came before the cut (small models often ramble on after the code block)."""
    from agentgym.llm import extract_code

    if completion.truncated and extract_code(completion.text).kind in ("no_code", "unparsed"):
        return "TRUNCATED"
    return None


def default_out(config: SynthesisConfig, root: str | Path = "runs") -> Path:
    """The run folder a command gets without --out: the same command, the same folder, so
    rerunning it resumes."""
    from agentgym.runs.rundir import env_short_name

    return (
        Path(root)
        / f"synthesize-{env_short_name(config.env_id)}-{config.designer}-{config.digest()}"
    )


def open_run(
    config: SynthesisConfig,
    out: str | Path | None = None,
    *,
    argv: list[str] | None = None,
    root: str | Path = "runs",
) -> tuple[RunDir, bool]:
    """Create the run folder, or reopen it when it holds this very run; (RunDir, resumed).

    An env id Gymnasium does not know raises (with a suggestion) before anything is
    written, so a typo leaves no folder that a corrected rerun would clash with."""
    from agentgym.catalog import env_spec
    from agentgym.runs.manifest import build_manifest
    from agentgym.runs.rundir import RunDir, RunExistsError, _differences

    env_spec(config.env_id)
    path = Path(out) if out is not None else default_out(config, root)
    learner, values = config.training_settings(config.search_steps())
    run_config = {
        "command": "synthesize",
        "env_id": config.env_id,
        "synthesis": config.to_dict(),
        "learner": learner,
        "preset": config.preset_record(),
        "config": values,
    }
    if (path / "config.yaml").is_file():
        run = RunDir.open(path)
        stored = run.read_config()
        # A run written before presets has no learner, preset or config keys, and its
        # synthesis fields read back in today's form.
        stored["synthesis"] = SynthesisConfig.from_dict(stored.get("synthesis", {})).to_dict()
        diffs = _differences(stored, {k: v for k, v in run_config.items() if k in stored})
        if diffs:
            raise RunExistsError(
                f"--out {str(path)!r} holds a different synthesis run "
                f"({'; '.join(diffs[:6])}); choose another --out or --resume it as it is"
            )
        return run, True
    run = RunDir.create(command="synthesize", env_id=config.env_id, config=run_config, out=path)
    run.write_manifest(
        build_manifest(
            command="synthesize",
            seeds=[config.seed],
            device="auto",
            argv=argv,
            extra={"designer": config.designer, "llm": config.llm, "status": "created"},
        )
    )
    run.add_report_section(REPORT_SECTION)
    from agentgym.reward_designers.synthesis.summary import summary_rows

    run.update_manifest(summary=summary_rows(run.path, config))
    return run, False


def resume_config(run_dir: str | Path) -> SynthesisConfig:
    """The config of an existing synthesis run (for --resume DIR)."""
    from agentgym.runs.rundir import RunDir

    data = RunDir.open(run_dir).read_config()
    if data.get("command") != "synthesize":
        raise ValueError(
            f"--resume {str(run_dir)!r}: not a synthesis run (command {data.get('command')!r})"
        )
    return SynthesisConfig.from_dict(data["synthesis"])
