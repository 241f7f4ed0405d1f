"""A scripted, fault-injecting OpenAI-compatible server on 127.0.0.1, for tests.

The only thing a test may script is an LLM's text; this server is where. It speaks
``/v1/chat/completions`` and ``/v1/models`` over real HTTP, so the real ``openai``
client (and agentgym's retry, cache and checks) is what gets exercised::

    with ScriptedOpenAIServer(["```python\\ndef compute_reward(s, a): ...```", Fault.status(500)]) as srv:
        client = make_client(f"openai:scripted@{srv.base_url}", cache=None)
        ...
        assert "reward reflection" in srv.requests[-1]["messages"][-1]["content"]

A script is a list consumed in order (texts, or ``Fault``s), or a callable
``script(request) -> str | Fault`` called once per choice. ``faults=FaultPlan(rate=0.3)``
injects random faults in front of any script (a faulted request consumes nothing).
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS = (
    "timeout",
    "reset",
    "status_429",
    "status_429_retry_after",
    "status_500",
    "status_503",
    "malformed",
    "empty_choices",
    "truncated",
    "fewer_choices",
)


@dataclass(frozen=True)
class Fault:
    """One way for a response to go wrong."""

    kind: str
    http_status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    text: str = ""
    message: str = ""

    @staticmethod
    def timeout(seconds: float = 2.0) -> Fault:
        """Answer only after ``seconds`` (past the client's timeout)."""
        return Fault("timeout", seconds=seconds)

    @staticmethod
    def reset() -> Fault:
        """Close the connection with a TCP RST before answering."""
        return Fault("reset")

    @staticmethod
    def status(code: int, retry_after: str | None = None, message: str = "") -> Fault:
        """An HTTP error with an OpenAI-style error body, optionally with Retry-After."""
        return Fault(
            f"status_{code}",
            http_status=code,
            retry_after=retry_after,
            message=message or f"scripted {code}",
        )

    @staticmethod
    def malformed() -> Fault:
        """HTTP 200 with a body that is not JSON."""
        return Fault("malformed")

    @staticmethod
    def empty_choices() -> Fault:
        """HTTP 200 with ``"choices": []``."""
        return Fault("empty_choices")

    @staticmethod
    def fewer_choices() -> Fault:
        """One choice whatever ``n`` was asked (what llama.cpp's server does)."""
        return Fault("fewer_choices")

    @staticmethod
    def truncated(text: str = "def compute_reward(state, action):\n    return") -> Fault:
        """One choice cut off by max_tokens (``finish_reason: "length"``)."""
        return Fault("truncated", text=text)


@dataclass
class FaultPlan:
    """Random faults: each request is a fault with probability ``rate``, its kind drawn
    uniformly from ``kinds``. Seeded, thread-safe."""

    rate: float = 0.3
    kinds: Sequence[str] = FAULT_KINDS
    seed: int = 0
    timeout_s: float = 2.0
    retry_after: str = "0.05"
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"FaultPlan.kinds: unknown {sorted(unknown)}; known: {FAULT_KINDS}")
        self._rng = random.Random(self.seed)

    def draw(self) -> Fault | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(list(self.kinds))
        return {
            "timeout": Fault.timeout(self.timeout_s),
            "reset": Fault.reset(),
            "status_429": Fault.status(429, message="Rate limit reached"),
            "status_429_retry_after": replace(
                Fault.status(429, retry_after=self.retry_after, message="Rate limit reached"),
                kind="status_429_retry_after",
            ),
            "status_500": Fault.status(500, message="internal error"),
            "status_503": Fault.status(503, message="overloaded"),
            "malformed": Fault.malformed(),
            "empty_choices": Fault.empty_choices(),
            "truncated": Fault.truncated(),
            "fewer_choices": Fault.fewer_choices(),
        }[kind]


Script = Sequence["str | Fault"] | Callable[[dict[str, Any]], "str | Fault"]


class ScriptExhausted(Exception):
    pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or a scripted reset leaves a dead socket behind;
        # that is the point of the fault, not an error worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ScriptedOpenAIServer:
    """An OpenAI-compatible chat server whose replies come from a script.

    ``requests`` records every chat request received (``messages``, ``n``,
    ``temperature``, ``max_tokens``, ``stop``, ``model``, ``response_format``, and ``fault``:
    the fault served or None). ``max_choices=1`` behaves like llama.cpp's server (ignores
    n > 1); ``structured_output=False`` like a server without structured output (a
    request carrying ``response_format`` gets 400 and consumes nothing).
    ``api_key`` makes it answer 401 to any other key; ``models`` lists the served models
    (others get 404 model_not_found).
    """

    def __init__(
        self,
        script: Script = (),
        *,
        faults: FaultPlan | None = None,
        models: Sequence[str] = ("scripted-model",),
        api_key: str | None = None,
        max_choices: int | None = None,
        accept_any_model: bool = False,
        port: int = 0,
        structured_output: bool = True,
    ) -> None:
        """``port`` 0 takes a free one; a fixed port keeps ``base_url`` the same across
        processes (an LLM spec naming it then resumes the same run)."""
        self._script = script if callable(script) else list(script)
        self._pos = 0
        self.faults = faults
        self.models = list(models)
        self.api_key = api_key
        self.max_choices = max_choices
        self.accept_any_model = accept_any_model
        self.structured_output = structured_output
        self.requests: list[dict[str, Any]] = []
        self.model_list_calls = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", port), self._handler_class())
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedOpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, daemon=True, name="scripted-openai-server"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read ----------------------------------------------------------------
    def fault_counts(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for r in self.requests:
                if r["fault"]:
                    counts[r["fault"]] = counts.get(r["fault"], 0) + 1
            return counts

    @property
    def last_user_message(self) -> str:
        """The content of the last user message of the last chat request (the prompt a
        designer built from the previous round's feedback)."""
        with self._lock:
            if not self.requests:
                raise AssertionError("the server has received no chat request")
            msgs = self.requests[-1]["messages"] or []
        users = [m["content"] for m in msgs if m.get("role") == "user"]
        if not users:
            raise AssertionError("the last request holds no user message")
        return users[-1]

    @property
    def remaining(self) -> int:
        """Script entries not yet served (lists only)."""
        return len(self._script) - self._pos if isinstance(self._script, list) else 0

    # -- the script ----------------------------------------------------------------------
    def _next(self, request: dict[str, Any]) -> str | Fault:
        if callable(self._script):
            return self._script(request)
        with self._lock:
            if self._pos >= len(self._script):
                raise ScriptExhausted(f"the script's {len(self._script)} replies are used up")
            item = self._script[self._pos]
            self._pos += 1
            return item

    def _peek_is_fault(self) -> bool:
        with self._lock:
            return (
                isinstance(self._script, list)
                and self._pos < len(self._script)
                and isinstance(self._script[self._pos], Fault)
            )

    def _reply_for(self, request: dict[str, Any]) -> Fault | list[str]:
        n = int(request.get("n") or 1)
        if self.max_choices is not None:
            n = min(n, self.max_choices)
        if self.faults is not None:
            fault = self.faults.draw()
            if fault is not None and fault.kind == "fewer_choices":
                request["fault"] = fault.kind if n > 1 else None
                n = 1
            elif fault is not None:
                return fault
        first = self._next(request)
        if isinstance(first, Fault) and first.kind == "fewer_choices":
            request["fault"] = first.kind
            n, first = 1, self._next(request)
        if isinstance(first, Fault):
            return first
        texts = [first]
        while len(texts) < n and not self._peek_is_fault():
            try:
                item = self._next(request)
            except ScriptExhausted:
                break
            if isinstance(item, Fault):  # a callable script returned a fault mid-response
                break
            texts.append(item)
        return texts

    # -- HTTP ----------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _send(
                self,
                status: int,
                body: bytes,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _error(
                self,
                status: int,
                message: str,
                code: str | None = None,
                headers: dict[str, str] | None = None,
            ) -> None:
                body = {
                    "error": {
                        "message": message,
                        "type": "invalid_request_error",
                        "param": None,
                        "code": code,
                    }
                }
                self._send(status, json.dumps(body).encode(), headers)

            def _key_ok(self) -> bool:
                return server.api_key is None or (
                    self.headers.get("Authorization") == f"Bearer {server.api_key}"
                )

            def _authorized(self) -> bool:
                if self._key_ok():
                    return True
                self._error(401, "Incorrect API key provided.", "invalid_api_key")
                return False

            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/v1/models":
                    self._error(404, f"no route {self.path}", "not_found")
                    return
                if not self._authorized():
                    return
                with server._lock:
                    server.model_list_calls += 1
                data = [
                    {"id": m, "object": "model", "created": 0, "owned_by": "scripted"}
                    for m in server.models
                ]
                self._send(200, json.dumps({"object": "list", "data": data}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._error(404, f"no route {self.path}", "not_found")
                    return
                body = json.loads(raw or b"{}")
                record = {
                    "messages": body.get("messages"),
                    "n": body.get("n", 1),
                    "temperature": body.get("temperature"),
                    "max_tokens": body.get("max_tokens", body.get("max_completion_tokens")),
                    "stop": body.get("stop"),
                    "seed": body.get("seed"),
                    "model": body.get("model"),
                    "response_format": body.get("response_format"),
                    "fault": None,
                    "time": time.time(),
                }
                if not self._key_ok():
                    # Recorded before the reply is sent: the client may read the 401 and
                    # the test count requests before this thread runs again.
                    record["fault"] = "unauthorized"
                    with server._lock:
                        server.requests.append(record)
                    self._error(401, "Incorrect API key provided.", "invalid_api_key")
                    return
                if not server.accept_any_model and body.get("model") not in server.models:
                    record["fault"] = "unknown_model"
                    with server._lock:
                        server.requests.append(record)
                    self._error(
                        404,
                        f"The model `{body.get('model')}` does not exist or you do "
                        "not have access to it.",
                        "model_not_found",
                    )
                    return
                if body.get("response_format") is not None and not server.structured_output:
                    record["fault"] = "response_format_refused"
                    with server._lock:
                        server.requests.append(record)
                    self._error(
                        400,
                        "'response_format' is not supported by this server",
                        "unsupported_parameter",
                    )
                    return
                try:
                    reply = server._reply_for(record)
                except ScriptExhausted as err:
                    record["fault"] = "script_exhausted"
                    with server._lock:
                        server.requests.append(record)
                    self._error(400, f"ScriptedOpenAIServer: {err}", "script_exhausted")
                    return
                if isinstance(reply, Fault):
                    record["fault"] = reply.kind
                with server._lock:
                    server.requests.append(record)
                if isinstance(reply, Fault):
                    self._fault(reply, body)
                else:
                    self._completion(body, [(t, "stop") for t in reply])

            def _completion(self, body: dict[str, Any], texts: list[tuple[str, str]]) -> None:
                prompt = " ".join(str(m.get("content", "")) for m in body.get("messages") or [])
                choices = [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": t},
                        "finish_reason": fr,
                        "logprobs": None,
                    }
                    for i, (t, fr) in enumerate(texts)
                ]
                completion_tokens = sum(len(t.split()) for t, _ in texts)
                out = {
                    "id": f"chatcmpl-{id(texts):x}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model"),
                    "choices": choices,
                    "usage": {
                        "prompt_tokens": len(prompt.split()),
                        "completion_tokens": completion_tokens,
                        "total_tokens": len(prompt.split()) + completion_tokens,
                    },
                }
                self._send(200, json.dumps(out).encode())

            def _fault(self, fault: Fault, body: dict[str, Any]) -> None:
                if fault.kind == "timeout":
                    server._stopping.wait(fault.seconds)
                    try:
                        self._completion(body, [("too late", "stop")])
                    except OSError:
                        pass  # the client gave up and closed the connection
                elif fault.kind == "reset":
                    # SO_LINGER with a zero timeout makes close() send RST, not FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                elif fault.kind.startswith("status_"):
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                    self._error(fault.http_status, fault.message, fault.kind, headers)
                elif fault.kind == "malformed":
                    self._send(200, b'{"id": "chatcmpl-x", "choices": [{"index": 0, "mess')
                elif fault.kind == "empty_choices":
                    self._completion(body, [])
                elif fault.kind == "truncated":
                    self._completion(body, [(fault.text, "length")])
                else:
                    raise ValueError(f"unknown fault kind {fault.kind!r}")

            def finish(self) -> None:
                try:
                    super().finish()
                except OSError:
                    pass  # after a scripted reset the socket is already gone

        return Handler
