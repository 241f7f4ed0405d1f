"""Subgoal proposals that are the goal's own, not the prompt's example copied.

Qwen2.5-Coder-1.5B answered 21 of 40 missions with the example phrases of the subgoal
prompt word for word (docs/results.md, "LLM-labelled rewards"), so the bonus paid for
reaching things the mission never asked for. ``SubgoalProposer`` asks for a goal's
subgoals (``subgoals.j2``) and checks the answer: a phrase whose words all stand, in
order and next to each other, in the prompt's text outside the goal itself is a copy
of the prompt. An answer with a copied phrase is asked again once, with the copied
phrases named (``subgoals.j2``'s ``copied``); copied phrases of that second answer are
dropped. Both answers are in the persistent LLM cache, so a cached copy is never asked
again, and the check runs the same way on a cache read (``lookup``) as on a request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from agentgym.reward_designers.prompting import PromptBuilder

MIN_WORDS = 2
"""A copied phrase has at least this many words (one word, "go", proves nothing)."""
_WORD = re.compile(r"[a-z0-9]+")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)]|step \d+:?)\s*", re.I)

Ask = Callable[[str], "tuple[str, bool]"]
Lookup = Callable[[str], "str | None"]


def parse_subgoals(text: str, limit: int) -> list[str]:
    """A proposal's lines, bullets and numbering stripped, at most ``limit``."""
    lines = (_BULLET.sub("", line).strip().strip(".") for line in text.splitlines())
    return [line for line in lines if line][:limit]


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def copied_phrases(phrases: list[str], prompt: str, goal: str) -> list[str]:
    """The phrases that repeat the prompt's own text outside ``goal`` (its example)."""
    # Split at the goal, so that a phrase equal to the goal (or spanning it) is no copy.
    parts = [f" {_words(p)} " for p in prompt.split(goal)] if goal else [f" {_words(prompt)} "]
    out = []
    for phrase in phrases:
        words = _words(phrase)
        if len(words.split()) >= MIN_WORDS and any(f" {words} " in p for p in parts):
            out.append(phrase)
    return out


class SubgoalProposer:
    """``ask``/``lookup`` for the proposal queue (``AsyncLabeller``): the answer to a
    goal's prompt, asked once more when it copies the prompt's example.

    ``prompt(goal)`` renders and registers a goal's prompt; ``copied`` and
    ``copied_again`` are the goals whose first (and second) answer copied."""

    def __init__(self, ask: Ask, lookup: Lookup, prompts: PromptBuilder, max_subgoals: int) -> None:
        self.ask = ask
        self.cached_answer = lookup
        self.prompts = prompts
        self.max_subgoals = max_subgoals
        self.copied: set[str] = set()
        self.copied_again: set[str] = set()
        self._goals: dict[str, str] = {}
        self._lock = threading.Lock()  # the queue's thread and the stepping thread both note

    def prompt(self, goal: str, copied: list[str] | None = None) -> str:
        text = self.prompts.render(
            "subgoals.j2", goal=goal, max_subgoals=self.max_subgoals, copied=copied or []
        )
        if not copied:
            self._goals[text] = goal
        return text

    def _retry(self, prompt: str, text: str) -> tuple[str, str] | None:
        """(goal, the prompt asking again) when ``text`` copies ``prompt``'s example,
        noting the goal as copied; None when it is the goal's own."""
        goal = self._goals.get(prompt, "")
        copied = copied_phrases(parse_subgoals(text, self.max_subgoals), prompt, goal)
        if not copied:
            return None
        with self._lock:
            self.copied.add(goal)
        return goal, self.prompt(goal, copied)

    def _kept(self, prompt: str, goal: str, retry_text: str) -> str:
        """The second answer without the phrases that copy the first prompt."""
        phrases = parse_subgoals(retry_text, self.max_subgoals)
        again = copied_phrases(phrases, prompt, goal)
        if again:
            with self._lock:
                self.copied_again.add(goal)
        return "\n".join(p for p in phrases if p not in again)

    def __call__(self, prompt: str) -> tuple[str, bool]:
        text, cached = self.ask(prompt)
        retry = self._retry(prompt, text)
        if retry is None:
            return text, cached
        goal, again = retry
        second, second_cached = self.ask(again)
        return self._kept(prompt, goal, second), cached and second_cached

    def lookup(self, prompt: str) -> str | None:
        """The cached final answer (the second one where the first copied), or None."""
        text = self.cached_answer(prompt)
        if text is None:
            return None
        retry = self._retry(prompt, text)
        if retry is None:
            return text
        goal, again = retry
        second = self.cached_answer(again)
        return None if second is None else self._kept(prompt, goal, second)

    def metrics(self) -> dict[str, float]:
        return {
            "subgoals/proposals_copied": float(len(self.copied)),
            "subgoals/proposals_copied_again": float(len(self.copied_again)),
        }
