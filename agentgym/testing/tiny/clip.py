"""A tiny CLIP (or SigLIP) with random weights, saved in Hugging Face's format.

No package ships CLIP weights (FACTS.md), so tests build one from a config: a
``CLIPModel`` a few kilobytes large, a ``CLIPTokenizer`` over a hand-written byte-level
BPE vocabulary, and a ``CLIPImageProcessor``. ``save_pretrained`` writes them to a
folder that the real loading code (``from_pretrained``) reads back, exactly as it reads
``openai/clip-vit-base-patch32`` downloaded by a user.
"""

from __future__ import annotations

import json
from pathlib import Path

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# Merges so that common prompt words become single tokens (the tokenizer is exercised
# with real BPE merges, not only characters).
_WORDS = ("the", "pole", "cart", "is", "up", "a", "upright", "fallen", "car", "hill", "top")


def _vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    # CLIP's BPE works on bytes mapped to printable unicode; the printable ASCII range
    # maps to itself, so plain characters are valid symbols, and "</w>" marks word ends.
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1)]
    tokens: list[str] = [*chars, *(c + "</w>" for c in chars)]
    merges: list[str] = []
    for word in _WORDS:
        # Left-to-right merges: "t h", "th e</w>" for "the".
        symbols = list(word[:-1]) + [word[-1] + "</w>"]
        left = symbols[0]
        for right in symbols[1:]:
            merge = f"{left} {right}"
            if merge not in merges:
                merges.append(merge)
            left = left + right
            if left not in tokens:
                tokens.append(left)
    tokens += [BOS, EOS]
    return {tok: i for i, tok in enumerate(tokens)}, merges


def build_tiny_clip(
    path: str | Path,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    hidden: int = 32,
    projection_dim: int = 16,
    layers: int = 2,
    seed: int = 0,
    kind: str = "clip",
) -> Path:
    """Write a tiny random-weights CLIP (``kind="clip"``) or SigLIP (``"siglip"``) to
    ``path`` with its tokenizer and image processor; return the folder."""
    import torch
    from transformers import CLIPImageProcessor, CLIPTokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab, merges = _vocab_and_merges()
    (path / "vocab.json").write_text(json.dumps(vocab))
    (path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tokenizer = CLIPTokenizer(
        vocab=str(path / "vocab.json"),
        merges=str(path / "merges.txt"),
        unk_token=EOS,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
    )
    tokenizer.model_max_length = 16
    text = dict(
        vocab_size=len(vocab),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        max_position_embeddings=16,
        bos_token_id=vocab[BOS],
        eos_token_id=vocab[EOS],
        pad_token_id=vocab[EOS],
    )
    vision = dict(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
    )
    torch.manual_seed(seed)
    if kind == "clip":
        from transformers import CLIPConfig, CLIPModel

        config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)
        model = CLIPModel(config)
    elif kind == "siglip":
        from transformers import SiglipConfig, SiglipModel

        text.pop("bos_token_id"), text.pop("eos_token_id")
        config = SiglipConfig(text_config=text, vision_config=vision)
        model = SiglipModel(config)
    else:
        raise ValueError(f"kind must be 'clip' or 'siglip', got {kind!r}")
    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    if kind == "clip":
        processor = CLIPImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        )
    else:
        from transformers import SiglipImageProcessor

        processor = SiglipImageProcessor(size={"height": image_size, "width": image_size})
    processor.save_pretrained(path)
    return path
