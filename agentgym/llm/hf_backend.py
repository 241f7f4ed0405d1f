"""The ``hf`` backend: a transformers causal LM in-process, from a local path.

``hf:/models/qwen2.5-coder`` loads a saved folder; ``hf:/models/smollm2.Q8_0.gguf``
loads a GGUF file (transformers dequantizes it; needs the ``gguf`` package). The
tokenizer's chat template formats the messages. A model is loaded once per process and
shared by every client that names the same path (``LOADS`` counts loads, for tests).
Runs on CUDA when a GPU is visible, else on the CPU.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agentgym.llm.completion import BackendResponse, Completion, Message, SamplingParams
from agentgym.llm.errors import BackendUnavailableError, LLMRequestError, LLMSpecError
from agentgym.llm.spec import LLMSpec

log = logging.getLogger(__name__)

OPTIONS: dict[str, type] = {"device": str, "dtype": str}
LOADS: Counter = Counter()
"""Loads per (path, device, dtype) in this process; a second client reuses the first load."""
_MODELS: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()
_GENERATE_LOCK = threading.Lock()  # one generate at a time per process: they share the model


def _pick_device(device: str | None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(path: str, device: str, dtype: str) -> tuple[Any, Any]:
    """Return (model, tokenizer) for ``path``, loading them at most once per process."""
    key = (path, device, dtype)
    with _LOAD_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        from agentgym.hub import keep_hub_offline

        keep_hub_offline()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as err:
            raise BackendUnavailableError(
                f"the hf backend needs transformers: pip install 'agentgym[hf]' ({err})"
            ) from err
        p = Path(path)
        kwargs: dict[str, Any] = {}
        folder = p
        if p.suffix == ".gguf":
            folder, kwargs["gguf_file"] = p.parent, p.name
        torch_dtype = {
            "auto": None,
            "float32": torch.float32,
            "float16": torch.float16,
            "bfloat16": torch.bfloat16,
        }[dtype]
        if torch_dtype is None:
            torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        start = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype, **kwargs)
        model.to(device).eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        LOADS[key] += 1
        log.info(
            "loaded %s on %s (%s) in %.1fs", path, device, torch_dtype, time.perf_counter() - start
        )
        _MODELS[key] = (model, tokenizer)
        return model, tokenizer


class HFBackend:
    """Generate with ``model.generate`` (``num_return_sequences=n``)."""

    name = "hf"
    max_concurrency = 1
    structured_output = False  # no constrained decoding here: callers parse free text

    def __init__(self, path: str | Path, *, device: str | None = None, dtype: str = "auto") -> None:
        p = Path(path).expanduser()
        if p.suffix == ".gguf":
            if not p.is_file():
                raise LLMSpecError(f"hf backend: no GGUF file at {str(p)!r}")
        elif not (p / "config.json").is_file():
            raise LLMSpecError(
                f"hf backend: {str(p)!r} is not a saved model folder (no config.json) "
                "nor a .gguf file; the hf backend loads local paths only"
            )
        if dtype not in ("auto", "float32", "float16", "bfloat16"):
            raise LLMSpecError(
                f"hf backend: dtype must be auto, float32, float16 or bfloat16, got {dtype!r}"
            )
        self.path = str(p.resolve())
        self.model = self.path
        self.device = _pick_device(device)
        self.dtype = dtype

    @classmethod
    def from_spec(cls, spec: LLMSpec) -> HFBackend:
        return cls(
            spec.model,
            device=spec.option("device", OPTIONS),
            dtype=spec.option("dtype", OPTIONS, "auto"),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.path,
            "device": self.device,
            "dtype": self.dtype,
        }

    def request(self, messages: list[Message], params: SamplingParams, n: int) -> BackendResponse:
        import torch

        model, tokenizer = load_model(self.path, self.device, self.dtype)
        if not getattr(tokenizer, "chat_template", None):
            raise LLMRequestError(
                f"hf backend: the tokenizer at {self.path} has no chat template, "
                "so chat messages cannot be formatted",
                cause="no_chat_template",
            )
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        prompt_len = inputs["input_ids"].shape[1]
        gen: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "num_return_sequences": n,
            "pad_token_id": tokenizer.pad_token_id,
        }
        if params.temperature > 0:
            gen.update(do_sample=True, temperature=params.temperature)
            if params.top_p is not None:
                gen["top_p"] = params.top_p
        else:
            # Greedy decoding gives n equal samples; transformers refuses
            # num_return_sequences > 1 without sampling, so decode once and repeat.
            gen.update(do_sample=False, num_beams=1, num_return_sequences=1)
        if params.stop:
            gen.update(stop_strings=list(params.stop), tokenizer=tokenizer)
        start = time.perf_counter()
        # A seed must not leak into the process's global RNG streams (CPU and this GPU).
        rng_devices = (
            [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        )
        with _GENERATE_LOCK, torch.inference_mode(), torch.random.fork_rng(devices=rng_devices):
            if params.seed is not None:
                torch.manual_seed(params.seed)
            out = model.generate(**inputs, **gen)
        if out.shape[0] < n:
            out = out.repeat(n, 1)
        latency = time.perf_counter() - start
        config_eos = getattr(model.generation_config, "eos_token_id", None)
        config_eos = [config_eos] if isinstance(config_eos, int) else list(config_eos or [])
        eos = {tokenizer.eos_token_id, *config_eos}
        completions = []
        total = 0
        for i, row in enumerate(out[:, prompt_len:].tolist()):
            ids = [t for t in row if t != tokenizer.pad_token_id or t in eos]
            ended = next((j for j, t in enumerate(ids) if t in eos), None)
            if ended is not None:
                ids = ids[: ended + 1]
            text = tokenizer.decode(ids, skip_special_tokens=True)
            finish = (
                "stop"
                if ended is not None
                else ("length" if len(ids) >= params.max_tokens else "stop")
            )
            for s in params.stop:  # OpenAI semantics: the stop string is not part of the text
                cut = text.find(s)
                if cut >= 0:
                    text, finish = text[:cut], "stop"
            total += len(ids)
            completions.append(
                Completion(
                    text=text,
                    finish_reason=finish,
                    prompt_tokens=prompt_len,
                    completion_tokens=len(ids),
                    model=self.path,
                    index=i,
                    latency_s=latency,
                )
            )
        return BackendResponse(
            completions=completions,
            prompt_tokens=prompt_len,
            completion_tokens=total,
            model=self.path,
            latency_s=latency,
        )
