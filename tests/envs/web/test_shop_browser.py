"""The shop in Chromium: same observations as the text mode, expert, invalid clicks, closing."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest

pytestmark = pytest.mark.browser


def expert_episode(env, seed: int) -> tuple[list[str], dict]:
    obs, _ = env.reset(seed=seed)
    seen = [obs]
    for _ in range(60):
        obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        seen.append(obs)
        if terminated or truncated:
            break
    return seen, info


def test_browser_mode_sees_what_text_mode_sees():
    text_env, browser_env = gym.make("agentgym/Shop-v0"), gym.make("agentgym/Shop-Browser-v0")
    try:
        for seed in (0, 1):
            text_obs, text_info = expert_episode(text_env, seed)
            browser_obs, browser_info = expert_episode(browser_env, seed)
            assert browser_obs == text_obs
            assert browser_info["success"] and browser_info["purchase"] == text_info["purchase"]
    finally:
        text_env.close()
        browser_env.close()


def test_expert_short():
    env = gym.make("agentgym/Shop-Browser-v0")
    try:
        rate = np.mean([expert_episode(env, seed)[1]["success"] for seed in range(10)])
    finally:
        env.close()
    assert rate >= 0.9


@pytest.mark.slow
def test_expert_100_episodes():
    env = gym.make("agentgym/Shop-Browser-v0")
    try:
        rate = np.mean([expert_episode(env, seed)[1]["success"] for seed in range(100)])
    finally:
        env.close()
    assert rate >= 0.95


def test_invalid_click_keeps_the_browser_page_and_close_quits_chromium():
    env = gym.make("agentgym/Shop-Browser-v0")
    env.reset(seed=0)
    browser = env.unwrapped._nav.browser
    pids, profile = browser.pids, browser.profile_dir
    obs, _, _, _, info = env.step("click[p00001x]")
    assert not info["action_valid"] and "Unknown clickable" in obs
    obs, _, _, _, info = env.step("search[wool socks]")
    assert info["action_valid"] and info["reward_state"]["page"] == "results"
    assert "wool socks" in browser.driver.current_url.replace("+", " ")
    env.close()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                assert f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            pass
    assert not os.path.exists(profile)
    assert browser.leftover_pids() == []


def test_reset_restarts_a_killed_browser():
    import signal

    env = gym.make("agentgym/Shop-Browser-v0")
    try:
        first, _ = env.reset(seed=4)
        old = env.unwrapped._nav.browser
        # A chromedriver crash: the driver this env started dies, its browser stays.
        os.kill(old.driver.service.process.pid, signal.SIGKILL)
        assert old.leftover_pids()
        again, _ = env.reset(seed=4)
        assert again == first and env.unwrapped._nav.browser is not old
        assert old.leftover_pids() == []  # the old browser did not outlive its env
    finally:
        env.close()
