"""The shop's web server: a real ``ThreadingHTTPServer`` on 127.0.0.1 serving HTML pages.

Pages, as in WebShop: search (the instruction and a search box), results (ten products
a page, ``< prev`` / ``next >``), item (title, price, features, options, ``buy now``)
and the purchase confirmation. Every clickable element is an ``<a>`` with a
``data-label`` (what an agent clicks), so the text mode and Chromium click the same
things. Sessions live under ``/<session>/``; each env owns one server and one session
per episode, and reads the purchase from it.
"""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from agentgym.envs.web.shop.catalogue import Catalogue, Goal, Product

log = logging.getLogger(__name__)

RESULTS_PER_PAGE = 10
MAX_RESULTS = 50


@dataclass
class Session:
    goal: Goal
    purchase: tuple[str, dict[str, str]] | None = None
    """(product id, chosen options) once ``buy now`` was clicked."""
    pages_served: int = 0


@dataclass
class ShopState:
    catalogue: Catalogue
    sessions: dict[str, Session] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _link(label: str, href: str, text: str | None = None, selected: bool = False) -> str:
    cls = "clickable selected" if selected else "clickable"
    return (
        f'<a class="{cls}" data-label="{html.escape(label)}" href="{html.escape(href)}">'
        f"{html.escape(text if text is not None else label)}</a>"
    )


def _page(title: str, goal: Goal, body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f'<div id="instruction">Instruction: {html.escape(goal.instruction)}</div>'
        f'<div id="page" data-page="{title.lower()}">{body}</div></body></html>'
    )


def search_page(sid: str, goal: Goal) -> str:
    form = (
        f'<form data-label="search" action="/{sid}/search" method="get">'
        '<input type="text" name="q" id="search_input" value="">'
        '<button type="submit" id="search_button">Search</button></form>'
    )
    return _page("Search", goal, form)


def results_page(sid: str, goal: Goal, query: str, results: list[Product], page: int) -> str:
    pages = max(1, -(-len(results) // RESULTS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = results[(page - 1) * RESULTS_PER_PAGE : page * RESULTS_PER_PAGE]
    nav = [_link("back to search", f"/{sid}/")]
    if page > 1:
        nav.append(_link("< prev", f"/{sid}/search?{urlencode({'q': query, 'page': page - 1})}"))
    if page < pages:
        nav.append(_link("next >", f"/{sid}/search?{urlencode({'q': query, 'page': page + 1})}"))
    rows = "".join(
        f"<li>{_link(p.id.lower(), f'/{sid}/item/{p.id}?' + urlencode({'q': query, 'page': page}), p.id)}"
        f' <span class="title">{html.escape(p.title)}</span>'
        f' <span class="price">${p.price:.2f}</span></li>'
        for p in shown
    )
    summary = (
        f"<p>Page {page} of {pages} ({len(results)} results for "
        f"&quot;{html.escape(query)}&quot;)</p>"
    )
    return _page("Results", goal, "<p>" + " ".join(nav) + "</p>" + summary + f"<ul>{rows}</ul>")


def item_page(
    sid: str, goal: Goal, product: Product, query: str, page: int, chosen: dict[str, str]
) -> str:
    base = {"q": query, "page": page}
    nav = [_link("back to search", f"/{sid}/"), _link("< prev", f"/{sid}/search?{urlencode(base)}")]
    option_rows = []
    for name, values in product.options.items():
        links = []
        for value in values:
            params = {**base, **chosen, name: value}
            links.append(
                _link(
                    value,
                    f"/{sid}/item/{product.id}?{urlencode(params)}",
                    selected=chosen.get(name) == value,
                )
            )
        option_rows.append(f'<p class="option">{html.escape(name)}: {" ".join(links)}</p>')
    buy = _link("buy now", f"/{sid}/buy/{product.id}?{urlencode(chosen)}")
    body = (
        "<p>" + " ".join(nav) + "</p>"
        f'<h2 class="title">{html.escape(product.title)}</h2>'
        f'<p class="price">Price: ${product.price:.2f}</p>'
        f'<p class="rating">Rating: {product.rating:.1f}</p>'
        f'<p class="features">Features: {html.escape(", ".join(product.attributes))}</p>'
        + "".join(option_rows)
        + f"<p>{buy}</p>"
    )
    return _page("Item", goal, body)


def done_page(goal: Goal, product: Product, chosen: dict[str, str]) -> str:
    opts = ", ".join(f"{k}: {v}" for k, v in chosen.items()) or "none"
    body = (
        f"<p>Thank you for shopping with us!</p>"
        f'<p class="purchased">You bought {html.escape(product.title)} '
        f"({html.escape(product.id)}) for ${product.price:.2f}, options: {html.escape(opts)}.</p>"
    )
    return _page("Done", goal, body)


class ShopHandler(BaseHTTPRequestHandler):
    server: ShopServer  # type: ignore[assignment]

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        log.debug("shop %s: " + format, self.address_string(), *args)

    def _send(self, status: int, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        state = self.server.state
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if not parts or parts[0] not in state.sessions:
            self._send(404, "<html><body><p>Unknown session.</p></body></html>")
            return
        sid, session = parts[0], state.sessions[parts[0]]
        goal, rest = session.goal, parts[1:]
        with state.lock:
            session.pages_served += 1
        if not rest:
            self._send(200, search_page(sid, goal))
            return
        if rest[0] == "search":
            q = query.get("q", "")
            try:
                page = int(query.get("page", "1"))
            except ValueError:
                page = 1
            results = state.catalogue.search(q, limit=MAX_RESULTS)
            self._send(200, results_page(sid, goal, q, results, page))
            return
        if rest[0] in ("item", "buy") and len(rest) == 2 and rest[1] in state.catalogue.by_id:
            product = state.catalogue.by_id[rest[1]]
            chosen = {k: query[k] for k in product.options if k in query}
            if rest[0] == "item":
                try:
                    page = int(query.get("page", "1"))
                except ValueError:
                    page = 1
                self._send(200, item_page(sid, goal, product, query.get("q", ""), page, chosen))
            else:
                with state.lock:
                    session.purchase = (product.id, chosen)
                self._send(200, done_page(goal, product, chosen))
            return
        self._send(404, f"<html><body><p>No page {html.escape(quote(url.path))}.</p></body></html>")


class ShopServer(ThreadingHTTPServer):
    """The shop on ``127.0.0.1:<free port>``, serving from a daemon thread."""

    daemon_threads = True

    def __init__(self, catalogue: Catalogue, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), ShopHandler)
        self.state = ShopState(catalogue)
        self._thread = threading.Thread(target=self.serve_forever, name="shop-server", daemon=True)
        self._thread.start()
        log.info("shop serving on %s", self.base_url)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def new_session(self, sid: str, goal: Goal) -> str:
        """Register a session and return the URL of its search page."""
        with self.state.lock:
            self.state.sessions[sid] = Session(goal)
        return f"{self.base_url}/{sid}/"

    def end_session(self, sid: str) -> None:
        """Forget a finished episode's session (its pages then answer 404)."""
        with self.state.lock:
            self.state.sessions.pop(sid, None)

    def session(self, sid: str) -> Session:
        return self.state.sessions[sid]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
