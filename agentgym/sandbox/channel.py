"""The worker's way back: records sealed with a per-run key the program never sees.

The worker writes its result (``result.json``) and the dry run's verdicts
(``progress.jsonl``) into the run folder, which the program can write too: the folder is
its cwd. So a record counts only when it carries an HMAC-SHA256 tag made with a key
that the parent draws per run and hands to the worker on stdin; the worker reads it
before it imports the target, then points stdin at /dev/null, so the key is never on
disk, in the environment, in argv or on any open file descriptor the program could find.

Why a key and not a private file descriptor: an inherited descriptor is nameable
(``/proc/self/fd/N``) and inherited by whatever the program starts, so a program that
can write a file, the power most likely to slip past a vetter, could write into it.
Forging a tag needs the key, which is only in the worker's memory, where only the
introspection the allowlist rejects (frames, ``gc``, ``ctypes``) could reach it. The
parent also parses each record as data with a size cap and a fixed shape: a record that
is too big, not JSON, not a dict or badly tagged is refused, never "fixed".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

KEY_BYTES = 32
MAX_RECORD_BYTES = 4_000_000
"""The largest record the parent parses (a result with per-term stats is a few kB)."""

_key: bytes | None = None


class ForgedRecord(ValueError):
    """A record without a valid tag: written by something that does not hold the key."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def install(key: bytes) -> None:
    """Give this (worker) process the key it seals with; called before the target loads."""
    global _key
    if len(key) != KEY_BYTES:
        raise ValueError(f"the channel key must be {KEY_BYTES} bytes, got {len(key)}")
    _key = key


def _tag(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def seal(record: dict[str, Any], key: bytes | None = None) -> str:
    """One line: the record's JSON and its tag (with the installed key by default)."""
    key = key if key is not None else _key
    if key is None:
        raise RuntimeError("no channel key installed in this process")
    body = json.dumps(record, separators=(",", ":"))
    return json.dumps({"record": body, "tag": _tag(key, body)})


def open_sealed(line: str | bytes, key: bytes) -> dict[str, Any]:
    """The record of one sealed line; ``ForgedRecord`` if it is not one the key made."""
    if len(line) > MAX_RECORD_BYTES:
        raise ForgedRecord(f"a record of {len(line)} bytes (at most {MAX_RECORD_BYTES})")
    try:
        outer = json.loads(line)
        body, tag = outer["record"], outer["tag"]
    except (ValueError, TypeError, KeyError) as err:
        raise ForgedRecord(f"not a sealed record: {type(err).__name__}") from err
    if not (isinstance(body, str) and isinstance(tag, str)):
        raise ForgedRecord("not a sealed record: fields of the wrong type")
    if not hmac.compare_digest(_tag(key, body), tag):
        raise ForgedRecord("the tag does not match: not written by the worker")
    record = json.loads(body)
    if not isinstance(record, dict):
        raise ForgedRecord(f"a record must be an object, got {type(record).__name__}")
    return record
