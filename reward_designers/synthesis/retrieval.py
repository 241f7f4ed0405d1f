"""Few-shot examples for Text2Reward, retrieved from ``reward_designers/library/``.

Each library program is the human reward of a registered task; it is matched to the
new task by TF-IDF cosine similarity of instructions and tags. The task's own program
is never returned (it would hand the LLM the answer).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from agentgym.catalog import env_ids, task_spec
from agentgym.reward_designers.library import LIBRARY
from agentgym.reward_designers.prompting import Example
from agentgym.spec import TaskSpec

_WORD = re.compile(r"[a-z]+")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def library_examples() -> list[Example]:
    """Every library program with the instruction of the task it belongs to."""
    by_stem: dict[str, TaskSpec] = {}
    for env_id in env_ids():
        try:
            spec = task_spec(env_id)
        except Exception:  # an env family whose extra is not installed has no spec to offer
            continue
        by_stem.setdefault(spec.name.lower().replace("-", "_"), spec)
    examples = []
    for path in sorted(LIBRARY.glob("*.py")):
        spec = by_stem.get(path.stem)
        if spec is not None:
            examples.append(
                Example(spec.name, spec.instruction + " " + " ".join(spec.tags), path.read_text())
            )
    return examples


def retrieve(task: TaskSpec, k: int, examples: list[Example] | None = None) -> list[Example]:
    """The k library programs whose tasks are most similar to ``task``, best first."""
    pool = [
        e
        for e in (examples if examples is not None else library_examples())
        if e.task_name.lower() != task.name.lower()
    ]
    if k <= 0 or not pool:
        return []
    docs = [_tokens(e.instruction) for e in pool]
    query = _tokens(task.instruction + " " + " ".join(task.tags))
    df = Counter(w for doc in docs for w in set(doc))
    idf = {w: math.log((1 + len(docs)) / (1 + c)) + 1 for w, c in df.items()}

    def vector(words: list[str]) -> dict[str, float]:
        tf = Counter(words)
        return {w: n * idf.get(w, 0.0) for w, n in tf.items()}

    def cosine(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b.get(w, 0.0) for w, v in a.items())
        norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
        return dot / norm if norm else 0.0

    q = vector(query)
    ranked = sorted(
        zip(pool, docs, strict=True),
        key=lambda pair: (-cosine(q, vector(pair[1])), pair[0].task_name),
    )
    return [e for e, _ in ranked[:k]]
