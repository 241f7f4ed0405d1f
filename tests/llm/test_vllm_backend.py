"""The vllm backend: a clear error where vllm or a GPU is missing (tested in
test_spec.py), and the real path on a GPU machine with vllm installed."""

from __future__ import annotations

import pytest

from agentgym.llm import make_client
from agentgym.testing.tiny import build_tiny_llama


@pytest.mark.gpu
def test_vllm_generates_n_samples_in_process(tmp_path):
    # head_dim 64: vLLM's attention kernels do not take the CPU test model's 16
    build_tiny_llama(tmp_path, hidden_size=128, heads=2)
    client = make_client(
        f"vllm:{tmp_path};gpu_memory_utilization=0.2;max_model_len=512",
        cache=tmp_path / "c.sqlite",
        checks=(),
    )
    msgs = [{"role": "user", "content": "Move the fingertip to the target."}]
    out = client.chat(msgs, n=3, temperature=1.0, max_tokens=8, seed=0)
    assert len(out) == 3 and all(1 <= c.completion_tokens <= 8 for c in out)
    assert all(c.prompt_tokens > 0 and c.finish_reason in ("stop", "length") for c in out)
    assert client.usage.successful_requests == 1  # vLLM sampled n in one call
    again = client.chat(msgs, n=3, temperature=1.0, max_tokens=8, seed=0)
    assert [c.text for c in again] == [c.text for c in out] and all(c.cached for c in again)
