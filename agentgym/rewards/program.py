"""Reward programs: Python source defining ``compute_reward(state, action)``.

``ProgramReward`` runs a program in this process, so it only does so when told the code
is trusted (``trusted=True``: only for code you wrote, or inside a sandbox worker).
Everything else (``--reward FILE``, ``gym.make(reward="FILE")``, synthesis) loads
programs through ``agentgym.sandbox.loader``, which vets them and runs them in a
confined worker (docs/sandbox.md).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any

import torch

from agentgym.rewards.base import RewardError, RewardInput, RewardOutput, check_output

ENTRY = "compute_reward"
RESIDUAL = "residual"


class RewardProgramError(ValueError):
    """A reward program that cannot be loaded or returned a malformed result."""


def check_signature(tree: ast.Module, origin: str) -> None:
    """Require ``def compute_reward(state, action)`` at module level."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == ENTRY:
            args = node.args
            positional = [a.arg for a in args.posonlyargs + args.args]
            required = len(positional) - len(args.defaults)
            if required != 2 and not (required < 2 <= len(positional) or args.vararg):
                raise RewardProgramError(
                    f"{origin}: {ENTRY} must take (state, action), it takes ({', '.join(positional)})"
                )
            return
    raise RewardProgramError(f"{origin}: no module-level function named {ENTRY!r}")


class ProgramReward:
    """A reward program loaded from source; pickles as its source."""

    needs_frames = False

    def __init__(
        self,
        source: str,
        *,
        name: str = "program",
        origin: str = "<program>",
        trusted: bool = False,
    ) -> None:
        if trusted is not True:
            raise RewardProgramError(
                f"{origin}: ProgramReward runs the program in this process; pass trusted=True "
                "only for code you wrote, or load it vetted and sandboxed with "
                "agentgym.sandbox.loader.load_reward_program (what reward='FILE.py' does)"
            )
        self.trusted = True
        self.source = source
        self.name = name
        self.origin = origin
        self.sha256 = hashlib.sha256(source.encode()).hexdigest()
        self._fn = self._load()
        self._add_residual: bool | None = None

    @classmethod
    def from_file(cls, path: str | Path, *, trusted: bool = False) -> ProgramReward:
        """A program from a file; ``trusted=True`` only for code you wrote."""
        path = Path(path)
        if not path.is_file():
            raise RewardProgramError(f"reward program {str(path)!r} does not exist")
        return cls(path.read_text(), name=path.stem, origin=str(path), trusted=trusted)

    def _load(self) -> Any:
        try:
            tree = ast.parse(self.source, filename=self.origin)
        except SyntaxError as err:
            raise RewardProgramError(
                f"{self.origin}:{err.lineno}: syntax error: {err.msg}"
            ) from err
        check_signature(tree, self.origin)
        namespace: dict[str, Any] = {"__name__": "agentgym_reward_program", "__file__": self.origin}
        # trusted=True was required: a person's own file, a library program, or a
        # vetted program inside a sandbox worker.
        exec(compile(tree, self.origin, "exec"), namespace)
        return namespace[ENTRY]

    def __call__(self, batch: RewardInput) -> RewardOutput:
        n, device = batch.num_envs, batch.env_reward.device
        try:
            result = self._fn(batch.state, batch.action)
        except Exception as err:
            raise RewardProgramError(
                f"{self.origin}: {ENTRY} raised {type(err).__name__}: {err}"
            ) from err
        if not (isinstance(result, tuple) and len(result) == 2):
            raise RewardProgramError(
                f"{self.origin}: {ENTRY} must return (reward, components), got {type(result).__name__}"
            )
        try:
            out = check_output(result[0], result[1], n, device, self.origin)
        except RewardError as err:
            raise RewardProgramError(str(err)) from err
        return self._with_residual(out)

    def _with_residual(self, out: RewardOutput) -> RewardOutput:
        # Components must sum to the total (Gymnasium's convention for named reward
        # terms). Programs that transform components (Eureka's temperatures) do not, so
        # the difference is shown as one more component. Decided on the first call so
        # the set of names stays the same for the whole run.
        if self._add_residual is False:
            return out  # decided: the components sum to the total (no sum per call)
        summed = sum(out.terms.values()) if out.terms else torch.zeros_like(out.reward)
        if self._add_residual is None:
            self._add_residual = not torch.allclose(summed, out.reward, atol=1e-5, rtol=1e-5)
        if self._add_residual:
            out.terms[RESIDUAL] = out.reward - summed
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_fn")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fn = self._load()

    def __repr__(self) -> str:
        return f"ProgramReward({self.origin!r})"
