"""``report.html``: a self-contained page built from a run folder alone.

The page is a list of sections. Each section comes from a *section builder*, a function
``build(ctx: ReportContext) -> Section | list[Section] | None`` that looks at the run
folder and returns None when it has nothing to show (no success flag, no video...).
Builders are found in two places, so a new feature adds a section without editing
this file:

- every module of ``agentgym.runs.sections`` that defines ``build`` (discovered, like
  the CLI's commands);
- ``"module:function"`` targets listed under ``report_sections`` in the run's
  manifest.json (``RunDir.add_report_section``), for sections that belong to another
  package (a synthesis report, VLM reward diagnostics).

Plots are inline PNGs (matplotlib's Agg backend), videos are embedded as data URIs up
to ``MAX_EMBED_BYTES`` and linked beyond; every piece of text from the run is escaped.
"""

from __future__ import annotations

import base64
import functools
import html
import importlib
import logging
import os
import pkgutil
import traceback
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.registry import load_target
from agentgym.runs.rundir import RunDir

log = logging.getLogger(__name__)

MAX_EMBED_BYTES = 25 * 2**20
"""Videos larger than this are linked (relative path) instead of embedded."""


@dataclass(frozen=True)
class Section:
    """One part of the report: a title and a body of trusted HTML."""

    title: str
    body: str
    order: float = 50.0
    """Sections are sorted by order, then title; the built-in ones use 10, 20, ... 90."""
    anchor: str = ""


SectionBuilder = Callable[["ReportContext"], Section | Iterable[Section] | None]


@dataclass
class ReportContext:
    """What a section builder may read: the run folder and helpers to render it."""

    run: RunDir
    config: dict[str, Any]
    manifest: dict[str, Any]
    _rows: list[dict[str, Any]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, run: RunDir) -> ReportContext:
        return cls(run=run, config=run.read_config(), manifest=run.read_manifest())

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows of logs/metrics.jsonl (read once)."""
        if self._rows is None:
            self._rows = self.run.metrics()
        return self._rows

    # -- HTML helpers -------------------------------------------------------------
    @staticmethod
    def escape(text: Any) -> str:
        return html.escape(str(text), quote=True)

    def png(self, data: bytes, alt: str) -> str:
        """An inline ``<img>`` of PNG bytes."""
        encoded = base64.b64encode(data).decode("ascii")
        return f'<img class="plot" alt="{self.escape(alt)}" src="data:image/png;base64,{encoded}">'

    def plot(
        self,
        curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
        *,
        title: str,
        ylabel: str,
        xlabel: str = "environment steps",
    ) -> str:
        """A line plot of named (x, y) curves as an inline PNG ("" when all are empty)."""
        from agentgym.runs.plots import line_plot

        curves = {k: v for k, v in curves.items() if len(v[0])}
        if not curves:
            return ""
        return self.png(line_plot(curves, title=title, xlabel=xlabel, ylabel=ylabel), title)

    def table(
        self,
        rows: Iterable[Sequence[Any]],
        header: Sequence[str] | None = None,
        *,
        keys: bool = True,
        digits: int = 4,
        highlight: Collection[int] = (),
    ) -> str:
        """The one table of every report: cells escaped and numbers formatted
        (``format_value``) unless they are ``Html``. With ``keys`` the first column holds
        the rows' names (a key/value table); rows whose index is in ``highlight`` stand out."""

        def cell(tag: str, value: Any) -> str:
            text = value if isinstance(value, Html) else self.escape(format_value(value, digits))
            return f"<{tag}>{text}</{tag}>"

        head = "<tr>" + "".join(cell("th", h) for h in header) + "</tr>" if header else ""
        body = "".join(
            ('<tr class="highlight">' if i in highlight else "<tr>")
            + "".join(cell("th" if keys and j == 0 else "td", v) for j, v in enumerate(row))
            + "</tr>"
            for i, row in enumerate(rows)
        )
        opening = '<table class="kv">' if keys else "<table>"
        return f"{opening}{head}{body}</table>"

    def video(self, path: str | Path, caption: str = "") -> str:
        """Embed a video (mp4/webm as <video>, gif as <img>) or link it when too large."""
        path = Path(path)
        if not path.is_absolute():
            path = self.run.path / path
        if not path.is_file():
            return f'<p class="missing">video {self.escape(path.name)} is missing from the run folder</p>'
        try:
            rel = self.run.relative(path)
        except ValueError:
            rel = str(path)
        cap = f"<figcaption>{self.escape(caption or rel)}</figcaption>"
        suffix = path.suffix.lower()
        if path.stat().st_size > MAX_EMBED_BYTES:
            return f'<figure><a href="{self.escape(rel)}">{self.escape(rel)}</a>{cap}</figure>'
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        if suffix == ".gif":
            return f'<figure><img class="video" alt="{self.escape(rel)}" src="data:image/gif;base64,{data}">{cap}</figure>'
        mime = {".mp4": "video/mp4", ".webm": "video/webm"}.get(suffix, "application/octet-stream")
        return (
            f'<figure><video class="video" controls muted loop playsinline '
            f'src="data:{mime};base64,{data}" title="{self.escape(rel)}"></video>{cap}</figure>'
        )


class Html(str):
    """Trusted HTML (a link, a ``<code>`` span): a table cell that is not escaped."""


def format_value(value: Any, digits: int = 4) -> str:
    """A value as a report shows it: None as "-", a float to ``digits`` significant digits."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


@functools.lru_cache(maxsize=1)
def _builtin_builders() -> tuple[tuple[str, SectionBuilder], ...]:
    from agentgym.runs import sections

    found = []
    for info in sorted(pkgutil.iter_modules(sections.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{sections.__name__}.{info.name}")
        if callable(getattr(module, "build", None)):
            found.append((f"{sections.__name__}.{info.name}:build", module.build))
    return tuple(found)


def section_builders(run: RunDir | None = None) -> list[tuple[str, SectionBuilder]]:
    """Every builder that applies to ``run``: the built-in ones, then the manifest's."""
    builders = list(_builtin_builders())
    if run is not None:
        for target in run.read_manifest().get("report_sections", []):
            builders.append((target, _lazy(target)))
    return builders


def own_module(target: str) -> bool:
    """Whether ``"module:function"`` names a module of the installed agentgym package
    (by where its file lies, not by its name): the only kind a run folder may name."""
    import importlib.util

    module = target.partition(":")[0]
    if module != "agentgym" and not module.startswith("agentgym."):
        return False
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.origin:
        return False
    origin = Path(spec.origin).resolve()
    return any(origin.is_relative_to(root) for root in _package_roots())


@functools.cache
def _package_roots() -> tuple[Path, ...]:
    """The folders the agentgym distribution installs (envs/ and reward_designers/ live
    beside agentgym/ in a checkout: setuptools package-dir)."""
    import importlib.util

    roots = []
    for name in ("agentgym", "agentgym.envs", "agentgym.reward_designers"):
        spec = importlib.util.find_spec(name)
        roots += (
            [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
        )
    return tuple(roots)


TRUSTED_SECTIONS_VAR = "AGENTGYM_REPORT_SECTIONS"
"""Comma-separated ``module:function`` section builders outside agentgym that a rebuilt
report may import (``agentgym report RUN`` of a run whose command added its own)."""


def trusted_section(target: str) -> bool:
    """Whether a manifest's section target may be imported: one of agentgym's own, one
    a command added in this process (``RunDir.add_report_section``), or one the user
    lists in ``$AGENTGYM_REPORT_SECTIONS``. Never because a run folder names it."""
    listed = {t.strip() for t in os.environ.get(TRUSTED_SECTIONS_VAR, "").split(",")}
    return own_module(target) or target in RunDir.sections_added_here or target in listed


def _lazy(target: str) -> SectionBuilder:
    def build(ctx: ReportContext) -> Section | Iterable[Section] | None:
        if not trusted_section(target):
            # A run folder can come from someone else: its manifest must not choose
            # what code a report rebuild imports.
            raise ValueError(
                f"report_sections: {target!r} is not a section of the installed agentgym "
                f"package; list it in ${TRUSTED_SECTIONS_VAR} to rebuild it"
            )
        return load_target(target)(ctx)  # type: ignore[operator]

    return build


def _collect(name: str, builder: SectionBuilder, ctx: ReportContext) -> list[Section]:
    try:
        result = builder(ctx)
    except Exception as err:  # one broken section must not hide the rest of the report
        log.warning("report section %s failed: %s", name, err)
        detail = "".join(traceback.format_exception_only(type(err), err))
        return [
            Section(
                title=f"{name} (failed)",
                order=99.0,
                body=f'<pre class="error">{html.escape(detail)}</pre>',
            )
        ]
    if result is None:
        return []
    if isinstance(result, Section):
        return [result]
    return [s for s in result if s is not None]


def _anchor(title: str, used: set[str]) -> str:
    base = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-") or "section"
    anchor, n = base, 1
    while anchor in used:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def render_page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The HTML page around already-built sections."""
    used: set[str] = set()
    ordered = sorted(sections, key=lambda s: (s.order, s.title))
    anchors = [s.anchor or _anchor(s.title, used) for s in ordered]
    toc = "".join(
        f'<li><a href="#{html.escape(a)}">{html.escape(s.title)}</a></li>'
        for s, a in zip(ordered, anchors, strict=True)
    )
    body = "\n".join(
        f'<section id="{html.escape(a)}"><h2>{html.escape(s.title)}</h2>\n{s.body}\n</section>'
        for s, a in zip(ordered, anchors, strict=True)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body><header><h1>{html.escape(title)}</h1><p class="subtitle">{html.escape(subtitle)}</p>
<nav><ol>{toc}</ol></nav></header>
<main>
{body}
</main></body></html>
"""


def build_report(
    run_dir: str | Path | RunDir,
    *,
    extra_sections: Iterable[SectionBuilder] = (),
    out: str | Path | None = None,
) -> Path:
    """Build ``report.html`` of a run folder from the folder alone and return its path."""
    run = run_dir if isinstance(run_dir, RunDir) else RunDir.open(run_dir)
    ctx = ReportContext.load(run)
    sections: list[Section] = []
    builders = section_builders(run) + [
        (getattr(b, "__name__", "extra"), b) for b in extra_sections
    ]
    for name, builder in builders:
        sections.extend(_collect(name, builder, ctx))
    config = ctx.config
    env = config.get("env_id") or config.get("config", {}).get("env_id", "")
    title = f"agentgym {config.get('command', 'run')}: {env}"
    subtitle = f"{run.path.name} · {ctx.manifest.get('created', '')}"
    path = Path(out) if out is not None else run.report_path
    if path.is_dir():
        raise IsADirectoryError(f"out: {path} is a directory; give the page's file name")
    path.parent.mkdir(parents=True, exist_ok=True)  # --out into a folder not made yet
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_page(title, subtitle, sections), encoding="utf-8")
    tmp.replace(path)
    return path


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}.subtitle{margin:4px 0 8px;color:#b8c0cc}
nav ol{margin:0;padding-left:18px;columns:3}nav a{color:#9fd0ff}
main{padding:8px 32px 40px;max-width:1200px}
section{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:8px 20px 16px;margin:18px 0}
h2{font-size:18px;border-bottom:1px solid #eef0f3;padding-bottom:6px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #e3e6ea;padding:4px 10px;text-align:left}
table.kv th{background:#f4f6f8;font-weight:600}
tr.highlight{background:#e8f7e8;font-weight:600}
img.plot{max-width:100%;height:auto;display:block;margin:8px 0}
video.video,img.video{max-width:480px;display:block;border:1px solid #ddd}
pre{background:#f4f6f8;padding:10px;overflow:auto;font-size:13px}pre.error{background:#fff0f0;color:#900}
.missing{color:#900}figure{margin:10px 0}.grid{display:flex;flex-wrap:wrap;gap:12px}
.grid img.plot{max-width:calc(50% - 12px)}
"""
