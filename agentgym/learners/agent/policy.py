"""A transformers causal LM as a policy for text and web envs.

The policy reads a ReAct-style prompt built from the episode's history and writes the
next command as tokens ending with the tokenizer's EOS token:

    Task: put a candle in countertop
    Obs: You arrive at countertop 1. On the countertop 1, you see ...
    Act: go to toilet 1
    Obs: You arrive at toilet 1. ...
    Act:

With ``PromptFormat.chat`` (pretrained instruct models) the same text is the user turn
of the tokenizer's chat template after a short system turn, and the action is the
assistant's reply, ended by the template's end-of-turn token (the tokenizer's EOS).

Only the last ``history`` (observation, action) pairs are kept, and the prompt is cut
from the left (oldest history first) to ``max_prompt_tokens``. What PPO needs comes from
one forward pass over prompt + action: the summed log-probability of the action
tokens, their mean entropy, a value from a linear head on the hidden state of the last
prompt token, and the hidden state at the action's last token (the features SPA's
progress estimator reads). LoRA adapters (peft) are optional; with them the
reference policy of the KL penalty is the same model with its adapters disabled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from agentgym.learners.agent.pretrained import load_causal_lm, policy_path

log = logging.getLogger(__name__)

VALUE_HEAD = "value_head.pt"


@dataclass(frozen=True)
class PromptFormat:
    """How observations and actions become a prompt."""

    history: int = 2
    """(observation, action) pairs kept before the current observation."""
    max_prompt_tokens: int = 384
    """Longest prompt in tokens; older history is dropped first, then the text is cut left."""
    max_action_tokens: int = 12
    """Most tokens an action may have (EOS included)."""
    chat: bool = False
    """Wrap the prompt in the tokenizer's chat template (one system and one user turn; the
    action is the assistant's reply, ended by the template's end-of-turn token)."""
    system: str = "You play a text game. Reply with one command."
    """The system turn under ``chat`` (short: every token of it is paid at every step)."""


class StepEval(NamedTuple):
    """What one forward pass over (prompt, action) pairs gives PPO, each [B] or [B, H]."""

    logprob: torch.Tensor
    entropy: torch.Tensor
    value: torch.Tensor
    features: torch.Tensor


class LMPolicy(nn.Module):
    """A causal LM, its tokenizer and a value head, acting in text envs."""

    def __init__(self, model: Any, tokenizer: Any, fmt: PromptFormat | None = None) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.fmt = fmt or PromptFormat()
        hidden = int(model.config.hidden_size)
        self.value_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        if tokenizer.eos_token_id is None:
            raise ValueError("LMPolicy: the tokenizer has no eos_token; actions need an end token")
        self.eos = int(tokenizer.eos_token_id)
        self.pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos)
        self.lora = False
        self._frames: dict[str, tuple[str, str]] = {}  # system text -> chat frame

    # -- loading and saving ----------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        spec: str | Path,
        fmt: PromptFormat | None = None,
        device: str | torch.device = "cpu",
        lora_rank: int = 0,
        lora_alpha: float = 16.0,
    ) -> LMPolicy:
        """Load ``hf:PATH`` (a folder or a .gguf file) or ``pkg:DIST`` (``pretrained``); a
        ``value_head.pt`` saved in the folder is loaded too."""
        path = policy_path(str(spec))
        model, tokenizer = load_causal_lm(path)
        policy = cls(model, tokenizer, fmt)
        head = path / VALUE_HEAD
        if path.is_dir() and head.is_file():
            policy.value_head.load_state_dict(
                torch.load(head, map_location="cpu", weights_only=True)
            )
        if lora_rank > 0:
            policy.add_lora(lora_rank, lora_alpha)
        return policy.to(device)

    def add_lora(self, rank: int, alpha: float = 16.0) -> None:
        """Wrap the model in LoRA adapters (peft) on every linear projection; only the
        adapters and the value head train afterwards."""
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as err:
            raise ImportError(
                "LoRA needs peft: pip install 'agentgym[hf]' (or pip install peft)"
            ) from err
        config = LoraConfig(
            r=rank,
            lora_alpha=alpha,
            target_modules="all-linear",
            lora_dropout=0.0,
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(self.model, config)
        self.lora = True

    def save_pretrained(self, path: str | Path) -> Path:
        """Save the model (LoRA merged in), tokenizer and value head as a transformers folder."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        model = self.model.merge_and_unload() if self.lora else self.model
        if self.lora:  # merging replaced the wrapped modules; keep training the merged copy
            self.model, self.lora = model, False
        model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        torch.save(self.value_head.state_dict(), path / VALUE_HEAD)
        return path

    @property
    def device(self) -> torch.device:
        return self.value_head.weight.device

    # -- prompts -----------------------------------------------------------------------
    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False).input_ids)

    def _chat_frame(self) -> tuple[str, str]:
        """The chat template's text before and after the user turn's content."""
        if self.fmt.system in self._frames:
            return self._frames[self.fmt.system]
        template = getattr(self.tokenizer, "chat_template", None)
        if not template:
            raise ValueError(
                "PromptFormat.chat: the tokenizer has no chat_template; use chat=False "
                "(plain 'Task: ... Obs: ... Act:' prompts) for this model"
            )
        mark = "\x00USER\x00"
        messages = [
            {"role": "system", "content": self.fmt.system},
            {"role": "user", "content": mark},
        ]
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        before, after = text.split(mark)
        self._frames[self.fmt.system] = (before, after)
        return before, after

    def encode_prompt(
        self, mission: str, history: list[tuple[str, str]], observation: str
    ) -> list[int]:
        """Token ids of the prompt for the next action (see the module docstring); under
        ``fmt.chat`` the same text is the user turn of the chat template."""
        fmt = self.fmt
        before, after = self._chat_frame() if fmt.chat else ("", "")
        # Under chat the assistant turn starts the action, so "Act:" is not written.
        head = self._ids(f"{before}Task: {mission}\n")
        now = self._ids(f"Obs: {observation}{after}" if fmt.chat else f"Obs: {observation}\nAct:")
        pairs = (
            [self._ids(f"Obs: {o}\nAct: {a}\n") for o, a in history[-fmt.history :]]
            if fmt.history
            else []
        )
        budget = fmt.max_prompt_tokens - len(head) - len(now)
        kept: list[int] = []
        for ids in reversed(pairs):  # newest first: drop the oldest history when over budget
            if len(ids) > budget:
                break
            kept = ids + kept
            budget -= len(ids)
        ids = head + kept + now
        return ids[-fmt.max_prompt_tokens :]

    def encode_action(self, text: str) -> list[int]:
        """Token ids of an action followed by EOS (cut to ``max_action_tokens``); plain
        prompts end in "Act:", so the action starts with a space there."""
        ids = self._ids(text if self.fmt.chat else " " + text)
        return (ids + [self.eos])[-self.fmt.max_action_tokens :]

    def decode_action(self, ids: list[int]) -> str:
        return self.tokenizer.decode(
            [i for i in ids if i != self.eos], skip_special_tokens=True
        ).strip()

    # -- acting --------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        prompts: list[list[int]],
        greedy: bool = False,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> list[list[int]]:
        """Sample one action per prompt (batched, left-padded, with the KV cache); each
        returned list ends with EOS unless ``max_action_tokens`` ran out first."""
        dev = self.device
        B = len(prompts)
        L = max(len(p) for p in prompts)
        ids = torch.full((B, L), self.pad, dtype=torch.long, device=dev)
        mask = torch.zeros((B, L), dtype=torch.long, device=dev)
        for i, p in enumerate(prompts):
            ids[i, L - len(p) :] = torch.tensor(p, device=dev)
            mask[i, L - len(p) :] = 1
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        cache, logits = out.past_key_values, out.logits[:, -1]
        last_pos = positions[:, -1]
        actions: list[list[int]] = [[] for _ in range(B)]
        done = torch.zeros(B, dtype=torch.bool, device=dev)
        for _ in range(self.fmt.max_action_tokens):
            if greedy:
                token = logits.argmax(-1)
            else:
                probs = torch.softmax(logits.float() / temperature, dim=-1)
                token = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(dev)
            for i in torch.nonzero(~done).flatten().tolist():
                actions[i].append(int(token[i]))
            done |= token == self.eos
            if bool(done.all()):
                break
            mask = torch.cat([mask, torch.ones((B, 1), dtype=mask.dtype, device=dev)], dim=1)
            last_pos = last_pos + 1
            out = self.model(
                input_ids=token[:, None],
                attention_mask=mask,
                position_ids=last_pos[:, None],
                past_key_values=cache,
                use_cache=True,
            )
            cache, logits = out.past_key_values, out.logits[:, -1]
        return actions

    def evaluate(
        self, prompts: list[list[int]], actions: list[list[int]], reference: bool = False
    ) -> StepEval:
        """One forward pass over each prompt followed by its action tokens.

        ``reference=True`` runs the model with its LoRA adapters disabled (the reference
        policy of the KL penalty); without LoRA the caller keeps a frozen copy instead.
        """
        dev = self.device
        B = len(prompts)
        P = max(len(p) for p in prompts)
        A = max(len(a) for a in actions)
        ids = torch.full((B, P + A), self.pad, dtype=torch.long, device=dev)
        mask = torch.zeros((B, P + A), dtype=torch.long, device=dev)
        act_mask = torch.zeros((B, A), dtype=torch.bool, device=dev)
        for i, (p, a) in enumerate(zip(prompts, actions, strict=True)):
            ids[i, P - len(p) : P] = torch.tensor(p, device=dev)  # prompt left-padded to end at P
            ids[i, P : P + len(a)] = torch.tensor(a, device=dev)  # action right-padded from P
            mask[i, P - len(p) : P + len(a)] = 1
            act_mask[i, : len(a)] = True
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        if reference and self.lora:
            with self.model.disable_adapter():
                out = self.model(
                    input_ids=ids,
                    attention_mask=mask,
                    position_ids=positions,
                    output_hidden_states=True,
                )
        else:
            out = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                output_hidden_states=True,
            )
        # The logits at position P-1+j predict action token j.
        logits = out.logits[:, P - 1 : P - 1 + A].float()
        logp_all = torch.log_softmax(logits, dim=-1)
        targets = ids[:, P : P + A]
        token_logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * act_mask
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        lengths = act_mask.sum(1)
        hidden = out.hidden_states[-1]
        value = self.value_head(hidden[:, P - 1].float()).squeeze(-1)
        last = (P - 1 + lengths).clamp(max=P + A - 1)
        features = hidden[torch.arange(B, device=dev), last].float()
        return StepEval(
            token_logp.sum(1), (entropy * act_mask).sum(1) / lengths.clamp(min=1), value, features
        )
