"""The HTTP face of an ``EnvPool``: AgentGym's env-server endpoints over the standard
library's threading HTTP server (one thread per connection).

Endpoints (bodies and answers are JSON; the instance number is ``id`` or, as AgentGym's
WebShop server calls it, ``env_idx``, in the body of a POST or the query of a GET):

| method | path | body / query | answer |
|---|---|---|---|
| GET | `/` | | a line naming the env |
| GET | `/info` | | env id, spaces, TaskSpec, live instance ids |
| POST | `/create` | | `{"id", "env_idx"}` |
| POST | `/reset` | `{"id", "data_idx"?, "seed"?}` | `{"id", "observation", "reward", "score", "done", "available_actions", "info"}` |
| POST | `/step` | `{"id", "action"}` | the same plus `terminated`, `truncated` |
| GET | `/observation` | `?id=N` | the observation (a JSON string for text envs) |
| GET | `/available_actions` | `?id=N` | the admissible commands |
| GET | `/detail` | `?id=N` | observation, done, score, steps, info |
| POST | `/close` | `{"id"}` | `{"id", "closed": true}` |

Errors are JSON ``{"error": message}``: 400 for a malformed body or action, 404 for an
unknown path or instance id, 409 for a step before reset or after the episode ended,
503 when the pool is full, 500 when the env itself raised.
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
from agentgym.server.instances import EnvPool, PoolError, to_jsonable

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # 1 MiB: a command or an action vector is far smaller
ID_KEYS = ("id", "env_idx")


class BadRequest(PoolError):
    status = 400


class NotFound(PoolError):
    status = 404


def _instance_id(fields: dict[str, Any]) -> int:
    for key in ID_KEYS:
        if key in fields:
            value = fields[key]
            if isinstance(value, list):  # a query string value
                value = value[0]
            try:
                if isinstance(value, bool):
                    raise ValueError
                return int(value)
            except (TypeError, ValueError):
                raise BadRequest(f"'{key}' must be an integer instance id, got {value!r}") from None
    raise BadRequest("the request names no instance: give 'id' (or 'env_idx')")


def _optional_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{key}' must be an integer, got {value!r}")
    return value


class EnvServer(ThreadingHTTPServer):
    """A threading HTTP server that owns an ``EnvPool``."""

    daemon_threads = True

    def __init__(self, pool: EnvPool, host: str = "127.0.0.1", port: int = 0) -> None:
        self.pool = pool
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

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(to_jsonable(payload)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length is not None else 0
        except ValueError:
            raise BadRequest(f"Content-Length must be an integer, got {length!r}") from None
        if size > MAX_BODY:
            raise BadRequest(f"the body has {size} bytes, at most {MAX_BODY} are accepted")
        raw = self.rfile.read(size) if size else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BadRequest(f"the body is not valid JSON: {err}") from None
        if not isinstance(body, dict):
            raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
        return body

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        route = ROUTES.get((method, url.path.rstrip("/") or "/"))
        try:
            # The body is read even for unknown routes, so a keep-alive connection stays in step.
            fields: dict[str, Any] = self._body() if method == "POST" else dict(parse_qs(url.query))
            if route is None:
                known = sorted({f"{m} {p}" for m, p in ROUTES})
                raise NotFound(
                    f"no endpoint {method} {url.path}.{suggest(f'{method} {url.path}', known)} "
                    f"Endpoints: {', '.join(known)}"
                )
            status, payload = HTTPStatus.OK, route(self.server.pool, fields)
        except PoolError as err:
            status, payload = err.status, {"error": str(err)}
        except Exception as err:  # the env raised: report it, keep serving the others
            log.exception("request %s %s failed", method, url.path)
            status, payload = (
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": f"{type(err).__name__}: {err}"},
            )
        self._send(status, payload)

    def do_GET(self) -> None:  # noqa: N802  (BaseHTTPRequestHandler's name)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")


# -- endpoints ---------------------------------------------------------------------------
def _hello(pool: EnvPool, fields: dict[str, Any]) -> str:
    return f"This is the agentgym env server for {pool.env_id}."


def _info(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    from agentgym.catalog import describe

    description = describe(pool.env_id)
    try:
        from agentgym.catalog import task_spec

        description["task_spec"] = task_spec(pool.env_id).to_dict()
    except TypeError:
        pass  # not an agentgym TaskEnv: serve it without a TaskSpec
    return {**description, "instances": pool.ids(), "max_instances": pool.max_instances}


def _create(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = pool.create()
    return {"id": idx, "env_idx": idx}


def _reset(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = _instance_id(fields)
    seed = _optional_int(fields, "seed")
    data_idx = _optional_int(fields, "data_idx")
    if seed is not None and data_idx is not None and seed != data_idx:
        raise BadRequest(f"'seed' ({seed}) and 'data_idx' ({data_idx}) disagree; give one of them")
    # AgentGym's data_idx picks a task; here a task is what a seed generates.
    return pool.reset(idx, seed if seed is not None else data_idx)


def _step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = _instance_id(fields)
    if "action" not in fields:
        raise BadRequest("the body has no 'action'")
    return pool.step(idx, fields["action"])


def _observation(pool: EnvPool, fields: dict[str, Any]) -> Any:
    return pool.observation(_instance_id(fields))


def _available_actions(pool: EnvPool, fields: dict[str, Any]) -> list[str]:
    return pool.available_actions(_instance_id(fields))


def _detail(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    return pool.detail(_instance_id(fields))


def _close(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = _instance_id(fields)
    pool.close(idx)
    return {"id": idx, "env_idx": idx, "closed": True}


ROUTES = {
    ("GET", "/"): _hello,
    ("GET", "/info"): _info,
    ("POST", "/create"): _create,
    ("POST", "/reset"): _reset,
    ("POST", "/step"): _step,
    ("GET", "/observation"): _observation,
    ("GET", "/available_actions"): _available_actions,
    ("GET", "/detail"): _detail,
    ("POST", "/close"): _close,
}
