"""Where agent PPO's rollout actions are sampled: the policy itself (transformers), or an
in-process vLLM engine that holds a copy of the policy's weights.

Either way PPO's old log-probabilities, values and SPA's features come from one
transformers forward pass over (prompt, action) (``LMPolicy.evaluate``), as in TRL and
verl: the sampler only proposes the action tokens, so numerical differences between
vLLM's kernels and the training model cannot bias the importance ratio.

Both samplers share the contract of ``LMPolicy.generate``: one action per prompt, as
token ids that end with the tokenizer's EOS unless ``max_action_tokens`` ran out,
sampled at ``temperature`` from the full vocabulary (no top-k/top-p), or greedy, and
reproducible from a ``torch.Generator`` (vLLM gets one seed per request drawn from it).

vLLM weight sync, after every PPO update (``sync``):
- full fine-tuning: the policy's state dict goes to a safetensors file and every vLLM
  worker loads it in place through ``VLLMWeightLoader`` (vLLM's ``worker_extension_cls``
  and ``collective_rpc``; the model's own ``load_weights`` maps the HF names); then the
  prefix cache, which holds keys and values of the old weights, is dropped;
- LoRA: the adapters are saved (peft's ``save_pretrained``) and the next requests carry a
  new ``LoRARequest``, so the engine's base weights never change.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

import torch

from agentgym.learners.agent.policy import LMPolicy
from agentgym.learners.agent.pretrained import policy_path

log = logging.getLogger(__name__)


class ActionSampler(Protocol):
    """Proposes one action (token ids) per prompt for the envs still running."""

    def generate(
        self,
        prompts: list[list[int]],
        greedy: bool = False,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> list[list[int]]: ...

    def sync(self, policy: LMPolicy) -> None:
        """Make the next samples come from ``policy``'s current weights."""

    def close(self) -> None: ...


class TransformersSampler:
    """Samples with the training policy itself (KV-cached batched decoding)."""

    def __init__(self, policy: LMPolicy) -> None:
        self.policy = policy

    def generate(
        self,
        prompts: list[list[int]],
        greedy: bool = False,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> list[list[int]]:
        return self.policy.generate(
            prompts, greedy=greedy, generator=generator, temperature=temperature
        )

    def sync(self, policy: LMPolicy) -> None:
        self.policy = policy  # the same weights: nothing to copy

    def close(self) -> None:
        pass  # holds no process or engine of its own: the policy is the caller's


class VLLMWeightLoader:
    """Mixed into each vLLM GPU worker (``LLM(worker_extension_cls=...)``): loads the
    policy's weights from a safetensors file into the worker's model, in place."""

    model_runner: Any  # the vLLM worker's, which this class extends

    def agentgym_load_weights(self, path: str) -> int:
        from safetensors.torch import load_file

        weights = load_file(path, device="cpu")
        self.model_runner.model.load_weights(weights=weights.items())
        return len(weights)


def require_vllm_rollouts() -> None:
    """ImportError naming what vLLM rollouts lack here (vllm, a GPU), and the alternative."""
    from agentgym.llm.vllm_backend import vllm_missing

    problems = vllm_missing()
    if problems:
        raise ImportError(
            "rollout_backend='vllm' cannot run here: " + "; ".join(problems) + ". Use "
            "rollout_backend='transformers' (the default), which samples with the policy itself"
        )


def _seeds(n: int, generator: torch.Generator | None) -> list[int]:
    return torch.randint(0, 2**31 - 1, (n,), generator=generator).tolist()


def finish_action(ids: list[int], stopped: bool, eos: int, max_tokens: int) -> list[int]:
    """vLLM's output tokens as ``LMPolicy.generate`` gives them: cut to ``max_tokens``
    and ending with ``eos`` when generation stopped on it (whether or not the engine
    kept the stop token in its output)."""
    ids = list(ids)[:max_tokens]
    if stopped and (not ids or ids[-1] != eos):
        ids = ids[: max_tokens - 1] + [eos]
    return ids


class VLLMSampler:
    """Samples with an in-process vLLM engine on the GPU, synced to the policy."""

    def __init__(
        self,
        policy: LMPolicy,
        model: str | Path,
        *,
        seed: int = 0,
        gpu_memory_utilization: float = 0.3,
        dtype: str = "auto",
        workdir: str | Path | None = None,
    ) -> None:
        require_vllm_rollouts()
        from vllm import LLM

        self.eos = policy.eos
        self.max_tokens = policy.fmt.max_action_tokens
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="agentgym-vllm-", dir=_fast_tmp()))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.lora_rank = _lora_rank(policy)
        path = policy_path(str(model))
        kwargs: dict[str, Any] = {
            "model": str(path),
            "skip_tokenizer_init": True,  # prompts arrive as token ids; actions leave as ids
            "seed": seed,
            "dtype": dtype,
            "gpu_memory_utilization": gpu_memory_utilization,
            "max_model_len": policy.fmt.max_prompt_tokens + self.max_tokens,
            "enable_prefix_caching": True,
            "worker_extension_cls": f"{__name__}.VLLMWeightLoader",
        }
        if self.lora_rank:
            kwargs.update(
                enable_lora=True, max_loras=1, max_lora_rank=vllm_lora_rank(self.lora_rank)
            )
        log.info("vllm rollouts: starting an engine on %s", path)
        self.llm = LLM(**kwargs)
        self.lora_request: Any = None
        self.version = 0
        self.sync(policy)

    def sync(self, policy: LMPolicy) -> None:
        self.version += 1
        if policy.lora:
            from vllm.lora.request import LoRARequest

            folder = self.workdir / f"adapter-{self.version}"
            policy.model.save_pretrained(folder)  # peft: the adapters only
            self.lora_request = LoRARequest(f"agentgym-{self.version}", self.version, str(folder))
            stale = self.workdir / f"adapter-{self.version - 2}"
            shutil.rmtree(stale, ignore_errors=True)  # the engine may still hold version-1
            return
        from safetensors.torch import save_file

        # clone: tied embeddings share storage, which safetensors refuses to write twice
        state = {k: v.detach().to("cpu").clone() for k, v in policy.model.state_dict().items()}
        path = self.workdir / "weights.safetensors"
        save_file(state, str(path))
        loaded = self.llm.collective_rpc("agentgym_load_weights", args=(str(path),))
        self.llm.reset_prefix_cache()
        self.lora_request = None
        log.debug("vllm rollouts: synced %s tensors (version %d)", loaded, self.version)

    def generate(
        self,
        prompts: list[list[int]],
        greedy: bool = False,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> list[list[int]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        params = [
            SamplingParams(
                n=1,
                temperature=0.0 if greedy else temperature,  # top-k/top-p stay off
                max_tokens=self.max_tokens,
                # stop on the tokenizer's EOS only, as LMPolicy.generate does (a model's
                # generation config may name other EOS tokens)
                ignore_eos=True,
                stop_token_ids=[self.eos],
                seed=seed,
                detokenize=False,
            )
            for seed in _seeds(len(prompts), generator)
        ]
        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=list(p)) for p in prompts],
            params,
            use_tqdm=False,
            lora_request=self.lora_request,
        )
        actions = []
        for out in outputs:
            sample = out.outputs[0]
            actions.append(
                finish_action(
                    sample.token_ids, sample.finish_reason == "stop", self.eos, self.max_tokens
                )
            )
        return actions

    def close(self) -> None:
        self.llm = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)  # what vLLM's max_lora_rank takes


def vllm_lora_rank(rank: int) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that holds adapters of ``rank``."""
    for allowed in VLLM_LORA_RANKS:
        if allowed >= rank:
            return allowed
    raise ValueError(f"lora_rank {rank} is above vLLM's largest max_lora_rank (512)")


def _lora_rank(policy: LMPolicy) -> int:
    if not policy.lora:
        return 0
    config = policy.model.peft_config["default"]
    return int(config.r)


def _fast_tmp() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


def make_sampler(
    backend: str, policy: LMPolicy, model: str, seed: int = 0, **vllm_options: Any
) -> ActionSampler:
    """The sampler a config's ``rollout_backend`` names."""
    if backend == "transformers":
        return TransformersSampler(policy)
    if backend == "vllm":
        return VLLMSampler(policy, model, seed=seed, **vllm_options)
    raise ValueError(f"rollout_backend must be transformers or vllm, got {backend!r}")
