"""agentgym/Tools-v0 (and Tools-<Kind>-v0): answer a question by calling tools.

## Description
Each episode draws a question that needs one to three tool calls: arithmetic
(``calculator``), ``unit_convert``, facts about a fictional world (``kb_lookup`` over
``assets/tools/kb.json``) and ``sql`` over a SQLite database generated for the episode
in the env's temporary folder and opened read-only. The agent calls tools, reads their
results and ends with ``final_answer``. ``Tools-v0`` mixes every kind; ``Tools-Calculator-v0``,
``Tools-Units-v0``, ``Tools-KB-v0``, ``Tools-SQL-v0`` and ``Tools-Multi-v0`` (chains of
two or three tools) hold one kind each. ``env.unwrapped.tools`` holds the OpenAI
``tools=`` schemas.

## Action space
``Text``: one OpenAI-style function call in JSON per step,
``{"name": "kb_lookup", "arguments": {"entity": "Velmora", "relation": "capital"}}``;
``arguments`` may be a JSON string, as the OpenAI API returns it. Malformed JSON, an
unknown tool or arguments the tool refuses give ``action_valid=False`` and a message.

## Observation space
``Text``: the question, the tools' signatures, every call so far with its result, and
the feedback on the last call.

## Rewards (ToolRL-style, Qian et al. 2025; the terms sum to the reward)
- ``format``: +0.05 for a well-formed call, -0.1 for a malformed one;
- ``tool_name``: +0.1 when the call is one the question still needs, -0.05 for a known
  tool it does not need, -0.1 for an unknown tool;
- ``arguments``: +0.15 times ToolRL's parameter score of the needed call (half the
  overlap of parameter names, half the values; calculator and SQL values compared by
  their results);
- ``answer``: at ``final_answer``, +1 if correct, -0.5 if wrong.

## Success
The final answer is correct (numbers within half a unit of the asked-for rounding).

## Episode end
Terminated by ``final_answer``; truncated after 8 calls.

## Version history
- v0: first release.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from agentgym.envs.web.base import WebTaskEnv, unknown_name
from agentgym.envs.web.tools.calls import CallError, answer_correct, argument_score, parse_call
from agentgym.envs.web.tools.questions import KINDS, Question, answer_from, make_question
from agentgym.envs.web.tools.toolbox import (
    SCHEMA_BY_NAME,
    TOOL_NAMES,
    TOOL_SCHEMAS,
    Toolbox,
    ToolError,
    make_database,
)
from agentgym.spec import StateVar, TaskSpec
from agentgym.text_env import TEXT_STATE, CommandResult, fit_text, text_space

MAX_OBS = 4096
MAX_RESULT_CHARS = 400
W_FORMAT, W_BAD_FORMAT = 0.05, -0.1
W_NAME, W_UNNEEDED, W_UNKNOWN = 0.1, -0.05, -0.1
W_ARGS = 0.15
W_RIGHT, W_WRONG = 1.0, -0.5

TOOLS_STATE = TEXT_STATE + (
    StateVar("question", (), "str", "-", "the question to answer"),
    StateVar(
        "num_tool_calls", (), "int64", "count", "tool calls made so far (final_answer excluded)"
    ),
    StateVar("last_tool", (), "str", "-", "name of the last tool called ('' if none or malformed)"),
    StateVar("last_result", (), "str", "-", "the last tool result or error message, as text"),
    StateVar(
        "answered", (), "bool", "-", "whether final_answer was called (not whether it was right)"
    ),
)


def _signature(schema: dict[str, Any]) -> str:
    fn = schema["function"]
    return f"{fn['name']}({', '.join(fn['parameters']['properties'])})"


class ToolsEnv(WebTaskEnv, EzPickle):
    __doc__ = __doc__
    task_spec: ClassVar[TaskSpec] = TaskSpec(
        name="Tools",
        instruction="Answer the question by calling tools (calculator, unit_convert, kb_lookup, "
        "sql) with JSON function calls, then call final_answer.",
        success="final_answer gives the correct answer.",
        action_meaning='One JSON function call per step: {"name": <tool>, "arguments": {...}}.',
        family="tools",
        tags=("tools", "function-calling", "toolrl", "calculator", "sql", "knowledge-base"),
        state=TOOLS_STATE,
    )
    reward_names = ("format", "tool_name", "arguments", "answer")
    max_command_length = 1024
    tools: ClassVar[list[dict[str, Any]]] = TOOL_SCHEMAS

    def __init__(
        self,
        kinds: tuple[str, ...] | list[str] = KINDS,
        reward: Any = None,
        render_mode: str | None = None,
    ) -> None:
        EzPickle.__init__(self, kinds=tuple(kinds), reward=reward, render_mode=render_mode)
        super().__init__(reward=reward, render_mode=render_mode)
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValueError(
                f"ToolsEnv: kinds must be a non-empty subset of {KINDS}, got {tuple(kinds)}"
            )
        self.kinds = tuple(kinds)
        self.observation_space = text_space(MAX_OBS)
        self._tmp: Path | None = None
        self.toolbox: Toolbox | None = None
        self.question: Question | None = None
        self.history: list[tuple[str, str]] = []
        self.results: list[Any] = []
        self.matched: list[bool] = []
        self.gold_results: dict[int, Any] = {}
        self.num_tool_calls = 0
        self.last_tool = ""
        self.last_result = ""
        self.answered = False
        self.correct = False

    # -- episode ------------------------------------------------------------------
    def _reset(self, *, seed, options):
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="agentgym-tools-"))
        db = self._tmp / "episode.sqlite"
        db.unlink(missing_ok=True)
        rows = make_database(db, self.np_random)
        self.toolbox = Toolbox(db)
        self.question = make_question(self.np_random, self.toolbox, rows, self.kinds)
        self._begin_episode(self.question.text)
        self.history, self.results = [], []
        self.matched = [False] * len(self.question.gold_calls)
        self.gold_results: dict[int, Any] = {}
        self.num_tool_calls, self.last_tool, self.last_result = 0, "", ""
        self.answered = self.correct = False
        return self._observe("Call a tool.")

    # -- commands -----------------------------------------------------------------
    def _execute(self, command: str) -> CommandResult:
        assert self.question is not None and self.toolbox is not None
        if self.answered:
            return CommandResult("The question was answered; the episode has ended.", False)
        try:
            name, args = parse_call(self.raw_command)
        except CallError as err:
            self.last_tool, self.last_result = "", f"error: {err}"
            return CommandResult(f"Invalid call: {err}.", False, {"format": W_BAD_FORMAT})
        self.last_tool = name
        terms = {"format": W_FORMAT}
        if name not in TOOL_NAMES:
            self.last_result = f"error: unknown tool {name!r}"
            terms["tool_name"] = W_UNKNOWN
            return CommandResult(
                f"Invalid call: {unknown_name('tool', name, TOOL_NAMES)}", False, terms
            )
        call_text = json.dumps({"name": name, "arguments": args}, sort_keys=True)
        if name == "final_answer":
            return self._answer(args, terms, call_text)
        self.num_tool_calls += 1
        gold = self._gold_index(name)
        try:
            result = self.toolbox.call(name, args)
        except ToolError as err:
            self.last_result = f"error: {err}"
            self.history.append((call_text, self.last_result))
            terms["tool_name"] = W_NAME if gold is not None else W_UNNEEDED
            return CommandResult(f"Invalid call: {name} failed: {err}", False, terms)
        text = json.dumps(result) if not isinstance(result, str) else result
        self.last_result = text[:MAX_RESULT_CHARS]
        self.history.append((call_text, self.last_result))
        self.results.append(result)
        if gold is None:
            terms["tool_name"] = W_UNNEEDED
        else:
            self.matched[gold] = True
            self.gold_results[gold] = result
            terms["tool_name"] = W_NAME
            terms["arguments"] = W_ARGS * argument_score(
                name, args, self.question.gold_calls[gold][1], self.toolbox.call
            )
        return CommandResult(f"{name} returned: {self.last_result}", True, terms)

    def _gold_index(self, name: str) -> int | None:
        """The first needed call of this tool not yet made (ToolRL matches by name)."""
        assert self.question is not None
        for i, (gold_name, _) in enumerate(self.question.gold_calls):
            if gold_name == name and not self.matched[i]:
                return i
        return None

    def _answer(
        self, args: dict[str, Any], terms: dict[str, float], call_text: str
    ) -> CommandResult:
        assert self.question is not None
        if set(args) != {"answer"}:
            self.last_result = "error: final_answer takes exactly one argument, 'answer'"
            terms["tool_name"] = W_NAME
            return CommandResult(f"Invalid call: {self.last_result[7:]}.", False, terms)
        self.answered = True
        self.correct = answer_correct(
            args["answer"], self.question.gold_answer, self.question.digits
        )
        self.history.append((call_text, "answer recorded"))
        self.last_result = "answer recorded"
        terms["tool_name"] = W_NAME
        terms["answer"] = W_RIGHT if self.correct else W_WRONG
        verdict = "correct" if self.correct else "not correct"
        return CommandResult(
            f"Final answer {args['answer']!r} recorded: {verdict}.", True, terms, terminated=True
        )

    # -- observation --------------------------------------------------------------
    def _observe(self, feedback: str) -> tuple[str, dict[str, Any]]:
        assert self.question is not None
        lines = [
            f"Question: {self.question.text}",
            "Tools: " + ", ".join(_signature(s) for s in TOOL_SCHEMAS),
            'Call one tool per step as JSON: {"name": "<tool>", "arguments": {...}}.',
        ]
        if self.history:
            lines.append("Calls so far:")
            lines += [
                f"{i + 1}. {call} -> {result}" for i, (call, result) in enumerate(self.history)
            ]
        lines.append(feedback)
        obs = fit_text("\n".join(lines), MAX_OBS)
        state = self.text_state(obs)
        state.update(
            {
                "question": self.question.text,
                "num_tool_calls": np.int64(self.num_tool_calls),
                "last_tool": self.last_tool,
                "last_result": self.last_result,
                "answered": bool(self.answered),
            }
        )
        info = {
            "reward_state": state,
            "success": bool(self.answered and self.correct),
            "admissible_actions": []
            if self.answered
            else [
                json.dumps(
                    {"name": n, "arguments": {k: "..." for k in SCHEMA_BY_NAME[n]["properties"]}}
                )
                for n in TOOL_NAMES
            ],
            "question_kind": self.question.kind,
        }
        return obs, info

    def expert_action(self) -> str:
        """The gold plan's next call, built from the results the tools actually returned;
        then final_answer with the last result, rounded as the question asks."""
        if self.question is None:
            raise RuntimeError("ToolsEnv.expert_action: call reset() first")
        for i, (name, build) in enumerate(self.question.plan):
            if not self.matched[i]:
                earlier = [self.gold_results[j] for j in range(i)]
                return json.dumps({"name": name, "arguments": build(earlier)})
        last = self.gold_results[len(self.question.plan) - 1]
        return json.dumps(
            {
                "name": "final_answer",
                "arguments": {"answer": answer_from(last, self.question.digits)},
            }
        )

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        super().close()
