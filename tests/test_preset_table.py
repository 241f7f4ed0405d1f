"""scripts/preset_table.py: where it trains, and which earlier rows it keeps."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import agentgym.presets as presets

ROOT = Path(__file__).resolve().parent.parent
ENV = "agentgym/CartPole-v0"


def _script():
    spec = importlib.util.spec_from_file_location(
        "preset_table", ROOT / "scripts" / "preset_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_changed_preset_trains_in_a_folder_of_its_own(monkeypatch, tmp_path):
    table = _script()
    trained = []

    def evaluate(env_id, spec, out, seeds, eval_every=0):
        trained.append(out)
        return {"mean": 1.0, "success": [1.0] * seeds}

    monkeypatch.setattr(table, "evaluate", evaluate)
    base = presets.preset_for(ENV)
    first = table.measure(ENV, tmp_path, 3, ("human",))
    again = table.measure(ENV, tmp_path, 3, ("human",))
    longer = dataclasses.replace(base, steps=base.steps * 2)
    monkeypatch.setattr(presets, "preset_for", lambda env_id, learner=None: longer)
    changed = table.measure(ENV, tmp_path, 3, ("sparse",), earlier=first)
    assert trained[0] == trained[1]  # the same preset: the same folder, its eval.json reused
    assert trained[2].name == "sparse" and trained[2].parent != trained[0].parent
    assert trained[0].name == "human" and trained[0].parent.parent == tmp_path / "CartPole-v0"
    assert first == again and changed["preset"]["steps"] == base.steps * 2
    assert "human" not in changed  # measured under the old budget: not carried over
    kept = table.measure(
        ENV, tmp_path, 3, ("sparse",), earlier={**changed, "human": first["human"]}
    )
    assert kept["human"] == first["human"]  # the same preset: the other reward's row stays


def test_the_other_reward_finished_under_the_same_preset_is_read_from_its_folder(
    monkeypatch, tmp_path
):
    """Two processes measuring one task's sparse and human rewards side by side: whichever
    writes the row last takes the other's result from its folder, not from a stale row."""
    table = _script()

    def evaluate(env_id, spec, out, seeds, eval_every=0):
        result = {"mean": 0.5 if spec == "sparse" else 1.0, "success": [1.0] * seeds}
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval.json").write_text("{}")  # what a finished `reward eval` leaves
        return result

    monkeypatch.setattr(table, "evaluate", evaluate)
    human = table.measure(ENV, tmp_path, 3, ("human",), earlier=None)
    assert "sparse" not in human  # nothing finished yet, no earlier row
    sparse = table.measure(ENV, tmp_path, 3, ("sparse",), earlier=None)
    assert sparse["sparse"]["mean"] == 0.5 and sparse["human"]["mean"] == 1.0


def test_the_other_reward_finishing_while_this_one_trains_is_in_the_row(monkeypatch, tmp_path):
    """Started side by side, the sparse run finishes while the human one still trains: the
    human process, writing the row last, takes the sparse result finished meanwhile."""
    table = _script()

    def evaluate(env_id, spec, out, seeds, eval_every=0):
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval.json").write_text("{}")
        if spec != "sparse":  # the other process finishes during this training
            (out.parent / "sparse").mkdir(exist_ok=True)
            (out.parent / "sparse" / "eval.json").write_text("{}")
        return {"mean": 0.5 if spec == "sparse" else 1.0, "success": [1.0] * seeds}

    monkeypatch.setattr(table, "evaluate", evaluate)
    human = table.measure(ENV, tmp_path, 3, ("human",), earlier=None)
    assert human["human"]["mean"] == 1.0 and human["sparse"]["mean"] == 0.5
