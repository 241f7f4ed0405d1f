"""An OpenAI-compatible chat server over llama.cpp, run by ``agentgym llm serve`` in its own
virtual environment (the ``cyllama`` wheel, see ``runtime.py``), so it imports nothing
from agentgym and only the standard library at module level.

    python openai_server.py --model FILE.gguf --name NAME --port 8011 [--n-ctx 8192]

Its first stdout line is ``{"event": "ready", "port": P}`` (``--port 0`` binds a free port
and says which).

Routes: ``GET /v1/models``, ``POST /v1/chat/completions`` (``n`` choices generated one
after the other, ``temperature``, ``top_p``, ``max_tokens``, ``stop``, ``seed``,
``response_format``). A ``response_format`` of type ``json_schema`` (OpenAI's structured
output) or ``json_object`` is honoured the way llama.cpp's own server does it: the schema
becomes a GBNF grammar (cyllama's vendored copy of llama.cpp's ``json_schema_to_grammar``)
that constrains sampling, so every choice is JSON of that shape, ended by the grammar, not by
``stop``; ``text`` is free text; any other type is answered 400. One generation at a time:
a lock serialises requests, while the threaded server keeps answering ``/v1/models``. After each choice one JSON line
(tokens, seconds) goes to stdout, which is how the parent shows tokens/s per reply.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class BadRequest(Exception):
    """A request the server refuses with 400 and this message."""


def _number(body: dict[str, Any], field: str, default: float, low: float, high: float) -> float:
    value = body.get(field, default)
    if value is None:
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"'{field}' must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def grammar_of(response_format: Any) -> str | None:
    """The GBNF grammar that ``response_format`` asks for (None: free text); BadRequest
    naming the field when it is not one this server can honour."""
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        raise BadRequest(f"'response_format' must be an object, got {response_format!r}")
    kind = response_format.get("type")
    if kind == "text":
        return None
    from cyllama.utils.json_schema_to_grammar import json_schema_to_grammar

    if kind == "json_object":
        return json_schema_to_grammar({"type": "object"})
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise BadRequest("'response_format.json_schema.schema' must be a JSON schema object")
        try:
            return json_schema_to_grammar(schema)
        except Exception as err:  # noqa: BLE001 (the converter raises bare exceptions)
            raise BadRequest(
                f"'response_format.json_schema.schema' cannot become a grammar: {err}"
            ) from None
    raise BadRequest(
        f"'response_format.type' must be text, json_object or json_schema, got {kind!r}"
    )


class Generator:
    """The loaded model; ``complete`` turns one request body into an OpenAI response."""

    def __init__(self, model_path: str, name: str, n_ctx: int) -> None:
        from cyllama.agents.constrained import GrammarConstrainedLLM
        from cyllama.api import GenerationConfig

        self._config = GenerationConfig
        self.name = name
        self.n_ctx = n_ctx
        # cyllama's LLM with one more method, generate_with_grammar (a GBNF grammar first
        # in the sampler chain); its chat() is the plain LLM's
        # n_batch = n_ctx: llama.cpp asserts (and the server process dies) on a prompt longer
        # than n_batch (cyllama's default 2048), which a synthesis follow-up can be.
        self.llm = GrammarConstrainedLLM(
            model_path, config=GenerationConfig(n_ctx=n_ctx, n_batch=n_ctx)
        )
        self.lock = threading.Lock()

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("'messages' must be a non-empty list")
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                raise BadRequest("each message needs a 'role' and a string 'content'")
        grammar = grammar_of(body.get("response_format"))
        n = int(_number(body, "n", 1, 1, 16))
        max_tokens = int(_number(body, "max_tokens", 512, 1, self.n_ctx))
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        seed = body.get("seed")
        base_seed = int(seed) if isinstance(seed, int) else random.randrange(2**31)
        choices = []
        prompt_tokens = completion_tokens = 0
        with self.lock:
            for index in range(n):
                config = self._config(
                    n_ctx=self.n_ctx,
                    n_batch=self.n_ctx,
                    max_tokens=max_tokens,
                    temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
                    top_p=_number(body, "top_p", 1.0, 0.0, 1.0),
                    # OpenAI's API has no repetition penalty: match its default (none).
                    repeat_penalty=1.0,
                    seed=base_seed + index,
                    stop_sequences=stop,
                )
                chat = [{"role": m.get("role", "user"), "content": m["content"]} for m in messages]
                start = time.perf_counter()
                if grammar is None:
                    reply = self.llm.chat(chat, config=config)
                    text = reply.text
                    stats = reply.stats
                    generated = stats.generated_tokens if stats else 0
                    prompt_tokens = stats.prompt_tokens if stats else 0
                else:
                    text, generated, prompt_tokens = self._constrained(chat, grammar, config)
                seconds = time.perf_counter() - start
                completion_tokens += generated
                # cyllama reports "stop" even when the budget ran out: tell them apart.
                finish = "length" if generated >= max_tokens else "stop"
                choices.append(
                    {
                        "index": index,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                    }
                )
                line = {"event": "reply", "tokens": generated, "seconds": round(seconds, 3)}
                line |= {"prompt_tokens": prompt_tokens, "finish_reason": finish}
                print(json.dumps(line), flush=True)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _constrained(
        self, chat: list[dict[str, str]], grammar: str, config: Any
    ) -> tuple[str, int, int]:
        """``(text, generated tokens, prompt tokens)`` of one choice under ``grammar``.

        generate_with_grammar takes a prompt, not messages: the chat template is applied
        as LLM.chat applies it (cyllama 0.2.18's _apply_template, the pinned version)."""
        prompt = self.llm._apply_template(chat)
        pieces: list[str] = []
        text = self.llm.generate_with_grammar(
            prompt, grammar, config=config, on_token=pieces.append
        )
        prompt_tokens = len(
            self.llm.vocab.tokenize(prompt, add_special=config.add_bos, parse_special=True)
        )
        return text, len(pieces), prompt_tokens


def handler_for(generator: Generator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # stdout carries the reply lines only
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            kind = "invalid_request_error" if status == 400 else "not_found_error"
            self._send(status, {"error": {"message": message, "type": kind, "code": status}})

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                model = {"id": generator.name, "object": "model", "owned_by": "agentgym"}
                self._send(200, {"object": "list", "data": [model]})
            elif self.path.rstrip("/") == "/health":
                self._send(200, {"status": "ok"})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(body, dict):
                    raise BadRequest("the body must be a JSON object")
                self._send(200, generator.complete(body))
            except (BadRequest, json.JSONDecodeError, ValueError) as err:
                self._error(400, str(err))
            except Exception as err:  # noqa: BLE001 (the client sees why, the server lives on)
                self._send(500, {"error": {"message": f"{type(err).__name__}: {err}"}})

    return Handler


def exit_with_parent(parent: int) -> None:
    """End this process when its parent is gone (killed, even by SIGKILL): a server left
    running would hold the port and two CPU threads for nobody."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0: any free port")
    parser.add_argument("--n-ctx", type=int, default=8192)
    args = parser.parse_args(argv)
    exit_with_parent(os.getppid())
    # Bind before loading the model: a port in use fails in a moment, not after the load.
    server = ThreadingHTTPServer((args.host, args.port), BaseHTTPRequestHandler)
    server.daemon_threads = True
    server.RequestHandlerClass = handler_for(Generator(args.model, args.name, args.n_ctx))
    print(json.dumps({"event": "ready", "port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the server: a normal stop
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
