"""The adversarial and benign corpora through ``vet_many`` (the path ``vet`` takes too).

Each adversarial program is its own case with the code it must get; the containment
checks run over the whole corpus: canary file unchanged, 0 bytes at the loopback canary,
no secret in any verdict or file, nothing left running.
"""

from __future__ import annotations

import pytest

from agentgym.sandbox import Code, vet_many
from tests.sandbox.corpus import ADVERSARIAL, BENIGN
from tests.sandbox.leftovers import files_text, processes_mentioning

ENV = "agentgym/Reach-v0"
MAX_MESSAGE = 500  # an LLM-facing message stays short


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory, canary_server, canary_file, secret, secret_file):
    def fill(source: str) -> str:
        return (
            source.replace("{port}", str(canary_server.port))
            .replace("{canary}", str(canary_file))
            .replace("{secret_file}", str(secret_file))
        )

    run_dir = tmp_path_factory.mktemp("adversarial")
    before = canary_file.read_bytes()
    verdicts = vet_many(
        [fill(src) for _, src, _, _ in ADVERSARIAL], ENV, run_dir=run_dir, timeout_s=8
    )
    return {"verdicts": verdicts, "run_dir": run_dir, "canary_before": before}


@pytest.mark.parametrize(
    ("index", "expected", "stage"),
    [(i, code, stage) for i, (_, _, code, stage) in enumerate(ADVERSARIAL)],
    ids=[name for name, _, _, _ in ADVERSARIAL],
)
def test_adversarial_program_is_rejected_with_its_code(adversarial, secret, index, expected, stage):
    verdict = adversarial["verdicts"][index]
    assert not verdict.ok
    assert verdict.code == Code(expected), verdict.message
    assert verdict.stage == stage
    assert verdict.message and len(verdict.message) <= MAX_MESSAGE
    assert secret not in verdict.message and secret not in verdict.detail


def test_adversarial_corpus_is_contained(adversarial, canary_server, canary_file, secret):
    assert len(ADVERSARIAL) >= 80
    assert canary_file.read_bytes() == adversarial["canary_before"]
    assert canary_server.received == 0 and canary_server.connections == 0
    assert secret not in files_text(adversarial["run_dir"])
    assert processes_mentioning(str(adversarial["run_dir"])) == []
    for verdict in adversarial["verdicts"]:
        for text in (verdict.message, verdict.detail):
            assert not any(c in text for c in "\x1b\x07\x00\x9b"), text[:200]
    names = [name for name, _, _, _ in ADVERSARIAL]
    ansi = adversarial["verdicts"][names.index("ansi_in_exception")]
    assert "boom" in ansi.message and "owned" not in ansi.message
    # A line printed to look like a result is output, never a verdict.
    for forged in ("forged_result_line", "forged_progress_line"):
        assert not adversarial["verdicts"][names.index(forged)].ok
    dry = [v for v in adversarial["verdicts"] if v.stage == "dry_run"]
    assert dry and all(v.isolation in ("bwrap", "netns", "rlimits") for v in dry)


@pytest.fixture(scope="module")
def benign(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("benign")
    return vet_many([src for _, src in BENIGN], ENV, run_dir=run_dir, timeout_s=20)


@pytest.mark.parametrize("index", range(len(BENIGN)), ids=[name for name, _ in BENIGN])
def test_benign_program_passes(benign, index):
    verdict = benign[index]
    assert verdict.ok, f"{verdict.code}: {verdict.message}\n{verdict.detail}"
    assert verdict.code is None and verdict.stage == "dry_run"
    # Reward statistics over the recorded states come back for reward reflection.
    assert (
        set(verdict.stats) >= {"reward"}
        and verdict.stats["reward"]["min"] <= verdict.stats["reward"]["max"]
    )


def test_the_benign_corpus_has_at_least_20_programs_and_all_pass(benign):
    assert len(BENIGN) >= 20 and sum(v.ok for v in benign) == len(BENIGN)


def test_benign_programs_report_their_named_terms_and_a_residual(benign):
    names = dict(zip([n for n, _ in BENIGN], benign, strict=True))
    assert names["eureka_temperature"].terms == ["action_penalty", "dist_reward", "residual"]
    assert names["text2reward_helpers"].terms == ["control", "distance"]
    assert names["eureka_no_components"].terms == ["residual"]  # the whole reward, unexplained
