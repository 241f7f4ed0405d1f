"""The env server over real HTTP on 127.0.0.1: AgentGym's endpoints, several instances
stepped concurrently from threads, clean JSON errors, and `agentgym serve` as a process."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import gymnasium as gym
import pytest

from agentgym.server import EnvClient, EnvServerError, make_server
from agentgym.server.client import request

HOUSEHOLD = "agentgym/Household-v0"


@pytest.fixture
def server():
    srv = make_server(HOUSEHOLD, max_instances=4)
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


def raw(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, object]:
    """A request with a hand-made body, so malformed bodies reach the server as sent."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def play_to_the_end(client: EnvClient, local: gym.Env, seed: int) -> tuple[dict, dict]:
    """The expert's commands on ``local`` and on the served env, answers compared at every
    step: (the reset's answer, the last step's)."""
    first = client.reset(seed=seed)
    local.reset(seed=seed)
    while True:
        action = local.unwrapped.expert_action()
        obs, reward, terminated, truncated, info = local.step(action)
        out = client.step(action)
        assert out["observation"] == obs
        assert out["reward"] == reward
        assert out["info"]["action_valid"] == info["action_valid"]
        assert out["info"]["reward_state"]["steps_taken"] == info["reward_state"]["steps_taken"]
        assert out["done"] == (terminated or truncated)
        if out["done"]:
            return first, out


def test_reset_and_step_follow_the_local_env(server):
    client = EnvClient(server.url)
    local = gym.make(HOUSEHOLD)
    obs, info = local.reset(seed=7)
    first, last = play_to_the_end(client, local, seed=7)
    assert first["observation"] == obs
    assert first["available_actions"] == info["admissible_actions"]
    assert first["done"] is False and first["reward"] == 0.0
    assert last["info"]["success"] is True and last["score"] == 1.0
    client.close()


def test_observation_and_detail_show_the_finished_episode(server):
    client = EnvClient(server.url)
    _, last = play_to_the_end(client, gym.make(HOUSEHOLD), seed=7)
    assert client.observation() == last["observation"]
    assert client.detail()["done"] is True
    client.close()


def test_a_finished_episode_refuses_steps_until_the_next_reset(server):
    client = EnvClient(server.url)
    play_to_the_end(client, gym.make(HOUSEHOLD), seed=7)
    with pytest.raises(EnvServerError) as err:  # AgentGym refuses steps after the end too
        client.step("look")
    assert err.value.status == 409 and "call /reset" in err.value.message
    again = client.reset(seed=8)
    assert again["done"] is False
    client.close()


def test_two_instances_step_concurrently_without_interference(server):
    """Two threads each play a different seed through their own instance; both must see
    exactly what a local env with that seed produces."""
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def play(seed: int) -> None:
        try:
            client = EnvClient(server.url)
            client.create()
            barrier.wait(timeout=30)  # both instances exist before either steps
            local = gym.make(HOUSEHOLD)
            local.reset(seed=seed)
            client.reset(seed=seed)
            seen = []
            done = False
            while not done:
                action = local.unwrapped.expert_action()
                obs, _, terminated, truncated, _ = local.step(action)
                out = client.step(action)
                assert out["observation"] == obs, (seed, action)
                seen.append(out["observation"])
                done = terminated or truncated
            assert out["info"]["success"]
            results[seed] = seen
        except BaseException as err:  # surfaced in the main thread below
            errors.append(err)

    threads = [threading.Thread(target=play, args=(seed,)) for seed in (3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert set(results) == {3, 4} and results[3] != results[4]
    assert server.pool.ids() == [0, 1]


def test_agentgym_field_names_env_idx_and_data_idx(server):
    created = request(server.url, "POST", "/create")
    assert created["id"] == created["env_idx"]
    idx = created["env_idx"]
    by_data_idx = request(server.url, "POST", "/reset", {"env_idx": idx, "data_idx": 5})
    by_seed = EnvClient(server.url)
    assert by_data_idx["observation"] == by_seed.reset(seed=5)["observation"]
    assert (
        request(server.url, "GET", "/observation", query={"env_idx": idx})
        == by_data_idx["observation"]
    )
    actions = request(server.url, "GET", "/available_actions", query={"id": idx})
    assert actions == by_data_idx["available_actions"] and "look" in actions
    assert request(server.url, "POST", "/close", {"env_idx": idx}) == {
        "id": idx,
        "env_idx": idx,
        "closed": True,
    }


def test_unknown_instance_ids_get_404_with_a_message(server):
    client = EnvClient(server.url)
    client.create()
    for method, path, body in [
        ("POST", "/step", b'{"id": 42, "action": "look"}'),
        ("POST", "/reset", b'{"id": 42}'),
        ("POST", "/close", b'{"id": 42}'),
        ("GET", "/observation?id=42", None),
    ]:
        status, payload = raw(server.url, method, path, body)
        assert status == 404, path
        assert payload == {"error": "unknown env instance id 42; live ids: [0]"}
    client.close()
    status, payload = raw(server.url, "POST", "/step", b'{"id": 0, "action": "look"}')
    assert status == 404 and "live ids: []" in payload["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"action": "look"}', "names no instance"),
        (b'{"id": "zero", "action": "look"}', "'id' must be an integer"),
        (b'{"id": 0}', "no 'action'"),
    ],
)
def test_malformed_bodies_get_400(server, body, message):
    EnvClient(server.url).reset(seed=0)
    status, payload = raw(server.url, "POST", "/step", body)
    assert status == 400
    assert message in payload["error"]


def test_malformed_actions_are_env_answers_not_http_errors(server):
    client = EnvClient(server.url)
    client.reset(seed=0)
    for action in (None, 5, ["go", "to"], {"x": 1}):
        out = client.step(action)
        assert out["info"]["action_valid"] is False
        assert "Malformed action" in out["observation"]
    out = client.step("dance wildly")
    assert out["observation"] == "Nothing happens." and out["info"]["action_valid"] is False


def test_a_step_before_the_first_reset_is_refused(server):
    client = EnvClient(server.url)
    client.create()
    with pytest.raises(EnvServerError) as err:
        client.step("look")
    assert err.value.status == 409 and "has not been reset" in err.value.message


def test_an_unknown_path_gets_404_and_the_closest_endpoint(server):
    status, payload = raw(server.url, "POST", "/stepp", b"{}")
    assert status == 404 and "Did you mean 'POST /step'" in payload["error"]


def test_a_full_pool_refuses_new_instances_and_never_reuses_ids(server):
    for _ in range(4):
        EnvClient(server.url).create()
    with pytest.raises(EnvServerError) as err:  # max_instances=4
        EnvClient(server.url).create()
    assert err.value.status == 503
    request(server.url, "POST", "/close", {"id": 0})
    assert EnvClient(server.url).create() == 4  # ids are never reused


def test_info_describes_the_env(server):
    info = request(server.url, "GET", "/info")
    assert info["id"] == HOUSEHOLD
    assert info["task_spec"]["family"] == "text"
    assert "mission" in [v["name"] for v in info["task_spec"]["state"]]
    assert "Text" in info["action_space"]


@pytest.fixture(scope="module")
def reach_server():
    srv = make_server("agentgym/Reach-v0")
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_a_continuous_env_takes_json_vectors(reach_server):
    client = EnvClient(reach_server.url)
    first = client.reset(seed=0)
    assert len(first["observation"]) == 10
    out = client.step([0.5, -0.5])
    assert len(out["observation"]) == 10 and isinstance(out["reward"], float)


def test_a_vector_of_the_wrong_shape_gets_400_naming_it(reach_server):
    client = EnvClient(reach_server.url)
    client.reset(seed=0)
    with pytest.raises(EnvServerError) as err:
        client.step([1.0, 2.0, 3.0])
    assert err.value.status == 400 and "shape [3]" in err.value.message


def test_serve_command_runs_a_server_process(tmp_path: Path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgym", "serve", "agentgym/BabyAI-GoToLocal-v0", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if "serving" in line:
                url = line.split(" on ")[1].split()[0]
        assert url, "the server never announced its URL"
        with urllib.request.urlopen(url + "/", timeout=30) as response:
            assert "BabyAI-GoToLocal" in json.loads(response.read())
        client = EnvClient(url)
        first = client.reset(seed=1)
        assert first["observation"].startswith("Mission: ")  # the text view of the Dict observation
        out = client.step("turn left")
        assert out["info"]["action_valid"] is True and "You turn left." in out["observation"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode is not None


def test_serve_command_rejects_unknown_env_ids(agentgym_cli):
    proc = agentgym_cli("serve", "agentgym/Houshold-v0", "--port", "0", timeout=120)
    assert proc.returncode == 2
    assert "Household" in proc.stderr  # Gymnasium's did-you-mean
