"""Subgoal rewards: the LLM proposes subgoals of a task instance once, a judge decides
when each is reached, and reaching one pays a bounded bonus once per episode.

CALM (Prakash et al., "LLM Augmented Hierarchical Agents", 2023: an option's termination
pays the agent) and Words as Beacons (Ruiz-Gonzalez et al., 2024: LLM subgoals for
MiniGrid/BabyAI). For each mission the LLM is asked once (``subgoals.j2``; the answer is
in the persistent LLM cache, so a mission is never proposed twice across runs) for at
most ``max_subgoals`` subgoal phrases; an answer that copies the prompt's example is
asked again once (``proposals.py``). A judge decides when one is reached:

- ``rule``: where the env exposes the facts (``rules.py``: BabyAI's inventory and front
  cell, the household world's inventory, location and goal state), a phrase becomes a
  check on the reward state; phrases no rule covers are dropped (counted);
- ``llm``: the LLM is asked "has the agent reached <subgoal>?" about the caption, through
  the same asynchronous queue; the bonus is paid at the first step whose caption already
  has a "yes" (a step never waits for the answer);
- ``auto``: ``rule`` where the env has rules, else ``llm``.

Bounded, not potential-based. A potential-based bonus (Ng et al. 1999, F = gamma *
Phi(s') - Phi(s) with Phi = bonus * subgoals reached) leaves the optimal policy
unchanged only if the potential is refunded at the episode's end, also on truncation,
which a per-step reward model does not see; with gamma near 1 its net effect over an
episode is about zero anyway. The bounded bonus pays ``bonus`` once per subgoal per
episode, so an episode earns at most ``bonus * max_subgoals``, and that sum is required
to be below 1 (the ``sparse`` success reward): a policy that fails can never out-earn
one that succeeds, so the shaped task's optimal policy still succeeds whenever it can.
What it may change is which successful path is best: a detour through a proposed
subgoal that the task does not need is paid. That is the price of CALM's bonus, stated
here rather than hidden.

Episodes are told apart by the TaskSpec's ``steps_taken`` (every text env has it): a
row whose count does not grow has started a new episode. A learner stepping several
single envs gives each its own copy (``for_env``; ``agentgym.rewards.episodic``); the
copies share the LLM queue, the proposals and the counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from agentgym.config_fields import check_choice, check_ints, field_error
from agentgym.reward_designers.labelled.labeller import AsyncLabeller, text_key
from agentgym.reward_designers.labelled.llm_ask import OneShotAsker, yes_no
from agentgym.reward_designers.labelled.options import parse_options
from agentgym.reward_designers.labelled.proposals import SubgoalProposer, parse_subgoals
from agentgym.reward_designers.labelled.rules import Predicate, rule_for
from agentgym.reward_designers.prompting import PromptBuilder
from agentgym.rewards.base import RewardInput, RewardOutput
from agentgym.spec import TaskSpec

JUDGES = ("auto", "rule", "llm")


@dataclass(frozen=True)
class SubgoalConfig:
    """Everything a ``subgoals:`` reward spec sets (``subgoals:llm=openai:M@URL;bonus=0.1``)."""

    llm: str = ""
    """The proposing (and judging) LLM's spec; empty: $AGENTGYM_LLM."""
    bonus: float = 0.1
    """Paid once per subgoal per episode when it is first reached."""
    max_subgoals: int = 4
    """Most subgoals kept of a proposal (bonus * max_subgoals must stay below 1)."""
    judge: str = "auto"
    """rule (the env's facts), llm (ask about the caption), auto (rule where the env has one)."""
    caption: str = "observation"
    """The text state variable the llm judge reads."""
    goal: str = "mission"
    """The text state variable holding the task instance's goal (proposals are per goal)."""
    max_queue: int = 64
    """Questions waiting for the LLM at most; a full queue drops new ones (counted)."""
    max_tokens: int = 64
    """Tokens of a proposal (judge answers use 3)."""
    cache: str = "default"
    """LLM answer cache: default (~/.cache/agentgym/llm.sqlite), none, or a file path."""

    def __post_init__(self) -> None:
        check_choice(self, "judge", JUDGES)
        check_ints(self, ("max_subgoals", "max_queue", "max_tokens"))
        if not self.bonus > 0:
            raise field_error(self, "bonus", "a float > 0", self.bonus)
        if self.bonus * self.max_subgoals >= 1.0:
            raise field_error(
                self,
                "bonus",
                f"bonus * max_subgoals < 1 (the success reward), so no run of bonuses "
                f"out-earns success; with max_subgoals={self.max_subgoals} a bonus below "
                f"{1.0 / self.max_subgoals:g}",
                self.bonus,
            )


@dataclass
class SubgoalShared:
    """What every env's copy of one subgoal reward shares."""

    labeller: AsyncLabeller
    judge: AsyncLabeller | None
    rule: object
    proposer: SubgoalProposer
    prompts: PromptBuilder = field(default_factory=PromptBuilder)
    subgoals: dict[str, list[tuple[str, Predicate | None]]] = field(default_factory=dict)
    counts: dict[str, float] = field(
        default_factory=lambda: {
            "proposals": 0.0,
            "subgoals_proposed": 0.0,
            "subgoals_unjudged": 0.0,
            "bonuses_paid": 0.0,
            "episodes": 0.0,
            "episodes_without_subgoals": 0.0,
        }
    )


class SubgoalReward:
    """The ``subgoals:`` reward model (see the module docstring)."""

    name = "subgoals"
    needs_frames = False

    def __init__(
        self,
        config: SubgoalConfig,
        task: TaskSpec | None = None,
        shared: SubgoalShared | None = None,
    ) -> None:
        self.config = config
        self.task = task
        if shared is None:
            rule = rule_for(task.tags, task.state_names) if task is not None else None
            if config.judge == "rule" and rule is None:
                raise field_error(
                    config,
                    "judge",
                    "llm or auto: this env exposes no facts a rule can judge "
                    "(rules exist for BabyAI and the household world)",
                    config.judge,
                )
            use_llm_judge = config.judge == "llm" or (config.judge == "auto" and rule is None)
            asker = OneShotAsker(config.llm, config.cache, config.max_tokens)
            prompts = PromptBuilder()
            proposer = SubgoalProposer(asker, asker.lookup, prompts, config.max_subgoals)
            judge = OneShotAsker(config.llm, config.cache, 3) if use_llm_judge else None
            shared = SubgoalShared(
                labeller=AsyncLabeller(
                    proposer, config.max_queue, name="subgoal-proposals", lookup=proposer.lookup
                ),
                judge=None
                if judge is None
                else AsyncLabeller(
                    judge, config.max_queue, name="subgoal-judge", lookup=judge.lookup
                ),
                rule=None if use_llm_judge else rule,
                proposer=proposer,
                prompts=prompts,
            )
        self.shared = shared
        self._steps: list[float] = []
        self._paid: list[set[int]] = []

    def for_env(self) -> SubgoalReward:
        """A copy for one more env: its own episode state, the shared LLM queue."""
        return SubgoalReward(self.config, self.task, self.shared)

    def subgoals_of(self, goal: str) -> list[tuple[str, Predicate | None]] | None:
        """The goal's (subgoal, rule predicate) pairs, or None while the proposal is pending."""
        sh = self.shared
        if goal in sh.subgoals:
            return sh.subgoals[goal]
        prompt = sh.proposer.prompt(goal)
        answer = sh.labeller.submit(text_key(prompt), prompt)
        if answer is None:
            return None
        pairs = []
        for phrase in parse_subgoals(answer, self.config.max_subgoals):
            check = sh.rule(phrase) if sh.rule is not None else None  # type: ignore[operator]
            if sh.rule is not None and check is None:
                sh.counts["subgoals_unjudged"] += 1
                continue
            pairs.append((phrase, check))
        sh.subgoals[goal] = pairs
        sh.counts["proposals"] += 1
        sh.counts["subgoals_proposed"] += len(pairs)
        return pairs

    def _reached(self, batch: RewardInput, i: int, subgoal: str, check: Predicate | None) -> bool:
        if check is not None:
            return bool(check(batch.state, i))
        judge = self.shared.judge
        assert judge is not None
        caption = str(batch.state[self.config.caption][i])
        prompt = self.shared.prompts.render("subgoal_judge.j2", subgoal=subgoal, caption=caption)
        return yes_no(judge.submit(text_key(prompt), prompt) or "") is True

    def __call__(self, batch: RewardInput) -> RewardOutput:
        cfg = self.config
        for var in ("steps_taken", cfg.goal):
            if var not in batch.state:
                raise KeyError(
                    f"subgoals reward: the state has no {var!r}; subgoal bonuses need a text "
                    "env's steps_taken (to tell episodes apart) and its goal text"
                )
        n = batch.num_envs
        if len(self._steps) != n:
            self._steps, self._paid = [float("inf")] * n, [set() for _ in range(n)]
        counts = self.shared.counts
        rewards = [0.0] * n
        for i in range(n):
            steps = float(batch.state["steps_taken"][i])
            new_episode = steps <= self._steps[i]  # the count started again
            if new_episode:
                self._paid[i] = set()
                counts["episodes"] += 1
            self._steps[i] = steps
            pairs = self.subgoals_of(str(batch.state[cfg.goal][i]))
            if not pairs:
                counts["episodes_without_subgoals"] += float(new_episode)
                continue
            for k, (subgoal, check) in enumerate(pairs):
                if k in self._paid[i] or not self._reached(batch, i, subgoal, check):
                    continue
                self._paid[i].add(k)
                rewards[i] += cfg.bonus
                counts["bonuses_paid"] += 1
        r = torch.tensor(rewards, dtype=torch.float32, device=batch.env_reward.device)
        return RewardOutput(r, {"bonus": r})

    def metrics(self) -> dict[str, float]:
        """Proposal and bonus counters (shared by every env's copy) for the learner's log."""
        sh = self.shared
        out = {f"subgoals/{k}": v for k, v in sh.counts.items()}
        out.update(sh.proposer.metrics())
        out.update(sh.labeller.stats.as_metrics("subgoals/proposal", sh.labeller.queue_depth))
        if sh.judge is not None:
            out.update(sh.judge.stats.as_metrics("subgoals/judge", sh.judge.queue_depth))
        return out

    def __repr__(self) -> str:
        return f"SubgoalReward({self.config})"


def reward_from_spec(args: str, task: TaskSpec | None = None) -> SubgoalReward:
    """The ``subgoals:`` reward-spec factory (``REWARD_KINDS``)."""
    return SubgoalReward(parse_options(SubgoalConfig, args, "subgoals reward"), task)
