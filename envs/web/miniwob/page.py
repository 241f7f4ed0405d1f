"""One MiniWoB++ task page in Chromium: start seeded episodes, read the DOM, act.

The task HTML ships with the ``miniwob`` package; this module talks to its JavaScript
``core`` directly (the same calls ``miniwob.selenium_instance`` makes) so that the
browser is launched with agentgym's Chromium flags rather than the package's. The
episode timer is lifted: on a loaded CI machine a wall-clock limit would make seeded
episodes non-deterministic, so episodes end by ``max_episode_steps`` instead, and the
reward is MiniWoB's raw reward (not scaled by time).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.envs.web.chromium import Chromium

log = logging.getLogger(__name__)

NO_TIME_LIMIT_MS = 10**9
READY_TIMEOUT_S = 5.0


def task_url(task: str) -> str:
    import miniwob

    html = Path(miniwob.__file__).parent / "html" / "miniwob" / f"{task}.html"
    if not html.exists():
        raise FileNotFoundError(f"miniwob has no task {task!r} (looked for {html})")
    return html.as_uri()


@dataclass
class Element:
    """One DOM element as ``core.getDOMInfo`` reports it (text nodes have ref < 0)."""

    ref: int
    tag: str
    text: str | None
    value: Any
    id: str
    classes: str
    depth: int
    focused: bool
    parent: int | None
    children: list[int] = field(default_factory=list)

    @property
    def is_text_node(self) -> bool:
        return self.tag == "t"


def flatten(raw: dict[str, Any]) -> list[Element]:
    """The DOM tree in document order, as Elements linked by ref."""
    out: list[Element] = []

    def visit(node: dict[str, Any], depth: int, parent: int | None) -> None:
        children = node.get("children", [])
        text = node.get("text")
        # getDOMInfo sometimes splits a text-only element into "t" children; join them
        # back (miniwob.dom.DOMElement does the same).
        if children and all(c["tag"].lower() == "t" for c in children):
            text, children = " ".join(c["text"] for c in children), []
        classes = node.get("classes", "")
        el = Element(
            ref=int(node["ref"]),
            tag=node["tag"].lower(),
            text=text,
            value=node.get("value"),
            id=node.get("id", "") or "",
            classes=classes if isinstance(classes, str) else "",
            depth=depth,
            focused=bool(node.get("focused", False)),
            parent=parent,
        )
        out.append(el)
        for child in children:
            child_el_index = len(out)
            visit(child, depth + 1, el.ref)
            el.children.append(out[child_el_index].ref)

    visit(raw, 0, None)
    return out


class MiniWoBPage:
    """A Chromium showing one MiniWoB task; ``start(seed)`` begins a seeded episode."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.browser = Chromium.launch(width=500, height=400)
        self.driver = self.browser.driver
        self.driver.get(task_url(task))
        self._wait(
            lambda: self.driver.execute_script(
                "return typeof core !== 'undefined' && document.getElementById('sync-task-cover') !== null"
            )
        )

    def _wait(self, predicate, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"miniwob task {self.task!r} did not become ready in {timeout} s"
                )
            time.sleep(0.02)

    def start(self, seed: int) -> None:
        """End whatever runs, seed the task's RNG and start a new episode."""
        self.driver.execute_script(
            "core.endEpisode(0);"
            f"core.EPISODE_MAX_TIME = {NO_TIME_LIMIT_MS};"
            f"Math.seedrandom({int(seed)});"
            "core.setDataMode('train');"
            "core.startEpisodeReal();"
        )
        self._wait(lambda: self.driver.execute_script("return WOB_TASK_READY;"))

    def utterance(self) -> str:
        response = self.driver.execute_script("return core.getUtterance();")
        return response["utterance"] if isinstance(response, dict) else str(response)

    def dom(self) -> list[Element]:
        """The visible DOM of the task area (this call also refreshes the clickable refs)."""
        raw = self.driver.execute_script("var wrap = document.body;return core.getDOMInfo(wrap);")
        return flatten(raw) if raw else []

    def metadata(self) -> dict[str, Any]:
        return self.driver.execute_script(
            'return {"done": WOB_DONE_GLOBAL, "raw_reward": WOB_RAW_REWARD_GLOBAL,'
            ' "reason": WOB_REWARD_REASON};'
        )

    # -- actions (refs come from the last dom() call) -----------------------------
    def click(self, ref: int) -> str | None:
        """Click the element; None on success, else the browser's message."""
        result = self.driver.execute_script("return core.elementClick(arguments[0]);", ref)
        return None if result is True else str(result)

    def type(self, ref: int, text: str) -> str | None:
        """Focus the element by clicking it, clear it, then type ``text`` key by key."""
        from selenium.webdriver.common.action_chains import ActionChains

        problem = self.click(ref)
        if problem:
            return problem
        self.driver.execute_script(
            "var e = core.previousDOMInfo[arguments[0]];if (e && 'value' in e) { e.value = ''; }",
            ref,
        )
        chain = ActionChains(self.driver, duration=0)
        for key in text:
            chain.w3c_actions.key_action.key_down(key)
            chain.w3c_actions.key_action.key_up(key)
        chain.perform()
        return None

    def select(self, ref: int, option: str) -> str | None:
        """Choose the option whose text is ``option`` in a <select> element."""
        return self.driver.execute_script(
            "var e = core.previousDOMInfo[arguments[0]];"
            "if (!e || e.tagName !== 'SELECT') return 'not a select element';"
            "for (var i = 0; i < e.options.length; i++) {"
            "  if (e.options[i].text.trim().toLowerCase() === arguments[1].trim().toLowerCase()) {"
            "    e.selectedIndex = i; e.dispatchEvent(new Event('change', {bubbles: true}));"
            "    return null; } }"
            "return 'no option ' + JSON.stringify(arguments[1]);",
            ref,
            option,
        )

    def select_state(self, ref: int) -> tuple[list[str], str]:
        """(option texts, selected option text) of a <select> element."""
        options, selected = self.driver.execute_script(
            "var e = core.previousDOMInfo[arguments[0]];"
            "if (!e || e.tagName !== 'SELECT') return [[], ''];"
            "var texts = Array.from(e.options).map(function (o) { return o.text.trim(); });"
            "return [texts, e.selectedIndex >= 0 ? texts[e.selectedIndex] : ''];",
            ref,
        )
        return list(options), str(selected)

    def settle(self) -> None:
        """Let the page's zero-delay timers and the next frame run (menus, redraws)."""
        self.driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "setTimeout(function () { requestAnimationFrame(function () {"
            " setTimeout(done, 0); }); }, 0);"
        )

    def run_script(self, script: str) -> None:
        self.driver.execute_script(script)

    def close(self) -> None:
        self.browser.close()
