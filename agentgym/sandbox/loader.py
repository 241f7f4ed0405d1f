"""The one way a file or a string becomes a reward program.

Every path that turns a program into a reward (``reward="FILE.py"`` in ``gym.make``,
``agentgym train --reward``, ``agentgym reward eval``, synthesis's candidates and its
final retraining, report regeneration, the env server) comes here through
``agentgym.rewards.parse_reward_spec``:

- a program the user trusts by name (``trust:PATH`` in a spec, ``--trust-reward PATH``)
  or a library program shipped in the installed package (trusted by where its resolved
  path lies, not by its name) runs in this process (``ProgramReward(trusted=True)``);
- anything else is vetted (``static_check``: the allowlist, ``UNKNOWN_STATE`` against the
  env's TaskSpec) and runs in a long-lived sandbox worker (``SandboxedReward``), which
  is refused under isolation weaker than bubblewrap unless the user accepted it
  (``agentgym.sandbox.policy``). Inside a sandbox worker (a candidate's training), a
  vetted program runs in the worker's own process: it is already confined. A worker
  that trains several candidates together gets their programs served by workers of
  their own instead (``agentgym.sandbox.served``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from agentgym.registry import suggest
from agentgym.rewards.base import RewardModel
from agentgym.rewards.program import ProgramReward, RewardProgramError
from agentgym.sandbox import channel
from agentgym.sandbox.codes import Code
from agentgym.spec import TaskSpec

LIBRARY_PACKAGE = "agentgym.reward_designers.library"


class RejectedProgram(RewardProgramError):
    """The vetter rejected a reward program; ``code`` says why."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


def library_dir() -> Path:
    """The installed package's folder of library programs (resolved)."""
    found = importlib.util.find_spec(LIBRARY_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise RewardProgramError(f"the package {LIBRARY_PACKAGE} is not installed")
    return Path(next(iter(found.submodule_search_locations))).resolve()


def is_library_program(path: str | Path) -> bool:
    """Whether ``path``, links resolved, is a program file of the installed library."""
    real = Path(path).resolve()
    return real.suffix == ".py" and real.parent == library_dir() and real.is_file()


def library_program(name: str) -> Path:
    """``library:NAME`` -> the installed library's ``NAME.py``, with a did-you-mean."""
    folder = library_dir()
    names = sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))
    if name not in names:
        raise RewardProgramError(
            f"library:{name}: no library program named {name!r};{suggest(name, names)} "
            f"expected one of [{', '.join(names)}]"
        )
    return folder / f"{name}.py"


def load_source(
    source: str,
    *,
    origin: str,
    task: TaskSpec | None = None,
    trusted: bool = False,
) -> RewardModel:
    """A reward model for ``source``: in this process when trusted, else vetted and run
    in a sandbox worker (``RejectedProgram``, ``WeakSandboxError`` otherwise)."""
    name = Path(origin).stem or "program"
    if trusted:
        return ProgramReward(source, name=name, origin=origin, trusted=True)
    from agentgym.sandbox.static import static_check

    verdict = static_check(source, task.state_names if task is not None else None)
    if not verdict.ok:
        assert verdict.code is not None
        raise RejectedProgram(
            verdict.code, f"{origin}: rejected by the vetter ({verdict.code}): {verdict.message}"
        )
    if channel.in_worker():
        from agentgym.sandbox import served

        if served.active():
            # A training worker of several candidates: each program runs in a worker of
            # its own, so no candidate's code shares this one's folders.
            return served.reward_for(origin, name)
        # Already confined: this process is a sandbox worker (channel key installed by
        # _child before any target loaded, which nothing in the environment can fake).
        return ProgramReward(source, name=name, origin=origin, trusted=True)
    from agentgym.sandbox.policy import require_strong_isolation
    from agentgym.sandbox.program_worker import SandboxedReward

    require_strong_isolation(f"the reward program {origin}")
    return SandboxedReward(source, name=name, origin=origin)


def load_reward_program(
    path: str | Path, task: TaskSpec | None = None, *, trusted: bool = False
) -> RewardModel:
    """The reward model of a program file (see the module docstring for who runs where)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise RewardProgramError(f"reward program {str(path)!r} does not exist")
    trusted = trusted or is_library_program(path)
    return load_source(path.read_text(), origin=str(path), task=task, trusted=trusted)


def trusted_from_spec(args: str, task: TaskSpec | None) -> RewardModel:
    """``trust:PATH``: run the user's own program in this process (only for code you wrote)."""
    if not args.strip():
        raise ValueError("trust:PATH needs the path of a reward program you wrote")
    return load_reward_program(args.strip(), task, trusted=True)


def library_from_spec(args: str, task: TaskSpec | None) -> RewardModel:
    """``library:NAME``: a program shipped in the installed package (trusted by location)."""
    return load_reward_program(library_program(args.strip()), task)


def program_paths(reward: Any) -> list[Path]:
    """The program files a reward spec names outside the library and without ``trust:``:
    the ones a sandbox worker will run."""
    if not isinstance(reward, (str, Path)):
        return []
    from agentgym.rewards.spec import BEST_PROGRAM, spec_atoms

    found = []
    for atom in spec_atoms(str(reward)):
        path = Path(atom).expanduser()
        if path.is_dir() and (path / BEST_PROGRAM).is_file():
            path = path / BEST_PROGRAM
        if atom.endswith(".py") or path.name == BEST_PROGRAM:
            if not is_library_program(path):
                found.append(path)
    return found
