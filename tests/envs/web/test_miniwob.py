"""MiniWoB++ in Chromium: command parsing, DOM text, invalid actions, solvers, closing.

Parsing and rendering tests need no browser; the rest are marked ``browser``. The
100-episode measurement of every solver is ``slow`` as well; a 10-episode version runs
with the browser suite.
"""

from __future__ import annotations

import os
import pickle

import gymnasium as gym
import numpy as np
import pytest

from agentgym.envs.web.miniwob.dom_text import CommandError, WebCommand, parse_command, render_dom
from agentgym.envs.web.miniwob.page import Element
from agentgym.envs.web.miniwob.tasks import TASKS


def env_id(task: str) -> str:
    return f"agentgym/MiniWoB-{task}-v0"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("click(4)", WebCommand("click", 4)),
        (" CLICK ( 12 ) ", WebCommand("click", 12)),
        ("click [7]", WebCommand("click", 7)),
        ('type(5, "Hello World")', WebCommand("type", 5, "Hello World")),
        ("type(5, 'fU')", WebCommand("type", 5, "fU")),
        ('type(5, "say \\"hi\\"")', WebCommand("type", 5, 'say "hi"')),
        ('select(4, "Bobine")', WebCommand("select", 4, "Bobine")),
        ('{"action": "type", "ref": 3, "text": "x"}', WebCommand("type", 3, "x")),
        ('{"action": "click", "ref": "9"}', WebCommand("click", 9)),
    ],
)
def test_parse_command(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text, needle",
    [
        ("press the button", "cannot parse"),
        ("click(4, 5)", "one argument"),
        ("type(5)", "needs a text argument"),
        ('{"action": "click", "ref": ', "malformed JSON"),
        ('{"action": "hover", "ref": 3}', "'action' must be"),
        ('{"action": "click", "ref": "abc"}', "'ref' must be"),
        ("[1, 2]", "must be an object"),
    ],
)
def test_parse_command_errors_say_what_was_expected(text, needle):
    with pytest.raises(CommandError, match=needle):
        parse_command(text)


def test_render_dom_shows_refs_text_values_and_checked_state():
    elements = [
        Element(1, "body", None, None, "", "", 0, False, None, [2]),
        Element(2, "div", None, None, "area", "", 1, False, 1, [3, 4, 5, 6, 7]),
        Element(3, "button", "Ok", None, "", "", 2, False, 2),
        Element(4, "input_text", None, "abc", "name", "", 2, True, 2),
        Element(5, "input_checkbox", None, True, "", "", 2, False, 2),
        Element(-1, "t", "Label text", None, "", "", 2, False, 2),
        Element(6, "span", "", None, "", "trash icon", 2, False, 2),
        Element(7, "div", "", None, "", "", 2, False, 2),  # decoration: not shown
    ]
    text = render_dom(elements)
    assert text.splitlines() == [
        "[2] div #area",
        '  [3] button "Ok"',
        '  [4] input_text #name value="abc" (focused)',
        "  [5] input_checkbox checked=true",
        '  "Label text"',
        "  [6] span .trash .icon",
    ]


def test_every_task_has_a_solver_and_ten_or_more_are_registered():
    from agentgym.catalog import env_ids
    from agentgym.envs.web.miniwob.solvers import SOLVERS

    assert set(TASKS) == set(SOLVERS)
    ids = [i for i in env_ids() if i.startswith("agentgym/MiniWoB-")]
    assert len(ids) >= 10 and set(ids) == {env_id(t) for t in TASKS}


def solve(env, seed: int) -> bool:
    env.reset(seed=seed)
    for _ in range(10):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if terminated or truncated:
            break
    return bool(info["success"])


def _solver_rate(task: str, episodes: int) -> float:
    env = gym.make(env_id(task))
    try:
        return float(np.mean([solve(env, seed) for seed in range(episodes)]))
    finally:
        env.close()


@pytest.mark.browser
@pytest.mark.parametrize("task", sorted(TASKS))
def test_solver_short(task):
    assert _solver_rate(task, 10) >= 0.9


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("task", sorted(TASKS))
def test_solver_100_episodes(task):
    assert _solver_rate(task, 100) >= 0.95


@pytest.mark.browser
def test_seeded_reset_shows_the_same_page_and_typing_keeps_case():
    env = gym.make(env_id("login-user"))
    try:
        a, _ = env.reset(seed=11)
        b, _ = env.reset(seed=12)
        c, _ = env.reset(seed=11)
        assert a == c and a != b
        user_field = next(e for e in env.unwrapped.elements if e.tag == "input_text")
        obs, _, _, _, info = env.step(f'type({user_field.ref}, "MiXeD Case")')
        assert info["action_valid"]
        assert f'[{user_field.ref}] input_text #username value="MiXeD Case"' in obs
    finally:
        env.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    "action, needle",
    [
        ("click(9999)", "no element with ref 9999"),
        ("click(-1)", "no element with ref -1"),
        ('{"action": "click", "ref": ', "malformed JSON"),
        ("open the pod bay doors", "cannot parse"),
        ('select(4, "Nobody")', "has no option 'Nobody'"),
        ("", "empty"),
    ],
)
def test_invalid_actions_are_answered_not_raised(action, needle):
    env = gym.make(env_id("choose-list"))
    try:
        obs0, _ = env.reset(seed=3)
        obs, reward, terminated, _, info = env.step(action)
        assert info["action_valid"] is False
        assert needle in obs
        assert reward == 0.0 and not terminated
        assert obs0.split("\n\n")[1] in obs  # the page (DOM text) is still shown
        assert info["reward_state"]["last_action_valid"] is False
        # The env still works after the invalid command.
        _, _, _, _, info = env.step(env.unwrapped.expert_action())
        assert info["action_valid"]
    finally:
        env.close()


@pytest.mark.browser
def test_failure_ends_the_episode_with_negative_reward():
    env = gym.make(env_id("click-button"))
    try:
        for seed in range(20):  # a page with a second button to click by mistake
            env.reset(seed=seed)
            wanted = env.unwrapped.expert_action()
            others = [
                e.ref
                for e in env.unwrapped.elements
                if e.tag == "button" and f"click({e.ref})" != wanted
            ]
            if others:
                break
        other = others[0]
        _, reward, terminated, _, info = env.step(f"click({other})")
        assert terminated and reward == -1.0 and not info["success"]
        assert info["reward_terms"] == {"task": -1.0}
        _, _, _, _, info = env.step(wanted)
        assert not info["action_valid"]  # the task is over
    finally:
        env.close()


@pytest.mark.browser
def test_close_leaves_no_chromium_process_and_pickle_rebuilds():
    env = gym.make(env_id("click-test"))
    env.reset(seed=0)
    browser = env.unwrapped._page.browser
    pids, profile = browser.pids, browser.profile_dir
    assert len(pids) >= 2  # chromedriver and the browser below it
    clone = pickle.loads(pickle.dumps(env))
    try:
        assert clone.reset(seed=5)[0] == env.reset(seed=5)[0]
    finally:
        clone.close()
        env.close()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            # A zombie has exited; only its parent's wait() is missing.
            assert state == "Z", f"process {pid} still running after close()"
        except FileNotFoundError:
            pass
    assert not os.path.exists(profile)
    assert browser.leftover_pids() == []


@pytest.mark.browser
def test_reset_restarts_a_killed_browser():
    import signal

    env = gym.make(env_id("click-test"))
    try:
        first, _ = env.reset(seed=1)
        old = env.unwrapped._page.browser
        # A chromedriver crash: the driver this env started dies, its browser stays.
        os.kill(old.driver.service.process.pid, signal.SIGKILL)
        assert old.leftover_pids()
        again, _ = env.reset(seed=1)
        assert again == first
        assert env.unwrapped._page.browser is not old
        assert old.leftover_pids() == []  # the old browser did not outlive its env
    finally:
        env.close()
