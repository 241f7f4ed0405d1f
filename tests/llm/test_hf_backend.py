"""The hf backend with a tiny Llama built from a config (random weights), saved to a
temp dir and loaded back through ``hf:PATH``."""

from __future__ import annotations

import pytest

from agentgym.llm import make_client
from agentgym.llm.hf_backend import LOADS

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-llama")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["def compute_reward(state, action):", "return -distance, {'distance': d}",
              "You write reward functions.", "Move the fingertip to the target."] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", bos_token="<|im_start|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=512, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    return path, tokenizer


MESSAGES = [{"role": "system", "content": "You write reward functions."},
            {"role": "user", "content": "Move the fingertip to the target."}]


def test_hf_generates_n_samples_with_the_chat_template_and_loads_once(tiny_model):
    path, tokenizer = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    out = client.chat(MESSAGES, n=3, temperature=1.0, max_tokens=12, seed=1)
    assert len(out) == 3 and [c.index for c in out] == [0, 1, 2]
    prompt_ids = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True)
    if isinstance(prompt_ids, dict) or hasattr(prompt_ids, "input_ids"):
        prompt_ids = prompt_ids["input_ids"]
    assert all(c.prompt_tokens == len(prompt_ids) for c in out)
    assert all(1 <= c.completion_tokens <= 12 for c in out)
    assert all(c.finish_reason in ("stop", "length") for c in out)
    assert len({c.text for c in out}) > 1  # sampled, not one greedy answer three times
    assert client.usage.successful_requests == 1  # n samples in one generate call

    # a second client on the same path reuses the loaded model
    again = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    same = again.chat(MESSAGES, n=3, temperature=1.0, max_tokens=12, seed=1)
    assert [c.text for c in same] == [c.text for c in out]  # the seed fixes the samples
    assert LOADS[(str(path.resolve()), "cpu", "auto")] == 1


def test_hf_greedy_is_deterministic_and_max_tokens_truncates(tiny_model):
    path, _ = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    a = client.chat("Move the fingertip.", temperature=0.0, max_tokens=5)[0]
    b = client.chat("Move the fingertip.", temperature=0.0, max_tokens=5)[0]
    assert a.text == b.text and a.completion_tokens == 5 and a.finish_reason == "length"
    three = client.chat("Move the fingertip.", n=3, temperature=0.0, max_tokens=5)
    assert [c.text for c in three] == [a.text] * 3  # greedy: n equal samples


def test_hf_default_checks_flag_truncation_and_cache_serves_reruns(tiny_model, tmp_path):
    path, _ = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=tmp_path / "c.sqlite", max_resamples=1)
    first = client.chat("Move the fingertip.", temperature=1.0, max_tokens=3, seed=0)[0]
    # random weights almost never emit <|im_end|> within 3 tokens: truncated and flagged
    # after one re-sample, and the flagged sample is what the cache keeps
    assert first.finish_reason == "length"  # seeded: the same draw every run
    assert first.problem == "TRUNCATED" and client.usage.resamples == 1
    again = client.chat("Move the fingertip.", temperature=1.0, max_tokens=3, seed=0)[0]
    assert again.cached and again.text == first.text and again.problem == first.problem
