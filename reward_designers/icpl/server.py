"""``RankingServer``: serves one iteration's ranking page on 127.0.0.1 and saves the
ranking its form posts.

    GET  /                 the page (iter_NN/ranking.html)
    GET  /sample_KK/...    the candidates' videos (only video files under the iteration)
    POST /ranking          JSON ``{"order": [...]}`` or ``{"rank_KK": n, ...}``, or the
                           same ``rank_KK`` fields form-encoded; 200 with where it was
                           saved, or 400 with the error naming the field

A ranking is checked (a permutation of the iteration's trained samples) and written
atomically before the answer; ``saved`` is set once one is, so ``wait`` can return.
Only loopback: the page shows reward programs and the server has no authentication.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from agentgym.reward_designers.icpl.page import VIDEO_SUFFIXES
from agentgym.reward_designers.icpl.ranking import (
    Ranking,
    check_order,
    order_from_ranks,
    page_path,
    rankable,
    resume_command,
    save_ranking,
)
from agentgym.reward_designers.synthesis.candidates import iteration_dir

MAX_BODY = 64 * 1024
"""A ranking is a few dozen bytes; anything far larger is refused unread."""
MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif"}


def parse_ranking(body: bytes, content_type: str, candidates: list[int]) -> list[int]:
    """The order a POST body gives; ValueError naming the field when it is unusable."""
    if "json" in content_type:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"body: expected JSON ({err})") from None
        if not isinstance(data, dict):
            raise ValueError(f"body: expected a JSON object, got {type(data).__name__}")
    else:
        data = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if "order" in data:
        return check_order(data["order"], candidates)
    return order_from_ranks(data, candidates)


class RankingServer:
    """A loopback HTTP server for ranking ``iteration`` of the run in ``run``."""

    def __init__(self, run: str | Path, iteration: int, port: int = 0) -> None:
        self.run = Path(run).resolve()
        self.iteration = iteration
        self.folder = iteration_dir(self.run, iteration).resolve()
        if not page_path(self.run, iteration).is_file():
            raise FileNotFoundError(
                f"--iteration {iteration}: {page_path(self.run, iteration)} does not exist "
                "(an icpl iteration writes it once its candidates are trained)"
            )
        self.saved: Path | None = None
        self._done = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> RankingServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def wait(self, timeout: float | None = None) -> Path | None:
        """Block until a ranking is saved (its path), or ``timeout`` seconds (None)."""
        self._done.wait(timeout)
        return self.saved

    def save(self, body: bytes, content_type: str) -> Path:
        order = parse_ranking(body, content_type, rankable(self.run, self.iteration))
        self.saved = save_ranking(self.run, Ranking(self.iteration, order, "human"))
        self._done.set()
        return self.saved

    def _file(self, path: str) -> Path | None:
        """The file a GET names: the page, or a video under the iteration's folder."""
        rel = path.split("?", 1)[0].lstrip("/")
        if rel in ("", "ranking.html"):
            return page_path(self.run, self.iteration)
        target = (self.folder / rel).resolve()
        if (
            target.is_file()
            and target.is_relative_to(self.folder)
            and target.suffix.lower() in VIDEO_SUFFIXES
        ):
            return target
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the command reports what matters; no access log on the terminal

            def _send(self, status: int, body: bytes, mime: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                target = server._file(self.path)
                if target is None:
                    self._send(404, b"not found", "text/plain")
                    return
                mime = MIME.get(target.suffix.lower(), "text/html; charset=utf-8")
                self._send(200, target.read_bytes(), mime)

            def do_POST(self) -> None:
                kind = self.headers.get("Content-Type", "")
                as_json = "json" in kind
                if self.path.split("?", 1)[0].rstrip("/") != "/ranking":
                    self._send(404, b"not found", "text/plain")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    if length > MAX_BODY:
                        raise ValueError(f"body: {length} bytes, at most {MAX_BODY} expected")
                    path = server.save(self.rfile.read(length), kind)
                except ValueError as err:
                    self._answer(400, {"error": str(err)}, as_json)
                    return
                self._answer(
                    200, {"saved": str(path), "resume": resume_command(server.run)}, as_json
                )

            def _answer(self, status: int, data: dict[str, str], as_json: bool) -> None:
                if as_json:
                    self._send(status, json.dumps(data).encode(), "application/json")
                    return
                import html

                text = "".join(f"<p>{k}: {html.escape(v)}</p>" for k, v in data.items())
                self._send(status, f"<!doctype html>{text}".encode(), "text/html; charset=utf-8")

        return Handler
