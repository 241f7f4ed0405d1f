"""Each AgentGym family's wire format, played through a client written from AgentGym's
documented protocol (agentgym_style_client.py): BabyAI, ALFWorld (the household world),
WebShop (the shop) and the tool servers (the Tools tasks)."""

from __future__ import annotations

import urllib.error

import gymnasium as gym
import pytest

from agentgym.server import make_server
from tests.server.agentgym_style_client import (
    AgentGymStyleClient,
    babyai_action,
    babyai_available,
)


@pytest.fixture
def serve():
    servers = []

    def start(env_id: str, **kwargs):
        srv = make_server(env_id, **kwargs)
        srv.start_in_thread()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_babyai_observations_carry_the_actions_and_macro_commands_work(serve):
    srv = serve("agentgym/BabyAI-GoToLocal-v0")
    assert srv.families == ["babyai"]
    client = AgentGymStyleClient(srv.url + "/babyai", "id")
    first = client.post("/reset", {"data_idx": 0})
    assert set(first) == {"observation", "reward", "score", "deleted", "done"}
    assert first["observation"].startswith("Your goal: go to the green ball\n")
    actions = babyai_available(first["observation"])
    assert actions[:3] == ["turn left", "turn right", "move forward"]
    assert actions[-1] == "check available actions" and "go to green ball 1" in actions

    check = client.post(
        "/step", {"action": babyai_action("Thought: list them\nAction: check available actions")}
    )
    assert "You can take the following actions: turn left, turn right" in check["observation"]
    unknown = client.post("/step", {"action": "fly to the moon"})
    assert "The action is not recognized" in unknown["observation"] and unknown["done"] is False

    # The prompt's spelling "pick up <obj> <id>" for the server's "pickup <obj> <id>".
    target = next(a for a in actions if a.startswith("pickup ") and "green ball" not in a)
    thing = target.removeprefix("pickup ").rsplit(" ", 1)[0]
    picked = client.post("/step", {"action": babyai_action(f"Action: pick up {target[7:]}.")})
    assert f"You carry a {thing}." in picked["observation"] and picked["done"] is False
    assert "drop" in babyai_available(picked["observation"])

    again = client.post("/reset", {"data_idx": 0})
    assert again["observation"] == first["observation"]  # data_idx is the seed
    done = client.post("/step", {"action": "go to green ball 1"})
    assert done["done"] is True and 0 < done["reward"] == done["score"] <= 1
    assert client.get("/observation")["done"] is True
    assert client.post("/close", {}) is True


def test_babyai_toggle_and_go_through_a_closed_door(serve):
    srv = serve("agentgym/BabyAI-Open-v0")
    client = AgentGymStyleClient(srv.url + "/babyai", "id")
    actions = babyai_available(client.post("/reset", {"data_idx": 0})["observation"])
    door = next(a for a in actions if a.startswith("toggle and go through ") and "closed door" in a)
    before = client.get("/observation")["observation"]
    out = client.post("/step", {"action": door})
    # toggled open and stepped into the doorway: walls on both sides, the door gone from view
    assert "You go forward." in out["observation"] and out["done"] is False
    assert "Walls: 1 step left, 1 step right." in out["observation"]
    assert door not in babyai_available(out["observation"]) and door in before


def test_alfworld_game_index_gives_the_same_task_and_a_recorded_plan_replays(serve):
    srv = serve("agentgym/Household-v0")
    assert srv.families == ["alfworld"]
    local = gym.make("agentgym/Household-v0")
    local.reset(seed=3)
    plan = []
    while True:  # the expert's plan of game 3, recorded locally
        action = local.unwrapped.expert_action()
        plan.append(action)
        *_, terminated, truncated, _ = local.step(action)
        if terminated or truncated:
            break

    first, second = (AgentGymStyleClient(srv.url + "/alfworld", "id") for _ in range(2))
    a = first.post("/reset", {"game": 3, "world_type": "Text"})
    b = second.post("/reset", {"game": 3, "world_type": "Text"})
    assert a["observation"] == b["observation"] and a["task_type"] == b["task_type"]
    assert set(a) == {"id", "observation", "available_actions", "task_type"}
    assert "Your task is to: " in a["observation"] and "look" in a["available_actions"]
    other = first.post("/reset", {"game": 4, "world_type": "Text"})
    assert other["observation"] != a["observation"]

    first.post("/reset", {"game": 3, "world_type": "Text"})
    for action in plan:
        out = first.post("/step", {"action": action})
        assert set(out) == {"observation", "reward", "available_actions", "done"}
    assert out["done"] is True and out["reward"] == 1.0
    assert first.get("/observation") == out["observation"]
    detail = first.get("/detail")
    assert detail["game"] == 3 and detail["world_type"] == "Text" and detail["done"] is True


def test_alfworld_refuses_a_world_type_it_does_not_have(serve):
    srv = serve("agentgym/Household-v0")
    client = AgentGymStyleClient(srv.url + "/alfworld", "id")
    with pytest.raises(urllib.error.HTTPError) as err:
        client.post("/reset", {"game": 0, "world_type": "Embody"})
    assert err.value.code == 400 and "world_type" in err.value.read().decode()


def test_webshop_answers_in_webshop_shapes_and_a_purchase_scores(serve):
    srv = serve("agentgym/Shop-v0", max_instances=2)
    assert srv.families == ["webshop"]
    client = AgentGymStyleClient(srv.url + "/webshop", "env_idx")
    assert client.env_id in client._send("GET", "/list_envs")
    obs, none = client.post("/reset", {"session_id": 0})
    assert none is None
    assert obs.startswith("WebShop [SEP] Instruction: [SEP] I am looking for ") and obs.endswith(
        " [SEP] Search"
    )
    assert client.get("/observation") == obs
    assert client.get("/available_actions") == {"has_search_bar": True, "clickables": []}
    instruction = client.get("/instruction_text")
    assert instruction.startswith("Instruction: I am looking for ")

    local = gym.make("agentgym/Shop-v0")
    local.reset(seed=0)
    try:
        while True:
            action = local.unwrapped.expert_action()
            _, reward, terminated, truncated, _ = local.step(action)
            out = client.post("/step", {"action": action})
            assert set(out) == {"state", "reward", "done", "info"} and out["info"] is None
            assert out["reward"] == reward
            if not (terminated or truncated):
                assert out["done"] is False
                if local.unwrapped.page.kind == "results":
                    clickables = client.get("/available_actions")["clickables"]
                    assert "back to search" in clickables and out["state"].startswith(
                        "Instruction: [SEP]"
                    )
                continue
            break
    finally:
        local.close()
    assert out["done"] is True and out["reward"] > 0
    state = client.get("/state")
    assert state["instruction_text"] == instruction
    assert state["url"].startswith("http://127.0.0.1:") and "<html" in state["html"].lower()
    client.post("/close", {})


def test_tool_servers_shape_for_the_tools_tasks(serve):
    srv = serve("agentgym/Tools-Calculator-v0")
    assert srv.families == ["tool"]
    client = AgentGymStyleClient(srv.url + "/tool", "env_idx", create_body={"id": 5})
    local = gym.make("agentgym/Tools-Calculator-v0")
    expected, _ = local.reset(seed=5)
    assert client.get("/observation") == expected
    assert client.post("/reset", {"id": 5}) == expected
    while True:
        action = local.unwrapped.expert_action()
        obs, reward, terminated, truncated, _ = local.step(action)
        out = client.post("/step", {"action": action})
        assert out == {"observation": obs, "reward": reward, "done": terminated or truncated}
        if out["done"]:
            break
    local.close()
    assert out["reward"] > 0


@pytest.mark.browser
def test_webarena_shape_for_miniwob_runs_the_fenced_command(serve):
    srv = serve("agentgym/MiniWoB-click-button-v0")
    assert srv.families == ["webarena"]
    client = AgentGymStyleClient(srv.url + "/webarena", "env_idx")
    local = gym.make("agentgym/MiniWoB-click-button-v0")
    try:
        expected, _ = local.reset(seed=4)
        first = client.post("/reset", {"seed": 0, "idx": 4})
        assert first["observation"] == expected and first["sites"] == []
        assert first["object"] == local.unwrapped.mission
        action = local.unwrapped.expert_action()
        obs, reward, terminated, truncated, _ = local.step(action)
    finally:
        local.close()
    out = client.post("/step", {"action": f"The button is there.\n```{action}```"})
    assert set(out) == {"observation", "reward", "terminated", "truncated", "info"}
    assert (out["observation"], out["reward"], out["terminated"]) == (obs, reward, terminated)
    assert out["terminated"] and out["reward"] > 0
    assert client.post("/close", {}) == {"closed": "closed"}


def test_the_generic_format_stays_at_the_root_and_protocol_moves_it(serve):
    srv = serve("agentgym/Household-v0")
    generic = AgentGymStyleClient(srv.url, "id")
    assert "available_actions" in generic.post("/reset", {"seed": 3})
    rooted = serve("agentgym/Household-v0", protocol="alfworld")
    client = AgentGymStyleClient(rooted.url, "id")  # AgentGym's address, no prefix
    assert set(client.post("/reset", {"game": 3, "world_type": "Text"})) == {
        "id",
        "observation",
        "available_actions",
        "task_type",
    }
    assert "env_idx" in AgentGymStyleClient(rooted.url + "/generic", "id").post(
        "/reset", {"seed": 1}
    )


def test_a_protocol_of_another_family_is_refused_by_name():
    with pytest.raises(ValueError, match="--protocol 'webshop' cannot serve agentgym/Household-v0"):
        make_server("agentgym/Household-v0", protocol="webshop")
    with pytest.raises(ValueError, match="--protocol must be one of"):
        make_server("agentgym/Household-v0", protocol="alfwrld")
