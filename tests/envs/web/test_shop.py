"""The shop in text mode: catalogue, real HTTP server, WebShop reward, commands, expert."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import gymnasium as gym
import numpy as np
import pytest

from agentgym.assets import asset_path
from agentgym.envs.web.shop.catalogue import Goal, load_catalogue, reward
from agentgym.envs.web.shop.make_catalogue import make_catalogue
from agentgym.envs.web.shop.page_text import parse_page
from agentgym.envs.web.shop.server import ShopServer


def run_expert(env, seed: int, limit: int = 60) -> dict:
    env.reset(seed=seed)
    for _ in range(limit):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if terminated or truncated:
            break
    return info


def test_shipped_catalogue_is_the_generator_output_and_large_enough():
    path = asset_path("shop", "catalogue.json")
    shipped = json.loads(path.read_text())
    assert shipped["products"] == make_catalogue(shipped["seed"])
    assert len(shipped["products"]) >= 1000
    assert path.stat().st_size < 2_000_000
    product = shipped["products"][0]
    assert {"category", "product_type", "attributes", "options", "price"} <= set(product)


def test_webshop_reward_closed_form():
    cat = load_catalogue()
    p = next(
        p
        for p in cat.products
        if len(p.attributes) >= 2 and len(p.options.get("color", ())) >= 2 and "size" in p.options
    )
    goal = Goal(
        p.product_type,
        p.category,
        p.attributes[:2],
        {"color": p.options["color"][0], "size": p.options["size"][0]},
        p.price + 1,
        p.id,
    )
    exact = {"color": p.options["color"][0], "size": p.options["size"][0]}
    assert reward(goal, p, exact)["reward"] == 1.0
    # One of two options wrong: (2 attributes + 1 option + price) / 5.
    wrong = {**exact, "color": p.options["color"][1]}
    assert reward(goal, p, wrong)["reward"] == pytest.approx(4 / 5)
    # Over budget as well: 3 / 5.
    cheap = Goal(goal.product_type, goal.category, goal.attributes, goal.options, p.price - 1, p.id)
    assert reward(cheap, p, wrong)["reward"] == pytest.approx(3 / 5)
    # Same category, other type: r_type = 0.5.
    other = next(
        q for q in cat.products if q.category == p.category and q.product_type != p.product_type
    )
    parts = reward(goal, other, {})
    assert parts["r_type"] == 0.5
    far = next(q for q in cat.products if q.category != p.category)
    assert reward(goal, far, {})["r_type"] == 0.1


def test_server_serves_search_results_item_and_404():
    cat = load_catalogue()
    goal = cat.sample_goal(np.random.default_rng(0))
    server = ShopServer(cat)
    try:
        url = server.new_session("t1", goal)
        home = parse_page(urllib.request.urlopen(url).read().decode())
        assert home.kind == "search" and home.has_search and goal.instruction in home.text
        query = goal.product_type.replace(" ", "+")
        results = parse_page(
            urllib.request.urlopen(f"{server.base_url}/t1/search?q={query}").read().decode()
        )
        assert results.kind == "results"
        ids = [label for label in results.links if label.startswith("p")]
        assert len(ids) == 10
        assert all(cat.by_id[i.upper()].product_type == goal.product_type for i in ids[:3])
        item = parse_page(
            urllib.request.urlopen(server.base_url + results.links[ids[0]]).read().decode()
        )
        assert item.kind == "item" and "buy now" in item.links and "Features:" in item.text
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{server.base_url}/nosuchsession/")
        assert err.value.code == 404
    finally:
        server.stop()


def test_expert_succeeds_on_100_seeded_episodes():
    env = gym.make("agentgym/Shop-v0")
    try:
        successes = [run_expert(env, seed)["success"] for seed in range(100)]
    finally:
        env.close()
    assert np.mean(successes) >= 0.95


def test_purchase_reward_and_terms():
    env = gym.make("agentgym/Shop-v0")
    try:
        info = run_expert(env, 3)
        assert info["success"] and info["purchase"]["reward"] == 1.0
        assert info["reward_terms"] == {"purchase": 1.0}
        assert info["reward_state"]["purchased"] and info["reward_state"]["page"] == "done"
        # After the purchase every command is refused.
        _, reward, _, _, info = env.step("click[back to search]")
        assert not info["action_valid"] and reward == 0.0
    finally:
        env.close()


def test_a_wrong_purchase_scores_below_one():
    env = gym.make("agentgym/Shop-v0")
    try:
        obs, _ = env.reset(seed=5)
        goal = env.unwrapped.goal
        env.step(f"search[{goal.product_type}]")
        page = env.unwrapped.page
        other = next(
            label
            for label in page.links
            if label.startswith("p") and label.upper() != goal.target_id
        )
        env.step(f"click[{other}]")
        _, reward, terminated, _, info = env.step("click[buy now]")  # no options chosen
        assert terminated and not info["success"]
        assert 0.0 < reward < 1.0 and reward == info["purchase"]["reward"]
    finally:
        env.close()


@pytest.mark.parametrize(
    "action, needle",
    [
        ("buy the shirt", "expected search[query] or click[label]"),
        ("click[p99999]", "Unknown clickable 'p99999'"),
        ("click[]", "Unknown clickable"),
        ("search[]", "needs a query"),
        ("", "empty"),
        (42, "expected a text command"),
    ],
)
def test_invalid_actions_are_answered_not_raised(action, needle):
    env = gym.make("agentgym/Shop-v0")
    try:
        obs0, _ = env.reset(seed=1)
        if action in ("click[p99999]", "click[]"):
            obs0, *_ = env.step("search[shirt]")
        obs, reward, terminated, _, info = env.step(action)
        assert info["action_valid"] is False
        assert needle in obs
        assert reward == 0.0 and not terminated
        assert info["reward_state"]["invalid_actions"] == 1
        # The page did not change: the old page text is still in the observation.
        assert obs0.splitlines()[-1] in obs
    finally:
        env.close()


def test_search_box_only_on_the_search_page():
    env = gym.make("agentgym/Shop-v0")
    try:
        env.reset(seed=2)
        _, _, _, _, info = env.step("search[mug]")
        assert info["action_valid"] and info["reward_state"]["page"] == "results"
        obs, _, _, _, info = env.step("search[lamp]")
        assert not info["action_valid"] and "no search box" in obs
        assert "click[back to search]" in info["admissible_actions"]
    finally:
        env.close()


def test_close_stops_the_server():
    env = gym.make("agentgym/Shop-v0")
    env.reset(seed=0)
    base = env.unwrapped._server.base_url
    urllib.request.urlopen(base + "/e1/").read()
    env.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base + "/e1/", timeout=2)
