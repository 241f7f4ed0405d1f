"""``agentgym llm check`` against the scripted server, in a real subprocess."""

from __future__ import annotations

import json
import subprocess

import pytest

from agentgym.testing.openai_server import Fault, ScriptedOpenAIServer


@pytest.fixture(scope="module")
def checked(agentgym_cli) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """``agentgym llm check`` of a server that first answers 503: (the process, the
    requests the server saw)."""
    with ScriptedOpenAIServer([Fault.status(503), "ready"]) as srv:
        out = agentgym_cli(
            "llm", "check", "--llm", f"openai:scripted-model@{srv.base_url}", timeout=300
        )
        return out, list(srv.requests)


def test_llm_check_prints_model_latency_and_tokens(checked):
    out, _ = checked
    assert out.returncode == 0, out.stdout + out.stderr
    for word in (
        "scripted-model",
        "latency_s",
        "prompt_tokens",
        "completion_tokens",
        "'ready'",
    ):
        assert word in out.stdout


def test_llm_check_retries_a_transient_error(checked):
    _, requests = checked
    assert len(requests) == 2  # the 503 was retried


def test_llm_check_asks_for_a_short_greedy_reply(checked):
    _, requests = checked
    assert requests[-1]["max_tokens"] == 16 and requests[-1]["temperature"] == 0.0


@pytest.fixture(scope="module")
def checked_as_json(agentgym_cli) -> subprocess.CompletedProcess:
    """``agentgym llm check --json`` with the spec in AGENTGYM_LLM only."""
    with ScriptedOpenAIServer(["ready"]) as srv:
        return agentgym_cli(
            "llm",
            "check",
            "--json",
            env={"AGENTGYM_LLM": f"openai:scripted-model@{srv.base_url}"},
            timeout=300,
        )


def test_llm_check_takes_its_default_spec_from_the_environment(checked_as_json):
    assert checked_as_json.returncode == 0, checked_as_json.stderr
    assert json.loads(checked_as_json.stdout)["model"] == "scripted-model"


def test_llm_check_json_has_the_reply_tokens_and_latency(checked_as_json):
    data = json.loads(checked_as_json.stdout)
    assert data["reply"] == "ready"
    assert data["prompt_tokens"] == 6 and data["completion_tokens"] == 1 and data["latency_s"] > 0


def test_llm_check_names_a_bad_key(agentgym_cli):
    with ScriptedOpenAIServer(["never"], api_key="sk-right") as srv:
        out = agentgym_cli(
            "llm",
            "check",
            "--llm",
            f"openai:scripted-model@{srv.base_url}",
            env={"OPENAI_API_KEY": "sk-wrong"},
            timeout=300,
        )
        assert out.returncode == 1 and "bad API key" in out.stdout and len(srv.requests) == 1


def test_llm_check_names_an_unknown_model(agentgym_cli):
    with ScriptedOpenAIServer(["never"], api_key="sk-right") as srv:
        out = agentgym_cli(
            "llm",
            "check",
            "--llm",
            f"openai:gpt-4-nope@{srv.base_url}",
            env={"OPENAI_API_KEY": "sk-right"},
            timeout=300,
        )
        assert out.returncode == 1 and "unknown model" in out.stdout and "gpt-4-nope" in out.stdout


def test_llm_check_suggests_the_closest_backend(agentgym_cli):
    out = agentgym_cli("llm", "check", "--llm", "opnai:qwen", timeout=300)
    assert out.returncode == 1 and "Did you mean 'openai'" in out.stdout


def test_llm_check_points_ollama_to_its_openai_endpoint(agentgym_cli):
    out = agentgym_cli("llm", "check", "--llm", "olama:qwen2.5-coder:1.5b", timeout=300)
    assert out.returncode == 1
    assert "openai:qwen2.5-coder:1.5b@http://127.0.0.1:11434/v1" in out.stdout.replace("\n", "")


def _refused_url() -> str:
    """A loopback URL where nothing listens (a port just freed by the OS)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_llm_check_json_prints_json_on_failure(capsys, monkeypatch):
    from agentgym.cli import main

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["llm", "check", "--json", "--llm", "opnai:qwen"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["spec"] == "opnai:qwen"
    assert "Did you mean 'openai'" in data["message"] and data["error"] == "LLMSpecError"


def test_a_refused_loopback_port_fails_at_once_naming_the_url(capsys):
    import time

    from agentgym.cli import main

    url = _refused_url()
    start = time.perf_counter()
    assert main(["llm", "check", "--json", "--attempts", "8", "--llm", f"openai:m@{url}"]) == 1
    elapsed = time.perf_counter() - start
    data = json.loads(capsys.readouterr().out)
    # 8 attempts with backoff used to take ~45 s; a refusal on loopback is not transient
    assert elapsed < 10, elapsed
    assert data["cause"] == "refused" and url in data["message"]
    assert "connection refused" in data["message"]
