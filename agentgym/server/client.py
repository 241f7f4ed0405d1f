"""A small Python client of the agentgym env server (and of AgentGym-style servers).

Uses only the standard library, so an agent framework can copy it anywhere::

    client = EnvClient("http://127.0.0.1:8000")
    first = client.reset(seed=0)            # creates an instance on first use
    out = client.step("go to countertop 1")
    out["observation"], out["reward"], out["done"], out["available_actions"]
    client.close()
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode


class EnvServerError(RuntimeError):
    """The server answered with an error status; ``status`` and the server's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def request(
    base_url: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    timeout: float = 60.0,
) -> Any:
    """One JSON request; returns the decoded answer or raises EnvServerError."""
    url = base_url.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            message = json.loads(raw).get("error", raw.decode("utf-8", "replace"))
        except (json.JSONDecodeError, AttributeError):
            message = raw.decode("utf-8", "replace")
        raise EnvServerError(err.code, message) from None


class EnvClient:
    """One env instance on a server: ``reset``, ``step``, ``observation``, ``close``."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.id: int | None = None

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        return request(self.base_url, method, path, body, query, self.timeout)

    def create(self) -> int:
        self.id = int(self._call("POST", "/create")["id"])
        return self.id

    def _require_id(self) -> int:
        return self.create() if self.id is None else self.id

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self._require_id()}
        if seed is not None:
            body["seed"] = seed
        return self._call("POST", "/reset", body)

    def step(self, action: Any) -> dict[str, Any]:
        return self._call("POST", "/step", {"id": self._require_id(), "action": action})

    def observation(self) -> Any:
        return self._call("GET", "/observation", query={"id": self._require_id()})

    def available_actions(self) -> list[str]:
        return self._call("GET", "/available_actions", query={"id": self._require_id()})

    def detail(self) -> dict[str, Any]:
        return self._call("GET", "/detail", query={"id": self._require_id()})

    def close(self) -> None:
        if self.id is not None:
            self._call("POST", "/close", {"id": self.id})
            self.id = None
