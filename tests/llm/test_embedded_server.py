"""Opt-in (``-m llm``): the embedded model served for real (``agentgym llm serve``'s
server) answers the agentgym client, reports each reply, and stops cleanly. Needs the
model pulled (``agentgym llm pull``); the server's runtime is installed from PyPI once."""

from __future__ import annotations

import socket

import pytest

from agentgym.llm import make_client
from agentgym.llm.embedded import DEFAULT_MODEL, EmbeddedServer, ensure_runtime, is_pulled

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def runtime():
    if not is_pulled():
        pytest.skip(f"{DEFAULT_MODEL.name} is not pulled: run `agentgym llm pull`")
    return ensure_runtime()


def test_the_embedded_server_answers_reports_and_stops(runtime, tmp_path):
    replies: list[tuple[int, float, int]] = []
    server = EmbeddedServer(
        DEFAULT_MODEL.path(),
        python=runtime,
        log_path=tmp_path / "server.log",
        on_reply=lambda *reply: replies.append(reply),
    )
    with server:
        assert server.spec.startswith(
            f"openai:{DEFAULT_MODEL.name}@http://127.0.0.1:{server.port}/v1;"
        )
        client = make_client(server.spec, cache=None)
        [reply] = client.chat(
            [{"role": "user", "content": "Reply with the single word: ready."}],
            temperature=0.0,
            max_tokens=8,
        )
        assert "ready" in reply.text.lower()
        assert reply.completion_tokens and reply.completion_tokens <= 8
        # A structured-output request is refused once and then asked as free text.
        [sketch] = client.chat(
            [{"role": "user", "content": 'Answer with the JSON {"ok": true} only.'}],
            temperature=0.0,
            max_tokens=16,
            response_format={"type": "json_object"},
        )
        assert "ok" in sketch.text and client.structured_output is False
        port = server.port
    assert server.process is None
    assert [r[0] for r in replies] == [reply.completion_tokens, sketch.completion_tokens]
    assert all(seconds > 0 and prompt > 0 for _, seconds, prompt in replies)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_port_in_use_is_an_error_with_the_servers_log(runtime, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = EmbeddedServer(
            DEFAULT_MODEL.path(),
            python=runtime,
            port=taken.getsockname()[1],
            log_path=tmp_path / "server.log",
        )
        with pytest.raises(RuntimeError, match="the LLM server exited"):
            server.start()
    assert server.process is None
