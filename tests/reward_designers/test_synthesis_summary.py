"""The report's Summary of a synthesis run shows the search's reward and steps.

It used to read the settings every candidate trained with: "reward env" (or None) and
"steps 0 of N" (or 0 of 0), since a synthesis run has no training rows at its top.
"""

from __future__ import annotations

import re

from agentgym.reward_designers.synthesis import SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import (
    REJECTED,
    TRAINED,
    Candidate,
    sample_dir,
    write_json,
)
from agentgym.reward_designers.synthesis.summary import summary_rows
from agentgym.runs.report import build_report

CONFIG = dict(env_id="agentgym/Reach-v0", designer="library", iterations=2, samples=2, steps=2048)


def _summary_table(html: str) -> dict[str, str]:
    body = html[html.index("Summary</h2>") :]
    body = body[: body.index("</table>")]
    return dict(re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", body))


def test_a_new_synthesis_run_summary_shows_its_budget_not_a_candidates_settings(tmp_path):
    run, _ = open_run(SynthesisConfig(**CONFIG), tmp_path / "run")
    table = _summary_table(build_report(run).read_text())
    assert table["reward"] == "no candidate trained yet"  # was "env" (or None)
    assert table["steps"].startswith("0 of 8,192 (2 iterations x 2 samples x 2,048")


def test_the_summary_names_the_best_program_and_counts_every_candidates_steps(tmp_path):
    config = SynthesisConfig(**CONFIG)
    run, _ = open_run(config, tmp_path / "run")
    for index, (status, step, success) in enumerate(
        [(TRAINED, 2048, 0.25), (TRAINED, 2048, 0.75), (REJECTED, None, None)]
    ):
        candidate = Candidate(divmod(index, 2)[0], index % 2, status, step=step, success=success)
        write_json(
            sample_dir(run.path, candidate.iteration, candidate.index) / "result.json",
            candidate.to_dict(),
        )
    write_json(run.path / "final.json", {"final": {"seeds": [0, 1, 2], "steps": 4096}})
    run.update_manifest(summary=summary_rows(run.path, config))
    table = _summary_table(build_report(run).read_text())
    assert table["reward"] == "best_reward.py: iter_00/sample_01 (search success 0.75)"
    assert table["steps"].startswith("4,096 of 8,192")
    assert table["final retraining steps"] == "12,288 per reward (3 seeds x 4,096)"
