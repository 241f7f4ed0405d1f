"""Behaviour cloning of a language-model policy on expert demonstrations (JSONL).

The demonstrations are what ``agentgym record`` writes: one episode per line with its
``instruction`` and ``steps`` (``observation``, ``action``). Each step becomes one
example: the prompt the policy would see at that step (``LMPolicy.encode_prompt``, with
the same history) and the expert's action tokens followed by EOS; the loss is the
token-level cross-entropy of the action tokens only.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from agentgym.learners.agent.policy import LMPolicy

log = logging.getLogger(__name__)


def read_demos(path: str | Path, only_success: bool = True) -> list[dict[str, Any]]:
    """Episodes of a demos JSONL file (by default only the successful ones)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--demos {path}: no such file (write one with 'agentgym record')")
    records = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if "steps" not in record:
            raise ValueError(
                f"--demos {path}, line {n}: an episode needs 'steps' (the format of "
                "'agentgym record'); got keys " + ", ".join(sorted(record))
            )
        if record.get("success", True) or not only_success:
            records.append(record)
    if not records:
        raise ValueError(f"--demos {path}: no {'successful ' if only_success else ''}episodes")
    return records


def bc_examples(
    policy: LMPolicy, records: Sequence[dict[str, Any]]
) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, action ids + EOS) for every step of every episode."""
    examples = []
    for record in records:
        mission = str(record.get("instruction", ""))
        history: list[tuple[str, str]] = []
        for step in record["steps"]:
            obs, action = str(step["observation"]), str(step["action"])
            examples.append(
                (policy.encode_prompt(mission, history, obs), policy.encode_action(action))
            )
            history.append((obs, action))
    return examples


def behaviour_clone(
    policy: LMPolicy,
    records: Sequence[dict[str, Any]],
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
    callback: Callable[[dict[str, float]], None] | None = None,
) -> list[float]:
    """Train ``policy`` on the demonstrations; return the mean loss of each epoch."""
    examples = bc_examples(policy, records)
    generator = torch.Generator().manual_seed(seed)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    policy.train()
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(examples), generator=generator).tolist()
        total, tokens = 0.0, 0
        for i in range(0, len(order), batch_size):
            batch = [examples[j] for j in order[i : i + batch_size]]
            out = policy.evaluate([p for p, _ in batch], [a for _, a in batch])
            n_tokens = sum(len(a) for _, a in batch)
            loss = -out.logprob.sum() / n_tokens
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            total += float(loss.detach()) * n_tokens
            tokens += n_tokens
        losses.append(total / tokens)
        log.info("bc epoch %d: loss %.4f", epoch + 1, losses[-1])
        if callback is not None:
            callback(
                {
                    "epoch": epoch + 1,
                    "loss": losses[-1],
                    "perplexity": math.exp(min(losses[-1], 50)),
                }
            )
    policy.eval()
    return losses
