"""Nothing comes back but data: sealed results, and one sanitiser for returned text."""

from __future__ import annotations

import json

import pytest

from agentgym.sandbox import Code, Limits, channel, run_in_worker, vet
from agentgym.sandbox.sanitize import clean
from agentgym.sandbox.vetting import _read_progress

HOSTILE = "tests.sandbox.hostile"
FAST = Limits(memory_mb=1024, cpu_s=20, max_processes=32, file_size_mb=8, output_chars=100_000)
ENV = "agentgym/Reach-v0"


def test_clean_removes_escapes_and_controls_and_caps_the_length():
    text = (
        "\x1b[2J\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x9b1mA\x00\x07\r\u202eB"
    )
    assert clean(text) == "link AB"
    assert len(clean("y" * 10_000)) == 500 and clean("y" * 10_000).endswith("…")
    assert clean("a\nb", newlines=False) == "a b" and clean("a\nb") == "a\nb"


def test_clean_redacts_the_parents_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-verysecret-123")
    assert clean("the key is sk-verysecret-123") == "the key is [redacted]"


def test_a_sealed_record_opens_only_with_its_key():
    key, other = channel.new_key(), channel.new_key()
    line = channel.seal({"ok": True, "value": 3}, key)
    assert channel.open_sealed(line, key) == {"ok": True, "value": 3}
    with pytest.raises(channel.ForgedRecord):
        channel.open_sealed(line, other)
    forged = json.dumps({"record": json.dumps({"ok": True}), "tag": "0" * 64})
    for bad in (forged, '{"ok": true}', "not json", "x" * (channel.MAX_RECORD_BYTES + 1)):
        with pytest.raises(channel.ForgedRecord):
            channel.open_sealed(bad, key)


def test_a_result_file_the_target_writes_itself_is_refused(tmp_path):
    result = run_in_worker(
        f"{HOSTILE}:forge_result", {}, run_dir=tmp_path / "w", limits=FAST, deadline_s=30
    )
    assert not result.ok and result.value is None
    assert result.code == Code.WORKER_ERROR
    assert "not sealed" in result.message
    assert '"forged"' in result.stdout_tail  # printed, and only ever treated as output


def test_progress_lines_the_program_appends_are_skipped(tmp_path):
    key = channel.new_key()
    path = tmp_path / "progress.jsonl"
    real = {"index": 0, "ok": False, "code": "RUNTIME_ERROR", "message": "raised"}
    with path.open("w") as fh:
        fh.write(channel.seal(real, key) + "\n")
        fh.write(json.dumps({**real, "index": 1, "ok": True, "code": None}) + "\n")
        fh.write(json.dumps({"record": json.dumps({"index": 1, "ok": True}), "tag": "0" * 64}))
        fh.write("\n" + channel.seal(real, key) + "\n")  # a replay of verdict 0
    assert _read_progress(path, key, 2) == [real]


def test_a_worker_that_forges_progress_gets_no_verdict_from_it(tmp_path):
    key = channel.new_key()
    run_dir = tmp_path / "w"
    result = run_in_worker(
        f"{HOSTILE}:forge_progress",
        {"index": 0},
        run_dir=run_dir,
        limits=FAST,
        deadline_s=30,
        channel_key=key,
    )
    assert result.ok and result.value == "forged"
    assert (run_dir / "progress.jsonl").read_text().count("index") == 2
    assert _read_progress(run_dir / "progress.jsonl", key, 1) == []


def test_an_exception_message_comes_back_inert_and_bounded(tmp_path):
    result = run_in_worker(
        f"{HOSTILE}:raise_with_escapes", {}, run_dir=tmp_path / "w", limits=FAST, deadline_s=30
    )
    assert result.code == Code.RUNTIME_ERROR
    for text in (result.message, result.detail, result.stderr_tail):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "\x00" not in text
    assert "red" in result.message and len(result.message) <= 500


def test_program_chosen_term_names_and_messages_are_cleaned_by_vetting(tmp_path):
    source = (
        "import torch\n\ndef compute_reward(state, action):\n"
        "    d = torch.linalg.vector_norm(state['fingertip_pos'] - state['target_pos'], dim=-1)\n"
        "    return -d, {'\\x1b[31m[bold]dist\\x1b]0;x\\x07\\nnext': -d}\n"
    )
    verdict = vet(source, ENV, run_dir=tmp_path / "ok", timeout_s=20)
    assert verdict.ok, verdict.message
    assert verdict.terms == ["[bold]dist next"]
    assert all("\x1b" not in k for k in verdict.stats)
    boom = (
        "import torch\n\ndef compute_reward(state, action):\n"
        '    print(\'{"ok": true, "value": 1}\')\n'
        "    raise ValueError('\\x1b[2Jcleared\\x1b]0;title\\x07')\n"
    )
    verdict = vet(boom, ENV, run_dir=tmp_path / "boom", timeout_s=20)
    assert verdict.code == Code.RUNTIME_ERROR
    assert "\x1b" not in verdict.message and "cleared" in verdict.message


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "HF_TOKEN"])
def test_an_exception_carries_no_parent_secret_out(tmp_path, secret, name):
    result = run_in_worker(
        f"{HOSTILE}:raise_env", {"name": name}, run_dir=tmp_path / "w", limits=FAST, deadline_s=30
    )
    assert result.code == Code.RUNTIME_ERROR
    # Confined: the worker never had it (the message says so), and nothing carries it.
    assert f"{name}=absent" in result.message
    for text in (result.message, result.detail, result.stdout_tail, result.stderr_tail):
        assert secret not in text
