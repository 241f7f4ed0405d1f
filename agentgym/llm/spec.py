"""LLM spec strings and the registry of backends.

    SPEC := BACKEND ":" MODEL ["@" BASE_URL] [";" KEY "=" VALUE]*

    openai:gpt-4o-mini                          OpenAI (key from OPENAI_API_KEY)
    openai:qwen2.5-coder-1.5b@http://127.0.0.1:8011/v1   any OpenAI-compatible server
    vllm:Qwen/Qwen2.5-Coder-7B-Instruct         in-process vLLM engine on a GPU
    hf:/models/smollm2                          transformers from a local folder
    hf:/models/smollm2-135m.gguf                ... or from a GGUF file

Options after ``;`` go to the backend (``openai:...;timeout=30;concurrency=4``). A key
never belongs in a spec (specs end up in manifests and logs): ``api_key_env=NAME``
names the environment variable that holds it. ``AGENTGYM_LLM`` holds the default spec.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentgym.llm.errors import LLMSpecError
from agentgym.registry import Registry, UnknownNameError, suggest

ENV_VAR = "AGENTGYM_LLM"
# Servers people name as a backend but which speak the OpenAI API: their default URLs.
OPENAI_COMPATIBLE_SERVERS = {
    "ollama": "http://127.0.0.1:11434/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
    "tgi": "http://127.0.0.1:8080/v1",
}


class BackendFactory(Protocol):
    def __call__(self, spec: LLMSpec) -> Any: ...


BACKENDS: Registry[BackendFactory] = Registry("LLM backend")
"""Backends by spec prefix; lazy targets, so vllm and transformers load only when used.
One registration site: this module."""
BACKENDS.register("openai", "agentgym.llm.openai_backend:OpenAIBackend.from_spec")
BACKENDS.register("vllm", "agentgym.llm.vllm_backend:VLLMBackend.from_spec")
BACKENDS.register("hf", "agentgym.llm.hf_backend:HFBackend.from_spec")


@dataclass(frozen=True)
class LLMSpec:
    """A parsed spec: which backend, which model, where, and backend options."""

    backend: str
    model: str
    base_url: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = f"{self.backend}:{self.model}"
        if self.base_url:
            text += f"@{self.base_url}"
        return text + "".join(f";{k}={v}" for k, v in sorted(self.options.items()))

    def option(self, name: str, allowed: dict[str, type], default: Any = None) -> Any:
        """Read option ``name`` as ``allowed[name]``; unknown option names are an error."""
        for key in self.options:
            if key not in allowed:
                raise LLMSpecError(
                    f"LLM spec {str(self)!r}: unknown option {key!r} for backend "
                    f"{self.backend!r}.{suggest(key, list(allowed))} Known: {', '.join(sorted(allowed))}"
                )
        if name not in self.options:
            return default
        raw = self.options[name]
        try:
            return allowed[name](raw)
        except ValueError as err:
            raise LLMSpecError(
                f"LLM spec {str(self)!r}: option {name}={raw!r} must be {allowed[name].__name__}"
            ) from err


def parse_spec(text: str | None = None) -> LLMSpec:
    """Parse an LLM spec; None reads ``$AGENTGYM_LLM``."""
    if text is None:
        text = os.environ.get(ENV_VAR)
        if not text:
            raise LLMSpecError(
                f"no LLM given: pass a spec such as 'openai:gpt-4o-mini', "
                f"'openai:MODEL@http://127.0.0.1:8011/v1', 'vllm:MODEL' or 'hf:PATH', "
                f"or set {ENV_VAR}"
            )
    text = text.strip()
    backend, sep, rest = text.partition(":")
    if not sep or not backend:
        raise LLMSpecError(
            f"LLM spec {text!r} must have the form BACKEND:MODEL "
            f"(BACKEND one of {', '.join(BACKENDS.names())})"
        )
    if backend not in BACKENDS:
        server = backend.lower().replace(".", "").replace("-", "").replace("_", "")
        if server not in OPENAI_COMPATIBLE_SERVERS:
            close = suggest(server, list(OPENAI_COMPATIBLE_SERVERS))
            server = close.split("'")[1] if close else server
        if server in OPENAI_COMPATIBLE_SERVERS:
            model = rest.split("@")[0].split(";")[0]
            raise LLMSpecError(
                f"LLM spec {text!r}: unknown backend {backend!r}; {server} speaks the OpenAI API, "
                f"so use openai:{model}@{OPENAI_COMPATIBLE_SERVERS[server]}"
            )
        raise LLMSpecError(
            f"LLM spec {text!r}: unknown backend {backend!r}."
            f"{suggest(backend, BACKENDS.names())} Known: {', '.join(BACKENDS.names())}"
        )
    main, *opts = rest.split(";")
    options: dict[str, str] = {}
    for opt in opts:
        key, eq, value = opt.partition("=")
        if not eq or not key.strip():
            raise LLMSpecError(f"LLM spec {text!r}: option {opt!r} must be KEY=VALUE")
        options[key.strip()] = value.strip()
    model, base_url = main, None
    if backend == "openai" and "@" in main:
        model, _, base_url = main.rpartition("@")
        if not base_url.startswith(("http://", "https://")):
            raise LLMSpecError(
                f"LLM spec {text!r}: base URL {base_url!r} must start with "
                "http:// or https:// (e.g. http://127.0.0.1:8000/v1)"
            )
    if not model.strip():
        raise LLMSpecError(f"LLM spec {text!r}: the model is empty (expected {backend}:MODEL)")
    return LLMSpec(backend=backend, model=model.strip(), base_url=base_url, options=options)


def make_backend(spec: str | LLMSpec | None = None) -> Any:
    """Build the backend a spec names (imports the backend's library only now)."""
    parsed = spec if isinstance(spec, LLMSpec) else parse_spec(spec)
    try:
        factory = BACKENDS.get(parsed.backend)
    except UnknownNameError as err:
        raise LLMSpecError(str(err)) from err
    return factory(parsed)
