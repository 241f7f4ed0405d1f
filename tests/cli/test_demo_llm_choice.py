"""Which LLM ``agentgym demo`` uses: ``--llm``, then AGENTGYM_LLM, then OPENAI_BASE_URL
(a scripted loopback server here), and only with none of them the embedded model;
``--designer library`` uses none."""

from __future__ import annotations

import pytest

from agentgym.commands.demo import demo_llm
from agentgym.testing.openai_server import ScriptedOpenAIServer

LLM_VARS = ("AGENTGYM_LLM", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")


@pytest.fixture
def no_llm_env(monkeypatch):
    for var in LLM_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_with_nothing_configured_the_embedded_model_is_served(no_llm_env):
    assert demo_llm(None, "structured") == (None, "embedded")


def test_openai_base_url_wins_over_the_embedded_model(no_llm_env):
    with ScriptedOpenAIServer(models=("served-coder",)) as server:
        no_llm_env.setenv("OPENAI_BASE_URL", server.base_url)
        spec, where = demo_llm(None, "structured")
    assert (spec, where) == (f"openai:served-coder@{server.base_url}", "OPENAI_BASE_URL")


def test_agentgym_llm_wins_over_openai_base_url(no_llm_env):
    with ScriptedOpenAIServer(models=("served-coder",)) as server:
        no_llm_env.setenv("OPENAI_BASE_URL", server.base_url)
        no_llm_env.setenv("AGENTGYM_LLM", "openai:other@http://127.0.0.1:9/v1")
        assert demo_llm(None, "structured") == (
            "openai:other@http://127.0.0.1:9/v1",
            "AGENTGYM_LLM",
        )
        assert demo_llm("openai:flag@http://127.0.0.1:9/v1", "eureka")[1] == "--llm"
        assert demo_llm(None, "library") == (None, "--designer library")
    assert server.model_list_calls == 0  # AGENTGYM_LLM was read before any server was asked


def test_an_openai_base_url_that_does_not_answer_is_an_error_not_a_switch(no_llm_env):
    with ScriptedOpenAIServer() as server:
        url = server.base_url
    no_llm_env.setenv("OPENAI_BASE_URL", url)  # the server is stopped: nothing listens
    with pytest.raises(ValueError, match="OPENAI_BASE_URL"):
        demo_llm(None, "structured")
