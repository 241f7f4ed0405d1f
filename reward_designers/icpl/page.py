"""The ranking page of one icpl iteration (``iter_NN/ranking.html``).

One card per trained candidate: its evaluation video (linked relative to the iteration's
folder, so the page works from the run folder and from ``agentgym reward rank``'s
server), its program and, folded away, its training numbers. The form posts one rank
per sample (``rank_KK``) to ``/ranking``: as JSON from the page's script, or as a plain
form without it. Opened as a file, the page says which command serves it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from agentgym.reward_designers.icpl.ranking import page_path
from agentgym.reward_designers.synthesis.candidates import Candidate, iteration_dir, sample_dir

VIDEO_SUFFIXES = (".mp4", ".webm", ".gif")

SCRIPT = """
document.getElementById('ranking').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = document.getElementById('result');
  if (location.protocol === 'file:') {
    out.textContent = 'This page is a file: run the command above to rank from a browser.';
    return;
  }
  const body = {};
  for (const select of event.target.querySelectorAll('select')) body[select.name] = select.value;
  const reply = await fetch('ranking', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const data = await reply.json();
  out.textContent = reply.ok ? `Saved ${data.saved}. Continue with: ${data.resume}` : data.error;
  out.className = reply.ok ? 'ok' : 'error';
});
"""

STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:1em auto}
.cards{display:flex;flex-wrap:wrap;gap:1em}
.card{border:1px solid #ccc;padding:.6em;width:340px}
video,img.video{width:320px}
pre{max-height:14em;overflow:auto;font-size:11px;background:#f6f6f6}
.error{color:#b00}.ok{color:#070}
"""


def video_of(run: Path, iteration: int, index: int) -> Path | None:
    """The evaluation video a candidate's training recorded, if any."""
    folder = sample_dir(run, iteration, index) / "train" / "videos"
    found = sorted(p for p in folder.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    return found[0] if found else None


def _video_tag(rel: str) -> str:
    src = html.escape(rel)
    if rel.endswith(".gif"):
        return f'<img class="video" src="{src}" alt="{src}">'
    return f'<video controls muted loop playsinline src="{src}"></video>'


def write_page(
    run: Path,
    iteration: int,
    candidates: Sequence[Candidate],
    sources: Mapping[int, str],
    task_name: str,
    instruction: str,
) -> Path:
    """Write ``iter_NN/ranking.html`` for the trained ``candidates``; returns its path."""
    from agentgym.reward_designers.synthesis.candidates import TRAINED

    folder = iteration_dir(run, iteration)
    trained = [c for c in candidates if c.status == TRAINED]
    n = len(trained)
    cards = []
    for c in trained:
        video = video_of(run, iteration, c.index)
        shown = (
            _video_tag(video.relative_to(folder).as_posix())
            if video is not None
            else "<p><i>no video: this env does not render</i></p>"
        )
        options = "".join(f'<option value="{r}">{r}</option>' for r in range(1, n + 1))
        numbers = (
            f"success {c.success if c.success is not None else '-'}, fitness "
            f"{c.fitness if c.fitness is not None else '-'}, env return "
            f"{c.mean_return if c.mean_return is not None else '-'}"
        )
        cards.append(
            f'<div class="card"><h3>sample {c.index:02d}</h3>{shown}'
            f'<p><label>rank <select name="rank_{c.index:02d}">{options}</select></label> '
            f"(1 = best)</p>"
            f"<details><summary>program</summary><pre>"
            f"{html.escape(sources.get(c.index, ''))}</pre></details>"
            f"<details><summary>training numbers</summary><p>{html.escape(numbers)}</p>"
            f"</details></div>"
        )
    run_arg = html.escape(str(run))
    if n < 2:
        cards.append(
            f"<p><b>Nothing to rank:</b> {n} of {len(candidates)} candidates trained (the "
            "others were rejected or failed; their errors go back to the LLM instead).</p>"
        )
    body = (
        f"<h1>Rank the policies of iteration {iteration}</h1>"
        f"<p>{html.escape(task_name)}: {html.escape(instruction)}</p>"
        f"<p>Watch each policy and give each a different rank, 1 the one that does the task "
        f"best. The ranking and the programs go into the next prompt, best first. Serve this "
        f"page with <code>agentgym reward rank {run_arg}</code> to save from the browser, or "
        f"rank in the terminal with <code>agentgym reward rank {run_arg} --terminal</code>; "
        f"then <code>agentgym reward synthesize --resume {run_arg}</code>.</p>"
        f'<form id="ranking" method="post" action="ranking"><div class="cards">'
        f'{"".join(cards)}</div><p><button type="submit">Save ranking</button></p></form>'
        f'<p id="result"></p>'
    )
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Ranking, iteration '
        f"{iteration}</title><style>{STYLE}</style></head><body>{body}"
        f"<script>{SCRIPT}</script></body></html>"
    )
    path = page_path(run, iteration)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
