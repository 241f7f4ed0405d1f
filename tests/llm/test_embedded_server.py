"""Opt-in (``-m llm``): the embedded model served for real (``agentgym llm serve``'s
server) answers the agentgym client, reports each reply, and stops cleanly. Needs the
model pulled (``agentgym llm pull``); the server's runtime is installed from PyPI once."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from agentgym.llm import make_client
from agentgym.llm.embedded import DEFAULT_MODEL, EmbeddedServer, ensure_runtime, is_pulled
from agentgym.llm.embedded.runtime import SERVER_SCRIPT
from agentgym.reward_designers.structured.sketch import (
    KINDS,
    MAX_TERMS,
    SKETCH_SCHEMA,
    response_format,
)

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
        # Structured output is honoured through a grammar: the reply is the schema's JSON
        # even where the prompt asks for prose around it.
        [sketch] = client.chat(
            [{"role": "user", "content": "Say hello, then give a reward term as JSON."}],
            temperature=0.0,
            max_tokens=120,
            response_format=response_format(),
        )
        assert client.structured_output is True
        data = json.loads(sketch.text)
        assert set(data) == {"terms"} and 1 <= len(data["terms"]) <= MAX_TERMS
        for term in data["terms"]:
            assert set(term) == set(SKETCH_SCHEMA["properties"]["terms"]["items"]["required"])
            assert term["kind"] in KINDS and term["sign"] in (-1, 1)
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


def test_a_prompt_longer_than_llamas_default_batch_is_answered(runtime, tmp_path):
    """A synthesis follow-up of 3,308 prompt tokens killed the server (llama.cpp's
    GGML_ASSERT n_tokens_all <= n_batch, cyllama's n_batch 2048): n_batch is n_ctx now."""
    server = EmbeddedServer(DEFAULT_MODEL.path(), python=runtime, log_path=tmp_path / "s.log")
    with server:
        client = make_client(server.spec, cache=None)
        filler = " ".join(f"term{i} = {i}" for i in range(700))  # about 3,000 tokens
        [reply] = client.chat(
            [{"role": "user", "content": f"{filler}\nReply with the single word: ready."}],
            temperature=0.0,
            max_tokens=8,
        )
        assert reply.prompt_tokens and reply.prompt_tokens > 2048
        assert server.process is not None and server.process.poll() is None


GRAMMARS = """
import json, sys
from openai_server import BadRequest, grammar_of
out = {"grammars": [], "errors": []}
for request in json.load(sys.stdin):
    try:
        out["grammars"].append(grammar_of(request))
    except BadRequest as err:
        out["errors"].append(str(err))
print(json.dumps(out))
"""


def test_response_formats_become_grammars_or_a_400_naming_the_field(runtime):
    """Run in the server's own environment (cyllama's converter lives there), no model."""
    requests = [
        None,
        {"type": "text"},
        response_format(),
        {"type": "json_object"},
        {"type": "regex"},
        {"type": "json_schema", "json_schema": {}},
    ]
    done = subprocess.run(
        [str(runtime), "-c", GRAMMARS],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        cwd=SERVER_SCRIPT.parent,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    none, text, schema, any_object = out["grammars"]
    assert none is None and text is None
    assert "root ::=" in schema and '\\"tolerance\\"' in schema  # the enum of kinds
    assert "root ::=" in any_object
    assert out["errors"] == [
        "'response_format.type' must be text, json_object or json_schema, got 'regex'",
        "'response_format.json_schema.schema' must be a JSON schema object",
    ]
