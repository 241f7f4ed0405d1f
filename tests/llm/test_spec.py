"""LLM spec strings and the backend registry."""

from __future__ import annotations

import pytest

from agentgym.llm import (
    BACKENDS,
    BackendUnavailableError,
    LLMRequestError,
    LLMSpecError,
    make_backend,
    parse_spec,
)


def test_openai_spec_with_base_url_and_model_with_colon():
    s = parse_spec("openai:qwen2.5-coder:1.5b@http://127.0.0.1:11434/v1")
    assert (s.backend, s.model, s.base_url) == (
        "openai",
        "qwen2.5-coder:1.5b",
        "http://127.0.0.1:11434/v1",
    )
    assert str(s) == "openai:qwen2.5-coder:1.5b@http://127.0.0.1:11434/v1"


def test_plain_openai_vllm_and_hf_specs():
    assert parse_spec("openai:gpt-4o-mini").base_url is None
    v = parse_spec("vllm:Qwen/Qwen2.5-Coder-7B-Instruct;tensor_parallel_size=2")
    assert (v.model, v.options) == ("Qwen/Qwen2.5-Coder-7B-Instruct", {"tensor_parallel_size": "2"})
    h = parse_spec("hf:/models/me@work/smollm2.gguf")  # '@' only splits openai specs
    assert h.model == "/models/me@work/smollm2.gguf" and h.base_url is None


def test_unknown_backend_suggests_the_closest():
    with pytest.raises(LLMSpecError, match="unknown backend 'opneai'. Did you mean 'openai'"):
        parse_spec("opneai:gpt-4o")


def test_the_backends_are_hf_openai_and_vllm():
    assert BACKENDS.names() == ["hf", "openai", "vllm"]


def test_ollama_is_pointed_to_the_openai_backend():
    with pytest.raises(
        LLMSpecError,
        match="ollama speaks the OpenAI API, so use openai:llama3@http://127.0.0.1:11434/v1",
    ):
        parse_spec("ollama:llama3")


@pytest.mark.parametrize(
    "bad, says",
    [
        ("gpt-4o", "BACKEND:MODEL"),
        ("openai:", "model is empty"),
        ("openai:gpt-4o@127.0.0.1:8000", "must start with http"),
        ("openai:gpt-4o;timeout", "KEY=VALUE"),
    ],
)
def test_malformed_specs_name_the_problem(bad, says):
    with pytest.raises(LLMSpecError, match=says):
        parse_spec(bad)


def test_default_spec_from_environment(monkeypatch):
    monkeypatch.setenv("AGENTGYM_LLM", "openai:from-env@http://127.0.0.1:1/v1")
    assert parse_spec(None).model == "from-env"
    monkeypatch.delenv("AGENTGYM_LLM")
    with pytest.raises(LLMSpecError, match="AGENTGYM_LLM"):
        parse_spec(None)


def test_unknown_and_badly_typed_options_are_errors():
    with pytest.raises(LLMSpecError, match="unknown option 'timout'.*Did you mean 'timeout'"):
        make_backend("openai:m@http://127.0.0.1:1/v1;timout=3")
    with pytest.raises(LLMSpecError, match="timeout='soon' must be float"):
        make_backend("openai:m@http://127.0.0.1:1/v1;timeout=soon")


@pytest.fixture
def no_openai_env(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return monkeypatch


def test_a_local_openai_server_takes_any_key(no_openai_env):
    local = make_backend("openai:m@http://127.0.0.1:8011/v1")  # local servers take any key
    assert local.base_url == "http://127.0.0.1:8011/v1" and local.describe()["timeout"] == 120.0


def test_a_remote_openai_model_without_a_key_names_the_variable(no_openai_env):
    with pytest.raises(LLMRequestError, match="no API key.*OPENAI_API_KEY"):
        make_backend("openai:gpt-4o-mini")


def test_openai_base_url_comes_from_the_environment(no_openai_env):
    no_openai_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    assert make_backend("openai:m").base_url == "http://127.0.0.1:9999/v1"


def test_an_unset_api_key_env_is_named(no_openai_env):
    no_openai_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    with pytest.raises(LLMRequestError, match="MY_KEY"):
        make_backend("openai:m;api_key_env=MY_KEY")


def test_describe_never_shows_the_key(no_openai_env):
    no_openai_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    assert "key" not in str(make_backend("openai:m").describe()).lower()


def test_hf_backend_rejects_paths_that_are_not_models(tmp_path):
    with pytest.raises(LLMSpecError, match="no config.json"):
        make_backend(f"hf:{tmp_path}")
    with pytest.raises(LLMSpecError, match="no GGUF file"):
        make_backend(f"hf:{tmp_path}/missing.gguf")


def test_vllm_backend_names_what_is_missing_here():
    import importlib.util

    import torch

    if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available():
        pytest.skip("vllm and a GPU are both present: the error path cannot be shown here")
    with pytest.raises(BackendUnavailableError) as info:
        make_backend("vllm:Qwen/Qwen2.5-Coder-1.5B-Instruct")
    msg = str(info.value)
    if importlib.util.find_spec("vllm") is None:
        assert "vllm is not installed" in msg
    if not torch.cuda.is_available():
        assert "no CUDA GPU" in msg
    assert "openai:MODEL@http" in msg  # and the way out
