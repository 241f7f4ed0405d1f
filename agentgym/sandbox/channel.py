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
import os
import secrets
import select
import struct
import time
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


# -- frames: the streaming worker's requests and answers over pipes ---------------------
# A frame is a JSON header and a binary body (arrays), framed by their lengths and, for
# answers, followed by an HMAC-SHA256 tag over all of it. The header carries a sequence
# number the reader checks, so a replayed answer is as wrong as a forged one.
FRAME_HEAD = struct.Struct("<II")
MAX_META_BYTES = 1_000_000
MAX_BODY_BYTES = 256_000_000
TAG_BYTES = hashlib.sha256().digest_size


def frame(meta: dict[str, Any], body: bytes = b"", key: bytes | None = None) -> bytes:
    """One frame; sealed (tag appended) when ``key`` is given."""
    text = json.dumps(meta, separators=(",", ":")).encode()
    data = FRAME_HEAD.pack(len(text), len(body)) + text + body
    if key is not None:
        data += hmac.new(key, data, hashlib.sha256).digest()
    return data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            # Try first, wait only when nothing is there: a select per read is a
            # measurable share of a small batch's round trip.
            try:
                chunk = os.read(fd, min(left, 1 << 20))
            except BlockingIOError:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                    raise TimeoutError(
                        f"no answer within the deadline ({n - left} of {n} bytes)"
                    ) from None
                continue
        else:
            chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(
    fd: int, key: bytes | None = None, timeout_s: float | None = None
) -> tuple[dict[str, Any], bytes]:
    """The next frame's header and body; with ``key``, ``ForgedRecord`` unless its tag is
    right. ``EOFError`` at the end of the pipe, ``TimeoutError`` past ``timeout_s`` (the
    descriptor is then made non-blocking, so a half-written frame cannot hang the reader)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    if deadline is not None:
        os.set_blocking(fd, False)
    head = _read_exact(fd, FRAME_HEAD.size, deadline)
    meta_len, body_len = FRAME_HEAD.unpack(head)
    if meta_len > MAX_META_BYTES or body_len > MAX_BODY_BYTES:
        raise ForgedRecord(f"a frame of {meta_len} + {body_len} bytes is over the size limit")
    rest = _read_exact(fd, meta_len + body_len + (TAG_BYTES if key is not None else 0), deadline)
    data = rest[: meta_len + body_len]
    if key is not None:
        tag = rest[meta_len + body_len :]
        if not hmac.compare_digest(hmac.new(key, head + data, hashlib.sha256).digest(), tag):
            raise ForgedRecord("the frame's tag does not match: not written by the worker")
    try:
        meta = json.loads(data[:meta_len])
    except ValueError as err:
        raise ForgedRecord(f"a frame header that is not JSON: {err}") from err
    if not isinstance(meta, dict):
        raise ForgedRecord(f"a frame header must be an object, got {type(meta).__name__}")
    return meta, data[meta_len:]


def installed_key() -> bytes:
    """The key this worker seals with (``RuntimeError`` outside a worker)."""
    if _key is None:
        raise RuntimeError("no channel key installed in this process")
    return _key


def in_worker() -> bool:
    """Whether this process is a sandbox worker (``_child`` installed a key before any
    target loaded); nothing in the environment can make it true."""
    return _key is not None
