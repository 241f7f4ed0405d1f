"""A synthesis run's settings (``SynthesisConfig``, its config.yaml) and its run folder.

``open_run`` creates the folder, or reopens it when it already holds the very same run
(which is how rerunning a command resumes it); ``resume_config`` reads a run's settings
back for ``--resume DIR``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.config_fields import check_choice, check_ints, config_from_dict

if TYPE_CHECKING:
    from agentgym.llm.completion import Completion
    from agentgym.runs.rundir import RunDir

REPORT_SECTION = "agentgym.reward_designers.synthesis.report:build"


REPAIR_MODES = ("fix", "resample")


@dataclass(frozen=True)
class SynthesisConfig:
    """Everything that decides what a synthesis run does (its config.yaml)."""

    env_id: str
    """Gymnasium id of an agentgym env (it carries the TaskSpec)."""
    designer: str = "eureka"
    """eureka, text2reward, structured (JSON sketches compiled to programs) or library
    (no LLM)."""
    llm: str | None = None
    """LLM spec (agentgym.llm.parse_spec); None with the library designer."""
    iterations: int = 2
    """I: rounds of sampling, training and feedback."""
    samples: int = 4
    """K: programs sampled per iteration."""
    steps: int = 30_000
    """N: env steps each candidate trains for."""
    seed: int = 0
    """Seed of every candidate's training run (all candidates share it: a fair race)."""
    final_seeds: int = 3
    """M: seeds the best program is retrained on at the end (0: no retraining)."""
    final_steps: int | None = None
    """Env steps of the final retraining (None: steps)."""
    references: bool = True
    """Train the sparse and human rewards on the same seeds and budget for comparison."""
    critic: bool = False
    """Auto MC-Reward's reward critic checks each program before training."""
    analyser: bool = False
    """Auto MC-Reward's trajectory analyser summarises failed episodes into feedback."""
    repairs: int = 0
    """Rounds in which a program that fails vetting goes back to the LLM with its error for a
    fix, before training (0: Eureka's behaviour, a rejected sample waits for the next
    iteration's feedback)."""
    repair_mode: str = "fix"
    """fix: the program and its error go back to the LLM for a fix; resample: a fresh
    program is drawn from the iteration's prompt (better for small models that echo)."""
    reject_constant: bool = True
    """Reject (code CONSTANT, before training) an LLM's program whose total reward is the
    same on every recorded state of a random policy: it teaches PPO nothing."""
    few_shot: int = 0
    """text2reward: library programs retrieved as examples (0: zero-shot)."""
    temperature: float = 1.0
    max_tokens: int = 1024
    num_envs: int = 8
    num_steps: int = 64
    learning_rate: float = 3e-4
    """PPO's Adam learning rate of every training run."""
    gamma: float = 0.99
    """PPO's discount factor."""
    init_log_std: float = 0.0
    """Initial log std of the Gaussian policy (continuous actions)."""
    eval_episodes: int = 10
    trace_episodes: int = 3
    """Evaluation episodes recorded as state traces per trained candidate (the analyser's input)."""
    video: bool = True
    """A video of the best policy in the final retraining (envs that render)."""
    train_deadline_s: float = 3600.0
    """Wall-clock limit of one iteration's training worker."""
    vet_timeout_s: float = 30.0
    template_dir: str | None = None
    """A folder of Jinja2 templates overriding the packaged ones by file name."""

    def __post_init__(self) -> None:
        check_ints(self, ("iterations", "samples", "steps", "num_envs", "num_steps"))
        check_ints(self, ("final_seeds", "few_shot", "repairs"), 0)
        check_choice(self, "repair_mode", REPAIR_MODES)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthesisConfig:
        return config_from_dict(cls, data)

    def ppo(self, steps: int | None = None, video: bool = False) -> dict[str, Any]:
        """PPOConfig fields of a candidate's (or the final) training run."""
        total = steps or self.steps
        minibatches = 4 if (self.num_envs * self.num_steps) % 4 == 0 else 1
        return {
            "env_id": self.env_id,
            "total_steps": total,
            "num_envs": self.num_envs,
            "num_steps": self.num_steps,
            "num_minibatches": minibatches,
            "seed": self.seed,
            "learning_rate": self.learning_rate,
            "gamma": self.gamma,
            "init_log_std": self.init_log_std,
            "eval_episodes": self.eval_episodes,
            "checkpoint_every": 0,
            "video": video,
            "device": "auto",
            "torch_threads": 1,
        }

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:8]


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
    """Create the run folder, or reopen it when it holds this very run; (RunDir, resumed)."""
    from agentgym.runs.manifest import build_manifest
    from agentgym.runs.rundir import RunDir, RunExistsError, _differences

    path = Path(out) if out is not None else default_out(config, root)
    run_config = {"command": "synthesize", "env_id": config.env_id, "synthesis": config.to_dict()}
    if (path / "config.yaml").is_file():
        run = RunDir.open(path)
        diffs = _differences(run.read_config(), run_config)
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
