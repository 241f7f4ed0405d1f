"""ONI-style intrinsic reward: an LLM labels observation captions asynchronously, a
classifier distils the labels online, and its output is added to the env's reward.

Zheng et al., "Online Intrinsic Rewards for Decision Making Agents from Large Language
Model Feedback" (ONI, arXiv 2410.23022), classification variant: each new caption (the
text view of the observation) is sent once to the LLM ("is this progress toward the
goal? yes/no") by a background thread (``labeller.AsyncLabeller``: bounded queue,
de-duplication by the caption's hash, the persistent LLM cache); every label trains a
hashed-feature logistic regression (``classifier.CaptionClassifier``); each step's
reward is ``weight * 1[p(progress | caption) > threshold]`` (``output=binary``, as ONI)
or ``weight * p`` (``output=prob``), 0 until ``min_labels`` labels have arrived. A step
never waits for the LLM: a caption not yet labelled is scored by the classifier.

    sparse + oni:llm=openai:qwen@http://127.0.0.1:18012/v1;weight=0.05

Not done here: ONI also divides the reward by an episodic count of the caption (as
Motif does) so a policy cannot farm one "progress" state; this per-step model sees no
episode boundaries, so a policy that loops through a positively labelled state is
paid on every visit. Keep ``weight`` well below the success reward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agentgym.config_fields import check_choice, check_ints, check_range, field_error
from agentgym.reward_designers.labelled.classifier import CaptionClassifier
from agentgym.reward_designers.labelled.labeller import AsyncLabeller, text_key
from agentgym.reward_designers.labelled.llm_ask import OneShotAsker, yes_no
from agentgym.reward_designers.labelled.options import parse_options
from agentgym.reward_designers.prompting import PromptBuilder
from agentgym.rewards.base import RewardInput, RewardOutput
from agentgym.spec import TaskSpec

OUTPUTS = ("binary", "prob")


@dataclass(frozen=True)
class OniConfig:
    """Everything an ``oni:`` reward spec sets (``oni:llm=openai:M@URL;weight=0.05``)."""

    llm: str = ""
    """The labelling LLM's spec (openai:MODEL@URL;OPTION=...); empty: $AGENTGYM_LLM."""
    weight: float = 0.05
    """Scale of the intrinsic reward added per step."""
    caption: str = "observation"
    """The text state variable(s) labelled, comma-separated (joined by newlines)."""
    goal: str = "mission"
    """The text state variable holding the goal the labeller is told."""
    output: str = "binary"
    """binary: 1[p > threshold] (ONI's classification reward); prob: p itself."""
    threshold: float = 0.5
    """Decision threshold of the binary output."""
    min_labels: int = 8
    """Labels before the classifier's output is used (reward 0 before)."""
    max_queue: int = 64
    """Captions waiting for the LLM at most; a full queue drops new ones (counted)."""
    max_tokens: int = 3
    """Tokens of a label answer (yes/no)."""
    features: int = 1024
    """Hashed feature buckets of the classifier."""
    holdout_every: int = 5
    """Every n-th label is held out to measure the classifier's accuracy (0: none)."""
    cache: str = "default"
    """LLM answer cache: default (~/.cache/agentgym/llm.sqlite), none, or a file path."""

    def __post_init__(self) -> None:
        check_choice(self, "output", OUTPUTS)
        check_range(self, "threshold", 0.0, 1.0)
        check_ints(self, ("max_queue", "max_tokens", "features"))
        check_ints(self, ("min_labels", "holdout_every"), 0)
        if not self.caption.strip():
            raise field_error(self, "caption", "one or more text state variables", self.caption)
        if self.weight < 0:
            raise field_error(self, "weight", "a float >= 0", self.weight)


class OniReward:
    """The ``oni:`` reward model (see the module docstring)."""

    name = "oni"
    needs_frames = False

    def __init__(self, config: OniConfig, task: TaskSpec | None = None) -> None:
        self.config = config
        self.captions = [c.strip() for c in config.caption.split(",") if c.strip()]
        if task is not None:
            for var in [*self.captions, config.goal]:
                if var not in task.state_names:
                    raise field_error(
                        config,
                        "caption" if var != config.goal else "goal",
                        f"a state variable of {task.name} ({', '.join(task.state_names)})",
                        var,
                    )
        self.prompts = PromptBuilder()
        self.classifier = CaptionClassifier(config.features, holdout_every=config.holdout_every)
        self.unparsed = 0
        self.positives = 0
        asker = OneShotAsker(config.llm, config.cache, config.max_tokens)
        self.labeller = AsyncLabeller(
            asker, config.max_queue, on_answer=self._learn, name="oni-labeller", lookup=asker.lookup
        )
        self._texts: dict[str, str] = {}

    def _learn(self, key: str, prompt: str, answer: str) -> None:
        label = yes_no(answer)
        if label is None:
            self.unparsed += 1
            return
        self.positives += int(label)
        self.classifier.add(self._texts.pop(key, prompt), label)

    def labelled_text(self, state: dict, i: int) -> tuple[str, str]:
        """(goal, caption) of row ``i`` of a batch's state."""
        for var in [*self.captions, self.config.goal]:
            if var not in state:
                raise KeyError(
                    f"oni reward: the state has no text variable {var!r} "
                    f"(it has {', '.join(sorted(state))}); set caption=/goal= to one it has"
                )
        caption = "\n".join(str(state[c][i]) for c in self.captions)
        return str(state[self.config.goal][i]), caption

    def __call__(self, batch: RewardInput) -> RewardOutput:
        cfg = self.config
        rewards = []
        for i in range(batch.num_envs):
            goal, caption = self.labelled_text(batch.state, i)
            text = f"Goal: {goal}\n{caption}"
            key = text_key(text)
            if self.labeller.answer(key) is None:
                self._texts.setdefault(key, text)
                self.labeller.submit(
                    key, self.prompts.render("progress_label.j2", goal=goal, caption=caption)
                )
                if not self.labeller.waiting(key):  # dropped (queue full), or answered
                    self._texts.pop(key, None)
            if self.classifier.labels < max(cfg.min_labels, 1):
                rewards.append(0.0)
                continue
            p = self.classifier.predict(text)
            rewards.append(float(p > cfg.threshold) if cfg.output == "binary" else p)
        r = cfg.weight * torch.tensor(rewards, dtype=torch.float32, device=batch.env_reward.device)
        return RewardOutput(r, {"intrinsic": r})

    def metrics(self) -> dict[str, float]:
        """Label statistics for the learner's log (``oni/...``)."""
        out = self.labeller.stats.as_metrics("oni", self.labeller.queue_depth)
        out["oni/labels_per_s"] = self.labeller.labels_per_second()
        out["oni/classifier_accuracy"] = self.classifier.accuracy
        out["oni/held_out_labels"] = float(self.classifier.held_out)
        out["oni/positive_labels"] = float(self.positives)
        out["oni/unparsed_labels"] = float(self.unparsed)
        return out

    def close(self) -> None:
        self.labeller.close()

    def __repr__(self) -> str:
        return f"OniReward({self.config})"


def reward_from_spec(args: str, task: TaskSpec | None = None) -> OniReward:
    """The ``oni:`` reward-spec factory (``REWARD_KINDS``)."""
    return OniReward(parse_options(OniConfig, args, "oni reward"), task)
