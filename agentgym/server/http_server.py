"""The HTTP face of an ``EnvPool``: the routes of the wire protocols
(``agentgym.server.protocols``) over the standard library's threading HTTP server, one
thread per connection.

Our generic routes answer at ``/`` (or the routes of the protocol named by
``--protocol``), and each AgentGym protocol that can serve the env answers under its
prefix (``/babyai/step``, ``/webshop/create``, ...). docs/server.md has every route.

Errors are JSON ``{"error": message}``: 400 for a malformed body or field, 404 for an
unknown path or instance id, 405 for a known path asked with the wrong method, 409 for
a step before reset or after the episode ended, 503 when the pool is full, 500 when the
env itself raised.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from agentgym.registry import suggest
from agentgym.server.fields import BadRequest, MethodNotAllowed, NotFound
from agentgym.server.instances import EnvPool, PoolError, to_jsonable
from agentgym.server.protocols import GENERIC, PROTOCOLS, Handler, protocols_for

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # 1 MiB: a command or an action vector is far smaller
# The kernel's accept queue. socketserver's default of 5 reset 8-22% of 100 simultaneous
# connections (issue #19); Linux caps this at net.core.somaxconn (4096 by default).
LISTEN_BACKLOG = 1024


def route_table(env_id: str, root: str = "generic") -> dict[tuple[str, str], Handler]:
    """(method, path) -> handler: ``root``'s routes at ``/``, every protocol that serves
    ``env_id`` under ``/<name>`` (the generic one too, when it is not at the root)."""
    if root not in PROTOCOLS:
        raise ValueError(f"--protocol must be one of {sorted(PROTOCOLS)}, got {root!r}")
    family = protocols_for(env_id)
    if root != GENERIC.name and PROTOCOLS[root] not in family:
        can = sorted(p.name for p in family) or ["none"]
        raise ValueError(
            f"--protocol {root!r} cannot serve {env_id}; the AgentGym protocols for it: {can}"
        )
    table = {key: handler for key, handler in PROTOCOLS[root].routes.items()}
    mounted = family + ([GENERIC] if root != GENERIC.name else [])
    for protocol in mounted:
        for (method, path), handler in protocol.routes.items():
            table[(method, f"/{protocol.name}{path}".rstrip("/"))] = handler
    return table


class EnvServer(ThreadingHTTPServer):
    """A threading HTTP server that owns an ``EnvPool``."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self, pool: EnvPool, host: str = "127.0.0.1", port: int = 0, protocol: str = "generic"
    ) -> None:
        self.pool = pool
        self.routes = route_table(pool.env_id, protocol)
        self.protocol = protocol
        self.families = [p.name for p in protocols_for(pool.env_id)]
        """The AgentGym protocols served under their prefixes."""
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (tests, notebooks); stop with ``shutdown()``."""
        thread = threading.Thread(
            target=self.serve_forever, name=f"agentgym-serve-{self.pool.env_id}", daemon=True
        )
        thread.start()
        return thread

    def server_close(self) -> None:
        super().server_close()
        self.pool.close_all()


class _Handler(BaseHTTPRequestHandler):
    server: EnvServer
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's session reuses its connection

    # -- plumbing ---------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (BaseHTTPRequestHandler's name)
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(to_jsonable(payload)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _chunked(self) -> bytes:
        """A ``Transfer-Encoding: chunked`` body (RFC 9112 7.1), at most MAX_BODY bytes."""
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest(f"malformed chunked body: chunk size line {line[:40]!r}") from None
            if size == 0:
                break
            if len(body) + size > MAX_BODY:
                raise BadRequest(
                    f"the body has more than {MAX_BODY} bytes, at most {MAX_BODY} are accepted"
                )
            body += self.rfile.read(size)
            if self.rfile.read(2) != b"\r\n":
                raise BadRequest("malformed chunked body: a chunk does not end with CRLF")
        while self.rfile.readline(1024).strip():
            pass  # trailer fields: none of them matter here
        return bytes(body)

    def _raw_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding", "").strip().lower()
        if encoding == "chunked":
            return self._chunked()
        if encoding not in ("", "identity"):
            raise BadRequest(
                f"Transfer-Encoding {encoding!r} is not supported; send the body plain "
                "(with Content-Length) or chunked"
            )
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length is not None else 0
        except ValueError:
            raise BadRequest(f"Content-Length must be an integer, got {length!r}") from None
        if size < 0 or size > MAX_BODY:
            raise BadRequest(f"the body has {size} bytes, at most {MAX_BODY} are accepted")
        return self.rfile.read(size) if size else b""

    def _body(self) -> dict[str, Any]:
        try:
            raw = self._raw_body()
        except BadRequest:
            self.close_connection = True  # a broken framing: the rest of the stream is lost
            raise
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BadRequest(f"the body is not valid JSON: {err}") from None
        if not isinstance(body, dict):
            raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
        return body

    def _route(self, method: str, path: str) -> Handler:
        routes = self.server.routes
        handler = routes.get((method, path))
        if handler is not None:
            return handler
        allowed = sorted(m for m, p in routes if p == path)
        if allowed:
            raise MethodNotAllowed(f"{path} answers {', '.join(allowed)}, not {method}")
        known = sorted({f"{m} {p or '/'}" for m, p in routes})
        raise NotFound(
            f"no endpoint {method} {path or '/'}.{suggest(f'{method} {path}', known)} "
            f"Endpoints: {', '.join(known)}"
        )

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        headers: dict[str, str] = {}
        try:
            # Read the body before anything can fail, so a keep-alive connection stays in step.
            body = self._body()
            handler = self._route(method, path)
            fields: dict[str, Any] = body if method == "POST" else dict(parse_qs(url.query))
            status, payload = HTTPStatus.OK, handler(self.server.pool, fields)
        except PoolError as err:
            status, payload = err.status, {"error": str(err)}
            if isinstance(err, MethodNotAllowed):
                headers["Allow"] = ", ".join(m for m, p in self.server.routes if p == path)
        except Exception as err:  # the env raised: report it, keep serving the others
            log.exception("request %s %s failed", method, url.path)
            status, payload = (
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": f"{type(err).__name__}: {err}"},
            )
        self._send(status, payload, headers)

    def do_GET(self) -> None:  # noqa: N802  (BaseHTTPRequestHandler's names)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._dispatch("OPTIONS")
