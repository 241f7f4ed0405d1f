"""The dry run, executed inside a worker: reward programs on recorded state batches.

Each program is loaded with ``agentgym.rewards.ProgramReward`` and called on every batch
of the recording; the total must be a floating tensor of shape [N] with finite values,
the components a dict of such tensors, within a per-program time limit. A program that
passes may also be scored on labelled episodes (``trajectories``): its return of each.
A program whose total is one value on every recorded state is also run on those states
spread about their mean (``SPREADS``), which tells a sparse reward (a goal bonus a random
policy never earns) from a constant one for the CONSTANT check of synthesis.
Results are appended to ``progress.jsonl`` as they come (sealed with the run's channel
key), so that when a program takes the whole worker down, the parent knows which verdicts
are already in.
"""

from __future__ import annotations

import math
import signal
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentgym.rewards import ProgramReward, RewardProgramError, make_input
from agentgym.sandbox import channel
from agentgym.sandbox.codes import Code, SandboxRejection
from agentgym.sandbox.states import load_states
from agentgym.sandbox.static import unknown_state_message
from agentgym.sandbox.trajectories import load_episode_lengths

PROGRESS = "progress.jsonl"
SPREADS = (3.0, 10.0)
"""Factors by which ``spread_states`` widens every float state variable about its mean."""


class ProgramTimeout(BaseException):
    """Raised by the per-program alarm; a BaseException so ``except Exception`` lets it pass."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise ProgramTimeout()


def _program_line(err: BaseException, origin: str) -> str:
    lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if f.filename == origin]
    return f"line {lines[-1]}: " if lines else ""


# Errors of code written for one state rather than a batch (the commonest failure of
# small coder models), each with what to write instead; the hint goes back to the LLM.
_BATCH_HINTS = (
    (
        ("cannot be converted to Scalar", "only one element tensors can be converted"),
        "a math.* function, float() or int() got a whole batch: every state value is a "
        "tensor with one row per env, so use torch functions on it (torch.exp, torch.sqrt, "
        "torch.clamp, torch.linalg.vector_norm(x, dim=-1))",
    ),
    (
        ("must match the size of tensor b", "must be greater or equal to the number of dim"),
        "a value per env [B] met a vector per env [B, D] (or two vectors of different "
        "sizes): reduce each vector to one value per env before combining them "
        "(torch.linalg.vector_norm(x, dim=-1), x.sum(-1)) or pick a coordinate (x[:, 0])",
    ),
    (
        ("Boolean value of Tensor with more than one value is ambiguous",),
        "an if, and, or, not, min() or max() got a whole batch: use torch.where(condition, "
        "a, b), torch.minimum, torch.maximum, & and | on the batch",
    ),
)


_MODULES = {
    "math": "import math",
    "torch": "import torch",
    "np": "import numpy as np",
    "numpy": "import numpy",
}


def batch_hint(err: BaseException, names: list[str] | None = None) -> str:
    """What to write instead, for an error a program written per state raises on a batch."""
    text = str(err)
    missing = getattr(err, "name", None) if isinstance(err, NameError) else None
    if missing and names and missing in names:
        return f'state variables are read from the dict: {missing} = state["{missing}"]'
    if missing in _MODULES:
        return f"add `{_MODULES[missing]}` at the top of the program (torch, math and numpy may be imported)"
    for needles, hint in _BATCH_HINTS:
        if any(n in text for n in needles):
            return hint
    return ""


def _runtime_rejection(
    err: Exception, origin: str, when: str = "", names: list[str] | None = None
) -> SandboxRejection:
    text = f"{type(err).__name__}: {err}"
    if "can't allocate memory" in text or "out of memory" in text.lower():
        # torch's allocator reports RLIMIT_AS as a RuntimeError, not a MemoryError.
        return SandboxRejection(
            Code.MEMORY,
            f"{_program_line(err, origin)}ran out of memory: "
            f"{text[:200]}; keep tensors of the batch size",
        )
    hint = batch_hint(err, names)
    message = f"{_program_line(err, origin)}{when}raised {text}"[:300]
    return SandboxRejection(Code.RUNTIME_ERROR, f"{message}; {hint}" if hint else message)


def _check_vector(value: Any, n: int, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise SandboxRejection(
            Code.BAD_RETURN,
            f"{what} must be a torch.Tensor of shape [{n}], got {type(value).__name__}",
        )
    if not value.dtype.is_floating_point:
        raise SandboxRejection(
            Code.BAD_DTYPE,
            f"{what} must be a floating-point tensor, got {value.dtype}; convert with .float()",
        )
    shape = list(value.shape)
    if shape not in ([n], [n, 1]):
        if not shape or shape[0] != n:
            # The batch itself was reduced (a .mean() or .sum() over everything): telling
            # the LLM to reduce more would only repeat the mistake.
            raise SandboxRejection(
                Code.BAD_SHAPE,
                f"{what} has shape {shape}; expected [{n}]: one value per env. Keep the "
                "batch dimension: do not .mean()/.sum() over dim 0 or over all elements, "
                "reduce only the other dimensions (e.g. .sum(-1) over a vector per env)",
            )
        raise SandboxRejection(
            Code.BAD_SHAPE,
            f"{what} has shape {shape}; expected [{n}] (one value per env, "
            "batch dimension first); reduce the other dimensions, e.g. .sum(-1)",
        )
    value = value.reshape(n).detach()
    if not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).sum())
        raise SandboxRejection(
            Code.NONFINITE,
            f"{what} is NaN or inf for {bad} of {n} recorded states; guard divisions, "
            "logs and exponentials (add an epsilon, clamp)",
        )
    return value


def _check_result(result: Any, n: int) -> dict[str, torch.Tensor]:
    if not (isinstance(result, tuple) and len(result) == 2):
        raise SandboxRejection(
            Code.BAD_RETURN,
            f"compute_reward must return a tuple (reward, components), got {type(result).__name__}",
        )
    reward, terms = result
    values = {"reward": _check_vector(reward, n, "the total reward")}
    if not isinstance(terms, Mapping):
        raise SandboxRejection(
            Code.BAD_RETURN,
            f"the components must be a dict of name -> tensor, got {type(terms).__name__}",
        )
    for name, value in terms.items():
        if not isinstance(name, str):
            raise SandboxRejection(
                Code.BAD_RETURN, f"component names must be strings, got {name!r}"
            )
        checked = _check_vector(value, n, f"component {name!r}")
        if name != "reward":  # a component named like the total must not replace it
            values[name] = checked
    return values


def _load(source: str, origin: str) -> ProgramReward:
    try:
        # Vetted by the parent, and this is the confined worker.
        return ProgramReward(source, name=Path(origin).stem, origin=origin, trusted=True)
    except RewardProgramError as err:
        code = Code.SYNTAX if isinstance(err.__cause__, SyntaxError) else Code.BAD_SIGNATURE
        raise SandboxRejection(code, str(err).removeprefix(f"{origin}: ")) from err
    except (MemoryError, ProgramTimeout, SandboxRejection):
        raise
    except Exception as err:
        raise _runtime_rejection(err, origin, "loading the program ") from err


def _rewards(
    program: ProgramReward,
    origin: str,
    states: dict[str, np.ndarray],
    actions: np.ndarray,
    batch: int,
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Every value the program returns (total "reward" and components), one per state,
    and the component names a wrapper will see."""
    names = sorted(states)
    collected: dict[str, list[torch.Tensor]] = {}
    total = len(actions)
    terms: list[str] | None = None
    for start in range(0, total, batch):
        sl = slice(start, min(start + batch, total))
        n = sl.stop - sl.start
        inp = make_input(
            {k: v[sl] for k, v in states.items()},
            actions[sl],
            np.zeros(n, np.float32),
            {},
            np.zeros(n, bool),
            None,
        )
        try:
            result = program._fn(inp.state, inp.action)  # the raw return, before coercion
        except (MemoryError, ProgramTimeout):
            raise
        except KeyError as err:
            key = err.args[0] if err.args else None
            if isinstance(key, str) and key not in names:
                raise SandboxRejection(
                    Code.UNKNOWN_STATE, unknown_state_message(key, names, None).rstrip()
                ) from err
            raise SandboxRejection(
                Code.RUNTIME_ERROR, f"{_program_line(err, origin)}raised KeyError: {err}"
            ) from err
        except Exception as err:
            raise _runtime_rejection(err, origin, names=names) from err
        values = _check_result(result, n)
        if terms is None:
            # The full ProgramReward path once, for the component names a wrapper will see
            # (it adds "residual" when the components do not sum to the total).
            terms = sorted(program(inp).terms)
        for key, value in values.items():
            collected.setdefault(key, []).append(value.to(torch.float64))
    return {k: torch.cat(parts) for k, parts in collected.items()}, terms or []


def _evaluate(
    program: ProgramReward,
    origin: str,
    states: dict[str, np.ndarray],
    actions: np.ndarray,
    batch: int,
) -> dict[str, Any]:
    values, terms = _rewards(program, origin, states, actions, batch)
    stats = {}
    for key, v in values.items():
        stats[key] = {
            "mean": float(v.mean()),
            "std": float(v.std()) if len(v) > 1 else 0.0,
            "min": float(v.min()),
            "max": float(v.max()),
        }
    return {"terms": terms, "stats": stats}


def is_constant(stats: Mapping[str, float]) -> bool:
    """Whether ``{"mean", "min", "max"}`` stats are of one value (beyond rounding)."""
    return stats["max"] - stats["min"] <= 1e-9 * (1.0 + abs(stats["mean"]))


def spread_states(
    states: dict[str, np.ndarray], actions: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The recorded states once per factor of ``SPREADS``, each float variable widened
    about its mean over the recording (mean + f (x - mean), per coordinate); other
    variables and the actions repeat as recorded. A random policy's states hold a
    locomotion task's velocities near zero and never at a goal; widened, they reach where
    a success condition can hold, without being any one task's idea of success."""
    out: dict[str, np.ndarray] = {}
    for name, value in states.items():
        if value.dtype.kind == "f":
            mean = value.mean(axis=0, keepdims=True)
            out[name] = np.concatenate([mean + f * (value - mean) for f in SPREADS])
        else:
            out[name] = np.concatenate([value] * len(SPREADS))
    return out, np.concatenate([actions] * len(SPREADS))


def _spread_stats(
    program: ProgramReward,
    origin: str,
    states: dict[str, np.ndarray],
    actions: np.ndarray,
    batch: int,
) -> dict[str, Any]:
    """Stats of the program on ``spread_states``; an error there is recorded, not raised:
    the states are not physical, and the program already passed on the real ones."""
    try:
        return {
            "stats": _evaluate(program, origin, *spread_states(states, actions), batch)["stats"]
        }
    except (SandboxRejection, RewardProgramError) as err:
        return {"error": str(getattr(err, "message", err))[:300]}
    except (ArithmeticError, RuntimeError, ValueError, TypeError, IndexError) as err:
        return {"error": f"{type(err).__name__}: {err}"[:300]}


def _returns(
    program: ProgramReward, origin: str, trajectories: tuple[Any, ...], batch: int
) -> dict[str, list[float]]:
    """The return of each recorded episode of the program's total reward ("reward") and
    of each of its components (what a designer reads to judge a term's sign)."""
    states, actions, lengths = trajectories
    values, _ = _rewards(program, origin, states, actions, batch)
    ends = np.cumsum(lengths)[:-1]
    return {
        key: [float(part.sum()) for part in np.split(v.numpy(), ends)] for key, v in values.items()
    }


def dry_run_many(
    programs: list[str],
    states: str,
    batch: int = 64,
    per_program_s: float = 10.0,
    trajectories: str | None = None,
    trajectory_batch: int = 256,
) -> list[dict[str, Any]]:
    """Dry-run each program file on the recording ``states``; one verdict dict per program.

    A verdict is ``{"ok", "code", "message", "detail", "terms", "stats", "returns",
    "term_returns", "spread"}``; each is also appended to ``progress.jsonl`` as soon as it
    is known. ``spread`` is ``_spread_stats`` for a program whose total is constant on the
    recording ({} otherwise).
    With ``trajectories`` (a ``record_trajectories`` file), a program that passed is also
    scored on its episodes: ``returns`` holds its return of each, in order, and
    ``term_returns`` each component's.
    """
    state_arrays, actions = load_states(states)
    episodes = None
    if trajectories is not None:
        episodes = (*load_states(trajectories), load_episode_lengths(trajectories))
    signal.signal(signal.SIGALRM, _on_alarm)
    verdicts = []
    with open(PROGRESS, "a") as progress:
        for index, path in enumerate(programs):
            source = Path(path).read_text()
            verdict: dict[str, Any] = {
                "index": index,
                "ok": False,
                "code": None,
                "message": "",
                "detail": "",
                "terms": [],
                "stats": {},
                "returns": [],
                "term_returns": {},
                "spread": {},
            }
            signal.setitimer(signal.ITIMER_REAL, per_program_s)
            try:
                program = _load(source, path)
                result = _evaluate(program, path, state_arrays, actions, batch)
                if "reward" in result["stats"] and is_constant(result["stats"]["reward"]):
                    result["spread"] = _spread_stats(program, path, state_arrays, actions, batch)
                if episodes is not None:
                    returns = _returns(program, path, episodes, trajectory_batch)
                    result["returns"] = returns.pop("reward")
                    result["term_returns"] = returns
                verdict.update(result, ok=True, message="ok")
            except SandboxRejection as rej:
                verdict.update(
                    code=str(rej.code), message=rej.message, detail=traceback.format_exc()[-4000:]
                )
            except ProgramTimeout:
                verdict.update(
                    code=str(Code.TIMEOUT),
                    message=f"did not finish within {per_program_s:g} s on "
                    f"{math.ceil(len(actions) / batch)} batches of {batch} states; "
                    "avoid unbounded loops",
                    detail="per-program alarm",
                )
            except MemoryError as err:
                verdict.update(
                    code=str(Code.MEMORY),
                    message="ran out of memory; keep tensors "
                    f"of the batch size ({batch} x state size)",
                    detail=repr(err),
                )
            except RecursionError as err:
                verdict.update(
                    code=str(Code.RUNTIME_ERROR),
                    message=f"raised RecursionError: {err}",
                    detail=repr(err),
                )
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            verdicts.append(verdict)
            # Sealed: the program shares this folder and must not be able to add a verdict.
            progress.write(channel.seal(verdict) + "\n")
            progress.flush()
    return verdicts


def dry_run(
    program: str, states: str, batch: int = 64, per_program_s: float = 10.0
) -> dict[str, Any]:
    """Dry-run one program file; the verdict dict of ``dry_run_many``."""
    return dry_run_many([program], states, batch, per_program_s)[0]
