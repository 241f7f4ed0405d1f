"""Reward program: the source of each reward program the run trained on.

A run keeps a copy of every program its reward specs name in ``rewards/`` (a population
member's copy is in the population's folder); the report shows that copy, highlighted,
so the page alone says what the policy was optimising.
"""

from __future__ import annotations

from pathlib import Path

from agentgym.runs.report import Html, ReportContext, Section
from agentgym.runs.training import program_paths


def build(ctx: ReportContext) -> Section | None:
    specs = [str(s) for s in ctx.config.get("rewards") or []]
    parts = []
    for name in dict.fromkeys(Path(p).name for spec in specs for p in program_paths(spec)):
        copy = _kept_copy(ctx.run.path, name)
        if copy is None:
            parts.append(
                f'<h3>{ctx.escape(name)}</h3><p class="missing">the run folder keeps no copy '
                "of this program</p>"
            )
            continue
        parts.append(f"<h3>{ctx.escape(name)}</h3>{highlight_python(copy.read_text())}")
    if not parts:
        return None
    title = "Reward program" if len(parts) == 1 else "Reward programs"
    return Section(title, "".join(parts), order=80)


def _kept_copy(run: Path, name: str) -> Path | None:
    # A member lives in <population>/members/<member>/; its programs were copied once,
    # into the population's rewards/.
    for folder in (run / "rewards", run.parent.parent / "rewards"):
        if (folder / name).is_file():
            return folder / name
    return None


def highlight_python(source: str) -> Html:
    """``source`` as HTML: escaped and coloured by pygments (a dependency of rich), with
    inline styles so that the page needs no stylesheet of its own."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return Html(highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True)))
