"""Turn a shop page's HTML into the text an agent reads, with its clickable labels.

The text mode and the browser mode both parse the HTML they were served (or that
Chromium holds) with this stdlib ``html.parser``, so both see the same observation.
A clickable shows as ``[label]``, a selected option as ``[label] (selected)``, and the
search box as ``[search]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

BLOCK_TAGS = {"p", "div", "li", "h1", "h2", "h3", "form", "ul", "br", "tr", "title"}


@dataclass
class ShopPage:
    """A parsed page: kind (search, results, item, done), text and clickables."""

    kind: str
    text: str
    links: dict[str, str] = field(default_factory=dict)
    """Clickable label (lower case) -> href."""
    selected: set[str] = field(default_factory=set)
    has_search: bool = False

    @property
    def clickables(self) -> list[str]:
        return list(self.links)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.links: dict[str, str] = {}
        self.selected: set[str] = set()
        self.kind = "unknown"
        self.has_search = False
        self._in_title = False
        self._link: tuple[str, str, bool] | None = None
        self._link_text = ""

    def _newline(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def _emit(self, text: str) -> None:
        if text:
            sep = " " if self.lines[-1] and not self.lines[-1].endswith(" ") else ""
            self.lines[-1] += sep + text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        if tag in BLOCK_TAGS:
            self._newline()
        if "data-page" in a:
            self.kind = a["data-page"]
        if tag == "a" and "data-label" in a:
            selected = "selected" in a.get("class", "").split()
            self._link = (a["data-label"].lower(), a.get("href", ""), selected)
            self._link_text = ""
        if tag == "input" and a.get("name") == "q":
            self.has_search = True
            self._emit("[search]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "a" and self._link is not None:
            label, href, selected = self._link
            self.links[label] = href
            text = " ".join(self._link_text.split())
            shown = f"[{label}]" if text.lower() == label else f"[{label}] {text}"
            if selected:
                self.selected.add(label)
                shown += " (selected)"
            self._emit(shown)
            self._link = None
        if tag in BLOCK_TAGS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            return
        if self._link is not None:
            self._link_text += data
            return
        text = " ".join(data.split())
        self._emit(text)


def parse_page(html_text: str) -> ShopPage:
    """Parse one served page (search, results, item or done)."""
    parser = _Parser()
    parser.feed(html_text)
    parser.close()
    lines = [re.sub(r"\s+", " ", line).strip() for line in parser.lines]
    text = "\n".join(line for line in lines if line)
    return ShopPage(parser.kind, text, parser.links, parser.selected, parser.has_search)
