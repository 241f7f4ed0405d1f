"""Line plots for reports, rendered to PNG bytes with matplotlib's Agg canvas.

A ``Figure`` with its own ``FigureCanvasAgg`` touches no global pyplot state, so report
building works headless and inside other programs that use matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence


def line_plot(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    width: float = 7.0,
    height: float = 3.2,
) -> bytes:
    """PNG bytes of one axes with a line (and markers when short) per named curve."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, (xs, ys) in curves.items():
        ax.plot(
            list(xs), list(ys), label=label, marker="o" if len(xs) <= 12 else None, markersize=3
        )
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
