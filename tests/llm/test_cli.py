"""``agentgym llm check`` against the scripted server, in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from agentgym.testing.openai_server import Fault, ScriptedOpenAIServer


def agentgym(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agentgym", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_llm_check_prints_model_latency_and_tokens():
    with ScriptedOpenAIServer([Fault.status(503), "ready"]) as srv:
        out = agentgym("llm", "check", "--llm", f"openai:scripted-model@{srv.base_url}")
        assert out.returncode == 0, out.stdout + out.stderr
        for word in (
            "scripted-model",
            "latency_s",
            "prompt_tokens",
            "completion_tokens",
            "'ready'",
        ):
            assert word in out.stdout
        assert len(srv.requests) == 2  # the 503 was retried
        assert srv.requests[-1]["max_tokens"] == 16 and srv.requests[-1]["temperature"] == 0.0


def test_llm_check_json_and_default_spec_from_environment():
    with ScriptedOpenAIServer(["ready"]) as srv:
        out = agentgym(
            "llm", "check", "--json", env={"AGENTGYM_LLM": f"openai:scripted-model@{srv.base_url}"}
        )
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert data["model"] == "scripted-model" and data["reply"] == "ready"
        assert (
            data["prompt_tokens"] == 6 and data["completion_tokens"] == 1 and data["latency_s"] > 0
        )


def test_llm_check_names_a_bad_key_and_an_unknown_model():
    with ScriptedOpenAIServer(["never"], api_key="sk-right") as srv:
        out = agentgym(
            "llm",
            "check",
            "--llm",
            f"openai:scripted-model@{srv.base_url}",
            env={"OPENAI_API_KEY": "sk-wrong"},
        )
        assert out.returncode == 1 and "bad API key" in out.stdout and len(srv.requests) == 1
        out = agentgym(
            "llm",
            "check",
            "--llm",
            f"openai:gpt-4-nope@{srv.base_url}",
            env={"OPENAI_API_KEY": "sk-right"},
        )
        assert out.returncode == 1 and "unknown model" in out.stdout and "gpt-4-nope" in out.stdout


def test_llm_check_names_an_unknown_backend():
    out = agentgym("llm", "check", "--llm", "opnai:qwen")
    assert out.returncode == 1 and "Did you mean 'openai'" in out.stdout
    out = agentgym("llm", "check", "--llm", "olama:qwen2.5-coder:1.5b")
    assert out.returncode == 1
    assert "openai:qwen2.5-coder:1.5b@http://127.0.0.1:11434/v1" in out.stdout.replace("\n", "")
