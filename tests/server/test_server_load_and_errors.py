"""The server under load (200 simultaneous connections to one instance, all answered and
correct) and its answers to bad requests: negative seeds, chunked bodies, methods it does
not serve, an impossible --port."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import gymnasium as gym
import pytest

from agentgym.server import EnvClient, EnvPool, EnvServer

HOUSEHOLD = "agentgym/Household-v0"
CLIENTS = 200
CONNECT_TIMEOUT = 10.0


@pytest.fixture
def server():
    # A time limit above the 200 steps of the load test, so every step is a real one.
    srv = EnvServer(EnvPool(HOUSEHOLD, max_instances=4, max_episode_steps=1000))
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


def send(url: str, method: str, path: str, body: bytes | None = None, headers=None, chunked=False):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        res = conn.getresponse()
        return res.status, json.loads(res.read()), dict(res.getheaders())
    finally:
        conn.close()


def test_200_simultaneous_steps_to_one_instance_are_all_answered(server):
    client = EnvClient(server.url)
    client.reset(seed=3)
    local = gym.make(HOUSEHOLD)
    local.reset(seed=3)
    look, *_ = local.step("look")
    host, port = server.url.removeprefix("http://").split(":")
    start = threading.Barrier(CLIENTS)
    answers: list[tuple[int, dict] | BaseException] = [None] * CLIENTS  # type: ignore[list-item]
    body = json.dumps({"id": client.id, "action": "look"}).encode()
    request = (
        f"POST /step HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body

    def one(i: int) -> None:
        try:
            start.wait(timeout=60)  # all 200 connect at once
            # A connection the listen queue drops waits 1, 3, 7, 15 s for SYN retries
            # (with socketserver's backlog of 5 this took 34 s); 10 s is ample otherwise.
            with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT) as sock:
                sock.settimeout(120)
                sock.sendall(request)
                res = http.client.HTTPResponse(sock)
                res.begin()
                answers[i] = (res.status, json.loads(res.read()))
        except BaseException as err:  # reported below, with its index
            answers[i] = err

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    failed = [(i, a) for i, a in enumerate(answers) if not isinstance(a, tuple) or a[0] != 200]
    assert not failed, f"{len(failed)} of {CLIENTS} failed, e.g. {failed[:3]}"
    assert all(a[1]["observation"] == look for a in answers)  # type: ignore[index]
    steps = sorted(a[1]["info"]["reward_state"]["steps_taken"] for a in answers)  # type: ignore[index]
    assert steps == list(range(1, CLIENTS + 1))  # one after the other, none lost or doubled
    assert client.detail()["steps"] == CLIENTS


@pytest.mark.parametrize("field", ["seed", "data_idx"])
def test_a_negative_seed_is_a_400_naming_the_field(server, field):
    client = EnvClient(server.url)
    client.create()
    status, payload, _ = send(
        server.url, "POST", "/reset", json.dumps({"id": client.id, field: -1}).encode()
    )
    assert status == 400
    assert payload == {"error": f"'{field}' must be a non-negative integer, got -1"}


def test_a_chunked_body_is_read(server):
    client = EnvClient(server.url)
    client.reset(seed=3)
    parts = iter([b'{"id": ', str(client.id).encode(), b', "action": "look"}'])
    status, payload, _ = send(
        server.url, "POST", "/step", parts, {"Transfer-Encoding": "chunked"}, chunked=True
    )
    assert status == 200 and payload["info"]["action_valid"] is True
    assert payload["info"]["reward_state"]["steps_taken"] == 1


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"zz\r\n{}\r\n0\r\n\r\n", "chunk size line"),
        (b"2\r\n{}XX0\r\n\r\n", "does not end with CRLF"),
    ],
)
def test_a_malformed_chunked_body_is_a_400(server, raw, message):
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + raw
        )
        res = http.client.HTTPResponse(sock)
        res.begin()
        assert res.status == 400 and message in json.loads(res.read())["error"]


def test_an_unsupported_transfer_encoding_is_a_400_naming_it(server):
    status, payload, _ = send(server.url, "POST", "/create", b"x", {"Transfer-Encoding": "gzip"})
    assert status == 400 and "Transfer-Encoding 'gzip'" in payload["error"]


def test_other_methods_get_json_405_or_404(server):
    status, payload, headers = send(server.url, "DELETE", "/step")
    assert status == 405 and headers["Allow"] == "POST"
    assert payload == {"error": "/step answers POST, not DELETE"}
    status, payload, _ = send(server.url, "PUT", "/babyai/step")  # no BabyAI on this server
    assert status == 404 and "no endpoint PUT /babyai/step" in payload["error"]
    status, payload, headers = send(server.url, "DELETE", "/alfworld/create")
    assert status == 405 and headers["Allow"] == "POST"


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_serve_refuses_an_impossible_port_naming_the_range(agentgym_cli, port):
    proc = agentgym_cli("serve", HOUSEHOLD, "--port", port, timeout=120)
    assert proc.returncode == 2
    assert "--port" in proc.stderr and "0..65535" in proc.stderr
    assert "Traceback" not in proc.stderr
