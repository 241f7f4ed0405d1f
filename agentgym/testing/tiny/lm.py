"""Tiny causal language models for text-env agents, built from a config on CPU.

A word-level tokenizer (a ``tokenizers`` WordLevel model wrapped in
``PreTrainedTokenizerFast``) over an env's command vocabulary and observation words,
and a 2-layer ``LlamaConfig`` model with random weights, saved as a normal transformers
folder so the policy loads it back through ``from_pretrained``. Used by the agent-PPO
tests and by ``examples/spa_text_agents.py``.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPECIALS = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
# Words keep their slashes ("in/on" is one word of the household world's commands, and a
# command must decode back to the text the env parses); other punctuation stands alone.
_WORD = re.compile(r"[\w/]+|[^\w\s/]")


def words_of(texts: Iterable[str]) -> Counter[str]:
    """Lower-cased words and punctuation marks, as the tokenizer's pre-tokenizer splits them."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_WORD.findall(text.lower()))
    return counts


def env_texts(
    env_id: str, episodes: int = 30, seed: int = 0, random_prob: float = 0.3, max_steps: int = 60
) -> list[str]:
    """Observation texts, missions and admissible commands seen on ``episodes`` episodes
    of ``env_id`` played by its expert with some random admissible commands mixed in
    (so the vocabulary covers states the expert never visits)."""
    import gymnasium as gym

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.text_env import expert_of, observation_text

    env = gym.make(env_id)
    expert = expert_of(env)
    rng = random.Random(seed)
    texts: list[str] = []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        texts.append(str(getattr(env.unwrapped, "mission", "")))
        for _ in range(max_steps):
            texts.append(observation_text(obs))
            admissible = list(info.get("admissible_actions", []))
            texts.extend(admissible)
            action = (
                rng.choice(admissible) if admissible and rng.random() < random_prob else expert()
            )
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                texts.append(observation_text(obs))
                break
    env.close()
    return texts


def build_tiny_lm(
    path: str | Path,
    texts: Iterable[str],
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    max_positions: int = 1024,
    seed: int = 0,
    extra_words: Iterable[str] = ("task", "obs", "act", ":"),
) -> Path:
    """Save a word-level tokenizer over ``texts`` and a random-weight Llama to ``path``."""
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    from agentgym.text_env import NOTHING_HAPPENS

    counts = words_of([*texts, NOTHING_HAPPENS])  # what every text env answers an invalid command
    counts.update(extra_words)
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for word in sorted(counts):
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Split(Regex(r"[^\w/]"), behavior="isolated"),
        ]
    )
    # Words decode joined by spaces; the commands of text envs hold no punctuation.
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        bos_token="[BOS]",
        eos_token="[EOS]",
    )
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=vocab["[BOS]"],
        eos_token_id=vocab["[EOS]"],
        pad_token_id=vocab["[PAD]"],
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def build_tiny_lm_for_env(path: str | Path, env_id: str, **kwargs: Any) -> Path:
    """``build_tiny_lm`` with a vocabulary gathered from ``env_id`` (see ``env_texts``)."""
    return build_tiny_lm(path, env_texts(env_id), **kwargs)
