"""agentgym/MiniWoB-<task>-v0: MiniWoB++ tasks in Debian's Chromium, as text.

## Description
The MiniWoB++ benchmark (Shi et al., 2017; Liu et al., 2018) through the ``miniwob``
package's task pages, run in headless Chromium (launched on the first reset, quit on
``close()``). Each episode seeds the task's own random generator from the env's, so
``reset(seed=s)`` shows the same page every time. The wall-clock episode timer of
MiniWoB is lifted (episodes end by step count), which keeps seeded runs deterministic
on a loaded machine.

## Action space
``Text``: ``click(ref)``, ``type(ref, "text")`` (clicks the element to focus it,
clears it, then types key by key), ``select(ref, "option")`` for a drop-down list, or
the JSON form ``{"action": "type", "ref": 5, "text": "hello"}``. An unknown ref, a
command that does not parse or malformed JSON leaves the page unchanged and gives
``action_valid=False`` with a message naming the problem.

## Observation space
``Text``: ``Task: <utterance>`` then the DOM, one line per visible element:
``[ref] tag #id "text" value=... checked=... options=[...] (focused)``.

## Rewards
MiniWoB's raw reward when the task ends (term ``task``): 1 for success, -1 for
failure (partial credit on some tasks); 0 on every other step.

## Success
The task ended with a positive reward.

## Episode end
Terminated when the task ends; truncated after ``max_episode_steps`` (10).

## Version history
- v0: first release.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from agentgym.envs.web.base import WebTaskEnv
from agentgym.envs.web.miniwob.dom_text import (
    CommandError,
    format_command,
    parse_command,
    render_dom,
)
from agentgym.envs.web.miniwob.page import Element, MiniWoBPage
from agentgym.envs.web.miniwob.solvers import SOLVERS
from agentgym.envs.web.miniwob.tasks import TASKS, class_name
from agentgym.spec import StateVar, TaskSpec
from agentgym.text_env import TEXT_STATE, CommandResult, fit_text, text_space

MAX_OBS = 8192

log = logging.getLogger(__name__)

MINIWOB_STATE = TEXT_STATE + (
    StateVar("dom", (), "str", "-", "the page's visible elements as text, one per line with [ref]"),
    StateVar("num_elements", (), "int64", "count", "elements with a ref on the page"),
    StateVar("focused_ref", (), "int64", "-", "ref of the focused element, -1 when none"),
    StateVar("task_over", (), "bool", "-", "whether the task page has ended the episode"),
)


def make_spec(task: str) -> TaskSpec:
    return TaskSpec(
        name=f"MiniWoB-{task}",
        instruction=f"MiniWoB++ {task}: {TASKS[task][0]} The utterance on the page says exactly what.",
        success="MiniWoB's task page ends the episode with a positive reward.",
        action_meaning='click(ref), type(ref, "text"), select(ref, "option"), or JSON '
        '{"action": ..., "ref": ..., "text": ...}; refs are the [numbers] in the DOM text.',
        family="web",
        tags=("miniwob", "browser", "dom", task),
        state=MINIWOB_STATE,
    )


class MiniWoBEnv(WebTaskEnv, EzPickle):
    """Base of the per-task classes below; ``task`` names the MiniWoB page."""

    __doc__ = __doc__
    task: ClassVar[str] = ""
    task_spec: ClassVar[TaskSpec]
    reward_names = ("task",)
    max_command_length = 512

    def __init__(self, reward: Any = None, render_mode: str | None = None) -> None:
        EzPickle.__init__(self, reward=reward, render_mode=render_mode)
        super().__init__(reward=reward, render_mode=render_mode)
        self.observation_space = text_space(MAX_OBS)
        self._page: MiniWoBPage | None = None
        self.utterance = ""
        self.elements: list[Element] = []
        self.selects: dict[int, tuple[list[str], str]] = {}
        self.over = False
        self.raw_reward = 0.0
        self.reason = ""

    def _read(self) -> None:
        assert self._page is not None
        self.elements = self._page.dom()
        self.selects = {
            e.ref: self._page.select_state(e.ref) for e in self.elements if e.tag == "select"
        }

    def _reset(self, *, seed, options):
        from selenium.common.exceptions import WebDriverException
        from urllib3.exceptions import HTTPError as DriverConnectionError

        if self._page is None:
            self._page = MiniWoBPage(self.task)
        task_seed = int(self.np_random.integers(2**31 - 1))
        try:
            self._page.start(task_seed)
        except (WebDriverException, DriverConnectionError, ConnectionError) as err:
            # The browser crashed or was killed (long training runs see this): start a
            # fresh one rather than ending the run.
            log.warning(
                "%s: Chromium failed (%s); restarting it", self.task, str(err).splitlines()[0]
            )
            self._page.close()
            self._page = MiniWoBPage(self.task)
            self._page.start(task_seed)
        setup = TASKS[self.task][1]
        if setup:
            self._page.run_script(setup)
        self.utterance = " ".join(self._page.utterance().split())
        self.over, self.raw_reward, self.reason = False, 0.0, ""
        self._begin_episode(self.utterance)
        self._read()
        return self._observe("")

    def _execute(self, command: str) -> CommandResult:
        assert self._page is not None
        if self.over:
            return CommandResult("The task is over; reset the env to start a new one.", False)
        try:
            cmd = parse_command(self.raw_command)
        except CommandError as err:
            return CommandResult(f"Invalid command: {err}.", False)
        refs = {e.ref for e in self.elements if not e.is_text_node}
        if cmd.ref not in refs:
            return CommandResult(
                f"Invalid command: no element with ref {cmd.ref} on the page "
                f"(refs shown: {min(refs) if refs else '-'}..{max(refs) if refs else '-'}).",
                False,
            )
        if cmd.verb == "select" and cmd.ref not in self.selects:
            return CommandResult(
                f"Invalid command: element {cmd.ref} is not a drop-down list.", False
            )
        if cmd.verb == "select" and cmd.text.strip().lower() not in [
            o.lower() for o in self.selects[cmd.ref][0]
        ]:
            return CommandResult(
                f"Invalid command: list {cmd.ref} has no option {cmd.text!r}; "
                f"options: {json.dumps(self.selects[cmd.ref][0])}.",
                False,
            )
        if cmd.verb == "click":
            problem = self._page.click(cmd.ref)
        elif cmd.verb == "type":
            problem = self._page.type(cmd.ref, cmd.text)
        else:
            problem = self._page.select(cmd.ref, cmd.text)
        if problem:
            return CommandResult(
                f"Invalid command: the browser could not {cmd.verb} {cmd.ref}: {problem}.", False
            )
        self._page.settle()
        meta = self._page.metadata()
        if meta["done"]:
            self.over = True
            self.raw_reward = float(meta["raw_reward"])
            self.reason = str(meta.get("reason") or "")
            outcome = "succeeded" if self.raw_reward > 0 else "failed"
            return CommandResult(
                f"The task {outcome} (reward {self.raw_reward:g}).",
                True,
                {"task": self.raw_reward},
                terminated=True,
            )
        self._read()
        return CommandResult(f"Done: {format_command(cmd)}.", True)

    def _observe(self, feedback: str) -> tuple[str, dict[str, Any]]:
        dom = render_dom(self.elements, {r: o for r, (o, _) in self.selects.items()})
        for ref, (_, selected) in self.selects.items():
            dom = dom.replace(
                f"[{ref}] select", f"[{ref}] select selected={json.dumps(selected)}", 1
            )
        text = f"Task: {self.utterance}\n\n{dom}"
        if feedback:
            text += f"\n\n{feedback}"
        obs = fit_text(text, MAX_OBS)
        focused = next((e.ref for e in self.elements if e.focused), -1)
        state = self.text_state(obs)
        state.update(
            {
                "dom": fit_text(dom, MAX_OBS),
                "num_elements": np.int64(sum(not e.is_text_node for e in self.elements)),
                "focused_ref": np.int64(focused),
                "task_over": bool(self.over),
            }
        )
        admissible = (
            []
            if self.over
            else [
                f"click({e.ref})" for e in self.elements if not e.is_text_node and e.tag != "body"
            ]
        )
        info = {
            "reward_state": state,
            "success": bool(self.over and self.raw_reward > 0),
            "admissible_actions": admissible,
        }
        if self.over:
            info["miniwob_reason"] = self.reason
        return obs, info

    def expert_action(self) -> str:
        if self._page is None:
            raise RuntimeError(f"{type(self).__name__}.expert_action: call reset() first")
        return format_command(SOLVERS[self.task](self.utterance, self.elements, self.selects))

    def close(self) -> None:
        if self._page is not None:
            self._page.close()
            self._page = None
        super().close()


def _make_class(task: str) -> type[MiniWoBEnv]:
    cls = type(
        class_name(task),
        (MiniWoBEnv,),
        {
            "task": task,
            "task_spec": make_spec(task),
            "__module__": __name__,
            "__doc__": __doc__,
        },
    )
    cls.__qualname__ = cls.__name__
    return cls


# One importable class per task: TaskSpecs are class attributes (the catalogue reads
# them without building an env) and EzPickle re-constructs by class.
for _task in TASKS:
    globals()[class_name(_task)] = _make_class(_task)
