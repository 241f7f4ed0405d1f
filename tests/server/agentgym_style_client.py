"""A client that speaks to a server the way AgentGym's ``agentenv`` env clients do,
written from their documented protocol (not copied): the base address is the family's
prefix, ``/create`` first, the instance number under ``id`` (BabyAI, ALFWorld) or
``env_idx`` (WebShop, tool), JSON POST bodies, GET queries, and every answer must be
HTTP 200 (AgentGym's clients assert it)."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any
from urllib.parse import urlencode


class AgentGymStyleClient:
    def __init__(self, env_server_base: str, id_key: str, create_body: dict | None = None) -> None:
        self.base = env_server_base.rstrip("/")
        self.id_key = id_key
        created = self._send("POST", "/create", create_body)
        # BabyAI and ALFWorld answer {"id": n}, WebArena {"env_idx": n}; WebShop and the
        # tool servers a bare n.
        self.env_id = created[id_key] if isinstance(created, dict) else created
        assert isinstance(self.env_id, int), created

    def _send(self, method: str, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as res:
            assert res.status == 200
            return json.loads(res.read())

    def post(self, path: str, data: dict[str, Any]) -> Any:
        return self._send("POST", path, {**data, self.id_key: self.env_id})

    def get(self, path: str) -> Any:
        return self._send("GET", f"{path}?{urlencode({self.id_key: self.env_id})}")


def babyai_action(llm_text: str) -> str:
    """The command an LLM's answer names, cleaned as AgentGym's BabyAI client cleans it:
    the text after 'Action:', only letters, digits, commas and spaces."""
    found = re.findall(r"Action:\s*(.*?)(?=\n|$)", llm_text, re.DOTALL)
    action = found[-1] if found else ""
    return " ".join(re.sub(r"[^A-Za-z0-9, ]+", "", action).split())


def babyai_available(observation: str) -> list[str]:
    """The list AgentGym's BabyAI server appends: '\\nAvailable actions: ["a", "b"]'."""
    match = re.search(r"\nAvailable actions: (\[.*\])$", observation)
    assert match, observation[-200:]
    return json.loads(match.group(1))
