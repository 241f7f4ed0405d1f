"""The ``openai`` backend: any OpenAI-compatible chat server through the official client.

Works with OpenAI, a vLLM server (``vllm serve``), llama.cpp's server and Ollama
(``http://127.0.0.1:11434/v1``). The client's own retries are off (``max_retries=0``):
``agentgym.llm.retry`` is the one policy. Errors are translated here: transient faults
become ``TransientLLMError``; 400/401/403/404, and a refused connection to a loopback
server (nothing listens there; it is not transient), become ``LLMRequestError`` naming
the cause in the user's terms.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any
from urllib.parse import urlparse

from agentgym.llm.completion import BackendResponse, Completion, Message, SamplingParams
from agentgym.llm.errors import LLMRequestError, TransientLLMError
from agentgym.llm.retry import parse_retry_after
from agentgym.llm.spec import LLMSpec
from agentgym.registry import suggest

log = logging.getLogger(__name__)

OPTIONS: dict[str, type] = {"timeout": float, "concurrency": int, "api_key_env": str}
TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
# Reasoning models reject max_tokens and want max_completion_tokens.
_COMPLETION_TOKENS_MODELS = ("o1", "o3", "o4", "gpt-5")


def _server_message(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(getattr(err, "message", "") or err)


def _rejected_body(said: str) -> bool:
    """Whether a 5xx is a FastAPI server's validation error of the request body.

    llama-cpp-python's server answers a body its schema refuses (e.g. a
    ``response_format`` of type ``json_schema``, which it does not know) with 500 and
    pydantic's "1 validation error: {... 'loc': ('body', 'response_format', 'type') ...}":
    the same request fails the same way however often it is retried."""
    return "validation error" in said and "('body'," in said


def _refused(err: BaseException) -> bool:
    """Whether a ConnectionRefusedError lies in ``err``'s chain (openai wraps httpx's
    ConnectError, which wraps the socket's error)."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


class OpenAIBackend:
    """One chat-completions round trip per ``request``."""

    name = "openai"
    structured_output = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        concurrency: int = 8,
    ) -> None:
        import openai  # heavy: only when this backend is used

        self.model = model
        self.base_url = (
            base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        ).rstrip("/")
        host = urlparse(self.base_url).hostname or ""
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if host in LOCAL_HOSTS:
                key = "none"  # local servers (llama.cpp, vLLM, Ollama) take any key
            else:
                raise LLMRequestError(
                    f"no API key for {self.base_url}: set OPENAI_API_KEY (or name another "
                    "variable with the spec option api_key_env=NAME)",
                    cause="missing_key",
                )
        self.timeout = timeout
        self.max_concurrency = concurrency
        self._openai = openai
        self._client = openai.OpenAI(
            api_key=key, base_url=self.base_url, timeout=timeout, max_retries=0
        )

    @classmethod
    def from_spec(cls, spec: LLMSpec) -> OpenAIBackend:
        key_env = spec.option("api_key_env", OPTIONS)
        api_key = None
        if key_env:
            api_key = os.environ.get(key_env)
            if not api_key:
                raise LLMRequestError(
                    f"LLM spec {str(spec)!r}: environment variable {key_env} "
                    "(api_key_env) is not set",
                    cause="missing_key",
                )
        return cls(
            spec.model,
            base_url=spec.base_url,
            api_key=api_key,
            timeout=spec.option("timeout", OPTIONS, 120.0),
            concurrency=spec.option("concurrency", OPTIONS, 8),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "concurrency": self.max_concurrency,
        }

    # -- one round trip ------------------------------------------------------------------
    def request(self, messages: list[Message], params: SamplingParams, n: int) -> BackendResponse:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": params.temperature,
        }
        if n != 1:
            kwargs["n"] = n
        if self.model.startswith(_COMPLETION_TOKENS_MODELS):
            kwargs["max_completion_tokens"] = params.max_tokens
        else:
            kwargs["max_tokens"] = params.max_tokens
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.top_p is not None:
            kwargs["top_p"] = params.top_p
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.response_format is not None:
            kwargs["response_format"] = params.response_format
        start = time.perf_counter()
        try:
            resp = self._client.chat.completions.create(**kwargs)
        except Exception as err:  # translated below; anything unknown propagates
            raise self._translate(err) from err
        latency = time.perf_counter() - start
        return self._parse(resp, latency)

    def _parse(self, resp: Any, latency: float) -> BackendResponse:
        # A 200 whose body is not a chat completion (malformed JSON, an HTML error page
        # from a proxy) comes back as a str or a half-filled object: a transient fault.
        if not hasattr(resp, "choices"):
            raise TransientLLMError(
                f"{self.base_url} answered 200 with a body that is not a "
                f"chat completion: {str(resp)[:200]!r}",
                kind="malformed",
            )
        choices = list(resp.choices or [])
        usage = getattr(resp, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        model = getattr(resp, "model", None) or self.model
        texts = []
        for ch in choices:
            message = getattr(ch, "message", None)
            texts.append(
                (getattr(message, "content", None) or "", getattr(ch, "finish_reason", None))
            )
        # Usage is per request; split the completion tokens over the choices by length.
        total_chars = sum(len(t) for t, _ in texts) or 1
        completions = []
        for i, (text, finish) in enumerate(texts):
            share = (
                round(completion_tokens * len(text) / total_chars)
                if len(texts) > 1
                else completion_tokens
            )
            completions.append(
                Completion(
                    text=text,
                    finish_reason=finish,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=share,
                    model=model,
                    index=i,
                    latency_s=latency,
                    extra={"id": getattr(resp, "id", None)},
                )
            )
        return BackendResponse(
            completions=completions,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model=model,
            latency_s=latency,
        )

    def served_models(self) -> list[str] | None:
        """The model ids the server lists at /models, or None when it lists none."""
        try:
            page = self._client.models.list(timeout=min(self.timeout, 15.0))
            return [m.id for m in page.data]
        except Exception as err:  # any failure means: no model list to compare with
            log.debug("listing models at %s failed: %s", self.base_url, err)
            return None

    def _not_found(self, said: str) -> LLMRequestError:
        # A 404 is a wrong model name or a wrong URL; the model list tells which.
        served = self.served_models()
        if served is None:
            return LLMRequestError(
                f"bad URL: {self.base_url}/chat/completions answered 404 ({said}) and "
                f"{self.base_url}/models lists no models; check the base URL (OpenAI-compatible "
                "servers usually serve under /v1)",
                status=404,
                cause="bad_url",
            )
        if self.model not in served:
            shown = ", ".join(served[:10]) + (" ..." if len(served) > 10 else "")
            return LLMRequestError(
                f"unknown model {self.model!r} at {self.base_url} (404: {said})."
                f"{suggest(self.model, served)} Served: {shown or 'none'}",
                status=404,
                cause="unknown_model",
            )
        return LLMRequestError(
            f"{self.base_url}/chat/completions answered 404 for model {self.model!r}, which the "
            f"server lists ({said}); the server may not offer chat completions for it",
            status=404,
            cause="not_found",
        )

    def _translate(self, err: Exception) -> Exception:
        o = self._openai
        where = f"{self.base_url} (model {self.model!r})"
        if isinstance(err, o.APITimeoutError):
            return TransientLLMError(
                f"no answer from {where} within {self.timeout}s", kind="timeout"
            )
        if isinstance(err, o.APIConnectionError):
            if _refused(err) and urlparse(self.base_url).hostname in LOCAL_HOSTS:
                # Nothing listens on that loopback port: a retry cannot change that within
                # a backoff's seconds, so say so now instead of retrying for ~45 s.
                return LLMRequestError(
                    f"connection refused: nothing listens at {self.base_url} (model "
                    f"{self.model!r}); start the server there or fix the URL in the LLM spec",
                    cause="refused",
                )
            return TransientLLMError(
                f"connection to {where} failed: {err.__cause__ or err}", kind="connection"
            )
        if isinstance(err, o.APIStatusError):
            status, said = err.status_code, _server_message(err)
            if status >= 500 and _rejected_body(said):
                return LLMRequestError(
                    f"{where} rejected the request body ({status}: {said})",
                    status=status,
                    cause="invalid_request",
                )
            if status in TRANSIENT_STATUS or status >= 500:
                return TransientLLMError(
                    f"{where} answered {status}: {said}",
                    kind=f"status_{status}",
                    retry_after=parse_retry_after(dict(err.response.headers)),
                    status=status,
                )
            if status == 401:
                return LLMRequestError(
                    f"bad API key: {self.base_url} answered 401 Unauthorized "
                    f"({said}); check OPENAI_API_KEY",
                    status=401,
                    cause="bad_key",
                )
            if status == 403:
                return LLMRequestError(
                    f"permission denied: the key may not use model {self.model!r} "
                    f"at {self.base_url} (403: {said})",
                    status=403,
                    cause="permission",
                )
            if status == 404:
                return self._not_found(said)
            if status == 400:
                return LLMRequestError(
                    f"bad request to {where} (400: {said}); e.g. a prompt longer "
                    "than the context or a parameter the server rejects",
                    status=400,
                    cause="bad_request",
                )
            return LLMRequestError(
                f"{where} answered {status}: {said}", status=status, cause=f"status_{status}"
            )
        if isinstance(err, (o.APIResponseValidationError, json.JSONDecodeError, ValueError)):
            return TransientLLMError(f"{where} sent a malformed reply: {err}", kind="malformed")
        return err
