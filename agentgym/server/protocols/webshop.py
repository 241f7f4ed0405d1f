"""AgentGym's WebShop wire format (``agentenv-webshop``), for our shop.

The instance is named ``env_idx``; observations are WebShop's text mode: the page's
parts joined by ``" [SEP] "``, clickables by their label (``WebShop [SEP] Instruction:
[SEP] I am looking for ... [SEP] Search``). Commands are WebShop's: ``search[query]``,
``click[label]``.

| method | path | body / query | answer |
|---|---|---|---|
| GET | / | | ``"ok"`` |
| GET | /list_envs | | the live instance ids |
| POST | /create | | the new instance id, a bare integer |
| POST | /reset | ``{"env_idx", "session_id"?}`` | ``[observation, null]`` |
| POST | /step | ``{"env_idx", "action"}`` | ``{"state", "reward", "done", "info": null}`` |
| GET | /available_actions | ``?env_idx=`` | ``{"has_search_bar", "clickables"}`` |
| GET | /instruction_text | ``?env_idx=`` | ``"Instruction: ..."`` |
| GET | /observation | ``?env_idx=`` | the observation |
| GET | /state | ``?env_idx=`` | ``{"url", "html", "instruction_text"}`` |
| POST | /close | ``{"env_idx"}`` | ``{"env_idx", "closed": true}`` |

``session_id`` picks the shopper's instruction (it is the seed); without it the instance
draws the next one.
"""

from __future__ import annotations

import re
from typing import Any

from agentgym.server.fields import command, instance_id, optional_index
from agentgym.server.instances import EnvPool
from agentgym.server.protocols.base import Protocol, close_env_idx, hello, list_envs

KEYS = ("env_idx",)
_CLICKABLE = re.compile(r"(\[[^\]]*\])")


def sep_text(page_kind: str, page_text: str) -> str:
    """Our shop page's text in WebShop's text mode: parts joined by ' [SEP] '."""
    parts = ["WebShop"] if page_kind == "search" else []
    for line in page_text.splitlines():
        if line.startswith("Instruction:"):
            parts += ["Instruction:", line.removeprefix("Instruction:").strip()]
            continue
        if line.strip() == "[search] Search":  # the search box: WebShop shows 'Search'
            parts.append("Search")
            continue
        for piece in _CLICKABLE.split(line):
            piece = piece.strip()
            if piece:
                parts.append(
                    piece[1:-1] if piece.startswith("[") and piece.endswith("]") else piece
                )
    return " [SEP] ".join(parts)


def _page(env: Any) -> str:
    shop = env.unwrapped
    return sep_text(shop.page.kind, shop.page.text)


def create(pool: EnvPool, fields: dict[str, Any]) -> int:
    return pool.create()


def reset(pool: EnvPool, fields: dict[str, Any]) -> list[Any]:
    idx = instance_id(fields, KEYS)
    pool.reset(idx, optional_index(fields, "session_id"))
    return [pool.call(idx, _page), None]


def step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, KEYS)
    out = pool.step(idx, command(fields))
    return {
        "state": pool.call(idx, _page),
        "reward": out["reward"],
        "done": out["done"],
        "info": None,
    }


def available_actions(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    def read(env: Any) -> dict[str, Any]:
        page = env.unwrapped.page
        return {"has_search_bar": bool(page.has_search), "clickables": list(page.clickables)}

    return pool.call(instance_id(fields, KEYS), read)


def instruction_text(pool: EnvPool, fields: dict[str, Any]) -> str:
    return pool.call(instance_id(fields, KEYS), lambda env: f"Instruction: {env.unwrapped.mission}")


def observation(pool: EnvPool, fields: dict[str, Any]) -> str:
    return pool.call(instance_id(fields, KEYS), _page)


def state(pool: EnvPool, fields: dict[str, Any]) -> dict[str, str]:
    def read(env: Any) -> dict[str, str]:
        shop = env.unwrapped
        return {
            "url": shop.url,
            "html": shop.html,
            "instruction_text": f"Instruction: {shop.mission}",
        }

    return pool.call(instance_id(fields, KEYS), read)


WEBSHOP = Protocol(
    name="webshop",
    agentgym_family="WebShop (agentenv-webshop)",
    tags=("webshop",),
    routes={
        ("GET", "/"): hello,
        ("GET", "/list_envs"): list_envs,
        ("POST", "/create"): create,
        ("POST", "/reset"): reset,
        ("POST", "/step"): step,
        ("GET", "/available_actions"): available_actions,
        ("GET", "/instruction_text"): instruction_text,
        ("GET", "/observation"): observation,
        ("GET", "/state"): state,
        ("POST", "/close"): close_env_idx,
    },
)
