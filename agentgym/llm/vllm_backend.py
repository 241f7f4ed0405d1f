"""The ``vllm`` backend: an in-process ``vllm.LLM`` engine on a GPU.

vllm pins its own torch (0.33 wants torch 2.14), so it lives in its own GPU environment
(``pip install 'agentgym[vllm]'`` there). Where it is missing, or no GPU is visible,
building this backend fails at once with what is missing and the alternative: run
``vllm serve MODEL`` and use ``openai:MODEL@http://HOST:8000/v1``. The engine is built
once per process and shared by every client that names the same model.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from typing import Any

from agentgym.llm.completion import BackendResponse, Completion, Message, SamplingParams
from agentgym.llm.errors import BackendUnavailableError
from agentgym.llm.spec import LLMSpec

log = logging.getLogger(__name__)

OPTIONS: dict[str, type] = {
    "tensor_parallel_size": int,
    "gpu_memory_utilization": float,
    "max_model_len": int,
    "dtype": str,
}
_ENGINES: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


def vllm_missing() -> list[str]:
    """What in-process vLLM lacks here (empty when vllm is installed and a GPU is visible)."""
    problems = []
    if importlib.util.find_spec("vllm") is None:
        problems.append(
            "vllm is not installed (pip install 'agentgym[vllm]' in a GPU environment; "
            "it pins its own torch)"
        )
    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:
        gpu = False
    if not gpu:
        problems.append("no CUDA GPU is visible (torch.cuda.is_available() is False)")
    return problems


def require_vllm() -> None:
    """Raise ``BackendUnavailableError`` naming everything the vllm backend lacks here."""
    problems = vllm_missing()
    if problems:
        raise BackendUnavailableError(
            "the vllm backend cannot run here: " + "; ".join(problems) + ". Alternative: run "
            "`vllm serve MODEL` on a GPU machine and use openai:MODEL@http://HOST:8000/v1"
        )


class VLLMBackend:
    """One ``LLM.chat`` call per request; vLLM samples the ``n`` choices itself."""

    name = "vllm"
    max_concurrency = 1  # the engine batches internally; one call at a time from here
    structured_output = True  # guided decoding on the JSON schema

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        dtype: str = "auto",
    ) -> None:
        require_vllm()
        self.model = model
        self.engine_args = {
            "model": model,
            "tensor_parallel_size": tensor_parallel_size,
            "gpu_memory_utilization": gpu_memory_utilization,
            "dtype": dtype,
        }
        if max_model_len is not None:
            self.engine_args["max_model_len"] = max_model_len

    @classmethod
    def from_spec(cls, spec: LLMSpec) -> VLLMBackend:
        return cls(
            spec.model,
            tensor_parallel_size=spec.option("tensor_parallel_size", OPTIONS, 1),
            gpu_memory_utilization=spec.option("gpu_memory_utilization", OPTIONS, 0.9),
            max_model_len=spec.option("max_model_len", OPTIONS),
            dtype=spec.option("dtype", OPTIONS, "auto"),
        )

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, **self.engine_args}

    def engine(self) -> Any:
        key = tuple(sorted(self.engine_args.items()))
        with _LOCK:
            if key not in _ENGINES:
                from vllm import LLM

                start = time.perf_counter()
                _ENGINES[key] = LLM(**self.engine_args)
                log.info(
                    "built vLLM engine for %s in %.1fs", self.model, time.perf_counter() - start
                )
            return _ENGINES[key]

    def request(self, messages: list[Message], params: SamplingParams, n: int) -> BackendResponse:
        from vllm import SamplingParams as VLLMSamplingParams

        sampling = VLLMSamplingParams(
            n=n,
            temperature=params.temperature,
            max_tokens=params.max_tokens,
            stop=list(params.stop) or None,
            top_p=params.top_p if params.top_p is not None else 1.0,
            seed=params.seed,
            **_guided(params.response_format),
        )
        start = time.perf_counter()
        [result] = self.engine().chat(messages, sampling_params=sampling, use_tqdm=False)
        latency = time.perf_counter() - start
        prompt_tokens = len(result.prompt_token_ids or [])
        completions = [
            Completion(
                text=o.text,
                finish_reason=o.finish_reason,
                prompt_tokens=prompt_tokens,
                completion_tokens=len(o.token_ids),
                model=self.model,
                index=i,
                latency_s=latency,
            )
            for i, o in enumerate(result.outputs)
        ]
        return BackendResponse(
            completions=completions,
            prompt_tokens=prompt_tokens,
            completion_tokens=sum(c.completion_tokens for c in completions),
            model=self.model,
            latency_s=latency,
        )


def _guided(response_format: dict[str, Any] | None) -> dict[str, Any]:
    """vLLM's guided decoding for an OpenAI ``response_format``: a JSON schema, or any
    JSON object. vLLM renamed the parameter (``guided_decoding`` became
    ``structured_outputs``); whichever this vLLM has is used."""
    if response_format is None:
        return {}
    kind = response_format.get("type")
    if kind == "json_schema":
        spec: dict[str, Any] = {"json": response_format["json_schema"]["schema"]}
    elif kind == "json_object":
        spec = {"json_object": True}
    else:
        raise ValueError(f"response_format.type must be json_schema or json_object, got {kind!r}")
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(**spec)}
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(**spec)}
