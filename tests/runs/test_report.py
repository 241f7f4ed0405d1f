"""report.html: every section from a real training run, rebuilt from the folder alone,
escaped text, sections added without editing the core, and a broken section contained."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from agentgym.learners.logger import MetricsWriter
from agentgym.runs import RunDir, build_report

PLUGIN = "tests.runs.report_sections"


@pytest.fixture(scope="module")
def ppo_run(agentgym_cli, reach_program, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ppo") / "run"
    done = agentgym_cli(
        "train",
        "--env",
        "agentgym/Reach-v0",
        "--reward",
        reach_program,
        "--learner",
        "ppo",
        "--steps",
        "3072",
        "--num-envs",
        "4",
        "--num-steps",
        "128",
        "--eval-every",
        "1536",
        "--eval-episodes",
        "2",
        "--seed",
        "7",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"report: {out / 'report.html'}" in done.stdout
    return out


def sections(html: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", html)


def pngs(html: str) -> list[np.ndarray]:
    import imageio.v2 as imageio

    return [
        imageio.imread(io.BytesIO(base64.b64decode(b)))
        for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    ]


def test_run_records_its_config_and_manifest(ppo_run, reach_program):
    run = RunDir.open(ppo_run)
    config = run.read_config()
    assert config["learner"] == "ppo" and config["config"]["seed"] == 7
    assert config["config"]["reward"] == reach_program and config["config"]["video"] is True
    manifest = run.read_manifest()
    assert manifest["status"] == "done" and manifest["seeds"] == [7]
    assert manifest["packages"]["torch"] and manifest["packages"]["mujoco"]


def test_run_logs_a_row_per_rollout_and_per_evaluation(ppo_run):
    rows = RunDir.open(ppo_run).metrics()
    train = [r for r in rows if "loss/policy" in r]
    assert [r["step"] for r in train] == [512 * i for i in range(1, 7)]
    assert {
        "reward_terms/distance",
        "reward_terms/control",
        "episode_return",
        "success_rate",
        "steps_per_s",
        "approx_kl",
    } <= set(train[-1])
    evals = [r for r in rows if "eval/success_rate" in r]
    assert [r["step"] for r in evals] == [1536, 3072]


def test_run_keeps_its_eval_video_checkpoint_and_a_copy_of_the_reward(ppo_run, reach_program):
    run = RunDir.open(ppo_run)
    evals = [r for r in run.metrics() if "eval/success_rate" in r]
    assert (run.path / evals[-1]["eval/video"]).is_file()
    assert (run.path / "checkpoints" / "latest.pt").is_file()
    assert (run.path / "rewards" / "reach.py").read_text() == Path(reach_program).read_text()


def test_report_has_every_section(ppo_run, report_sections):
    assert sections((ppo_run / "report.html").read_text()) == report_sections


def test_report_plots_are_drawn_images(ppo_run):
    images = pngs((ppo_run / "report.html").read_text())
    # learning curve, success, task fitness, 2 reward terms + env reward, 6 loss panels
    assert len(images) == 12
    for image in images:
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert image[..., :3].std() > 5  # drawn, not blank


def test_report_shows_the_task_fitness(ppo_run):
    html = (ppo_run / "report.html").read_text()
    assert "Task fitness" in html and "eval task fitness (last)" in html


def test_report_embeds_the_last_evaluation_video(ppo_run):
    html = (ppo_run / "report.html").read_text()
    video = re.search(r'<video[^>]*src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"', html)
    assert video, "the evaluation video is embedded"
    data = base64.b64decode(video.group(1))
    assert data[4:8] == b"ftyp"
    assert data == (ppo_run / "videos" / "eval_3072.mp4").read_bytes()


def test_report_summary_shows_the_seed(ppo_run):
    assert "<td>7</td>" in (ppo_run / "report.html").read_text()


def test_agentgym_report_rebuilds_the_same_sections_from_the_folder_alone(
    agentgym_cli, ppo_run, report_sections, tmp_path
):
    copy = tmp_path / "moved"
    shutil.copytree(ppo_run, copy)
    (copy / "report.html").unlink()
    done = agentgym_cli("report", str(copy), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (copy / "report.html").read_text()
    assert sections(html) == report_sections
    assert len(pngs(html)) == 12 and "data:video/mp4;base64," in html


def test_agentgym_report_refuses_a_folder_that_only_holds_runs(agentgym_cli, ppo_run, tmp_path):
    shutil.copytree(ppo_run, tmp_path / "moved")
    bad = agentgym_cli("report", str(tmp_path))
    assert bad.returncode == 2 and "is not a run folder" in bad.stderr


def _hand_run(tmp_path: Path, reward: str) -> RunDir:
    run = RunDir.create(
        command="train",
        env_id="agentgym/Reach-v0",
        out=tmp_path / "run",
        config={
            "command": "train",
            "learner": "ppo",
            "env_id": "agentgym/Reach-v0",
            "config": {"reward": reward, "total_steps": 200},
        },
    )
    with MetricsWriter(run.metrics_path) as writer:
        for step in (100, 200):
            writer.write({"step": step, "episode_return": -step / 100, "success_rate": step / 200})
    return run


def test_text_from_the_run_is_escaped(tmp_path):
    run = _hand_run(tmp_path, "<script>alert('x')</script>.py")
    html = build_report(run).read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;.py" in html


def test_report_has_only_the_sections_the_folder_has_material_for(tmp_path):
    html = build_report(_hand_run(tmp_path, "sparse")).read_text()
    assert sections(html) == ["Summary", "Learning curve", "Success rate", "Config and manifest"]


def test_the_report_table_escapes_formats_and_marks(tmp_path):
    from agentgym.runs.report import Html, ReportContext, format_value

    ctx = ReportContext.load(_hand_run(tmp_path, "reach.py"))
    assert ctx.table([("a<b", 0.123456), ("none", None)]) == (
        '<table class="kv"><tr><th>a&lt;b</th><td>0.1235</td></tr>'
        "<tr><th>none</th><td>-</td></tr></table>"
    )
    rows = [[Html('<a href="x">x</a>'), 2.0 / 3], ["y", "<i>"]]
    assert ctx.table(rows, ("name", "value"), keys=False, digits=3, highlight=[1]) == (
        '<table><tr><th>name</th><th>value</th></tr><tr><td><a href="x">x</a></td>'
        '<td>0.667</td></tr><tr class="highlight"><td>y</td><td>&lt;i&gt;</td></tr></table>'
    )
    assert (format_value(7), format_value(1 / 3), format_value(None)) == ("7", "0.3333", "-")


def test_a_command_adds_a_section_through_the_manifest(tmp_path):
    run = _hand_run(tmp_path, "sparse")
    run.add_report_section(f"{PLUGIN}:diagnostics")
    run.add_report_section(f"{PLUGIN}:nothing")
    html = build_report(run).read_text()
    titles = sections(html)
    assert titles == [
        "Summary",
        "Learning curve",
        "Success rate",
        "VLM reward diagnostics",
        "Config and manifest",
    ]  # placed by its order, 45
    assert "<p>2 rows & <b>&lt;x&gt;</b></p>" in html
    assert 'href="#vlm-reward-diagnostics"' in html


def test_a_failing_section_is_shown_and_the_rest_still_render(tmp_path):
    run = _hand_run(tmp_path, "sparse")
    run.add_report_section(f"{PLUGIN}:broken")
    html = build_report(run).read_text()
    assert f"{PLUGIN}:broken (failed)" in sections(html)
    assert "RuntimeError: no frames in &lt;run&gt;" in html
    assert "Learning curve" in sections(html)


def test_population_top_report_compares_members(tmp_path):
    top = RunDir.create(
        command="train",
        env_id="agentgym/Reach-v0",
        out=tmp_path / "pop",
        config={
            "command": "train",
            "learner": "population",
            "env_id": "agentgym/Reach-v0",
            "rewards": ["a.py", "b.py"],
            "config": {"total_steps": 200},
        },
    )
    for i, name in enumerate(["00-a", "01-b"]):
        member = RunDir.create(
            command="train",
            env_id="agentgym/Reach-v0",
            out=top.members_dir / name,
            config={
                "command": "train",
                "learner": "ppo",
                "config": {"reward": f"{name}.py", "seed": i},
            },
        )
        member.write_manifest({"status": "done" if i == 0 else "nonfinite"})
        with MetricsWriter(member.metrics_path) as writer:
            writer.write({"step": 100, "episode_return": float(i), "success_rate": 0.5 * i})
            writer.write(
                {"step": 200, "eval/success_rate": 0.25 + 0.5 * i, "eval/mean_return": 1.0}
            )
        build_report(member)
    html = build_report(top).read_text()
    assert sections(html)[:2] == ["Summary", "Population"]
    assert '<a href="members/00-a/report.html">00-a</a>' in html
    assert "<td>nonfinite</td>" in html and "<td>0.75</td>" in html
    assert len(pngs(html)) >= 2


def test_agentgym_report_out_makes_missing_folders(tmp_path, capsys):
    from agentgym.cli import main

    run = _hand_run(tmp_path, "sparse")
    out = tmp_path / "not" / "made" / "yet" / "page.html"
    assert main(["report", str(run.path), "--out", str(out)]) == 0
    assert sections(out.read_text())[0] == "Summary"
    assert str(out) in capsys.readouterr().out


def test_agentgym_report_out_into_an_existing_folder_writes_report_html(tmp_path):
    from agentgym.cli import main

    run = _hand_run(tmp_path, "sparse")
    folder = tmp_path / "pages"
    folder.mkdir()
    assert main(["report", str(run.path), "--out", str(folder)]) == 0
    assert sections((folder / "report.html").read_text())[0] == "Summary"


def test_agentgym_report_out_below_a_file_is_a_clear_error(tmp_path, capsys):
    from agentgym.cli import main

    run = _hand_run(tmp_path, "sparse")
    (tmp_path / "afile").write_text("x")
    assert main(["report", str(run.path), "--out", str(tmp_path / "afile" / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "Traceback" not in err


def test_the_report_shows_the_reward_programs_source_escaped_and_highlighted(tmp_path):
    program = tmp_path / "mine.py"
    program.write_text(
        "import torch\n\n\ndef compute_reward(state, action):\n"
        "    d = state['d']  # '<script>' stays text\n"
        "    return -d, {'distance': -d}\n"
    )
    run = RunDir.create(
        command="train",
        env_id="agentgym/Reach-v0",
        out=tmp_path / "run",
        config={"command": "train", "learner": "ppo", "rewards": [f"0.5*{program}"]},
    )
    (run.path / "rewards").mkdir()
    shutil.copy(program, run.path / "rewards" / "mine.py")
    program.write_text("# edited after the run: not what it trained on\n")
    html = build_report(run).read_text()
    assert "Reward program" in sections(html)
    body = html[html.index("Reward program</h2>") :]
    assert "compute_reward" in body and "'distance'" in body
    assert "'<script>'" not in html and "&lt;script&gt;" in body
    assert 'style="color' in body  # highlighted
    assert "edited after the run" not in html  # the run's own copy, not today's file


def test_a_member_report_shows_the_program_kept_by_its_population(tmp_path):
    population = tmp_path / "pop"
    (population / "rewards").mkdir(parents=True)
    (population / "rewards" / "a.py").write_text("def compute_reward(state, action):\n    ...\n")
    member = RunDir.create(
        command="train",
        env_id="agentgym/Reach-v0",
        out=population / "members" / "m0",
        config={"command": "train", "learner": "ppo", "rewards": ["/elsewhere/a.py"]},
    )
    html = build_report(member).read_text()
    assert "Reward program" in sections(html) and "compute_reward" in html


def test_a_program_the_run_kept_no_copy_of_is_named_missing(tmp_path):
    run = RunDir.create(
        command="train",
        env_id="agentgym/Reach-v0",
        out=tmp_path / "run",
        config={"command": "train", "learner": "ppo", "rewards": ["gone.py"]},
    )
    html = build_report(run).read_text()
    assert "keeps no copy" in html


def test_a_rebuilt_report_imports_no_section_a_foreign_manifest_names(tmp_path, monkeypatch):
    """A run folder can come from someone else: a section its manifest names outside
    agentgym is refused (shown as failed, nothing imported) unless the user lists it."""
    import sys

    from agentgym.runs.report import TRUSTED_SECTIONS_VAR, own_module

    run = _hand_run(tmp_path, "sparse")
    manifest = run.read_manifest()
    manifest["report_sections"] = ["tests.runs.foreign_section:build", "os:system"]
    run.write_manifest(manifest)
    sys.modules.pop("tests.runs.foreign_section", None)
    html = build_report(run).read_text()
    assert "tests.runs.foreign_section:build (failed)" in sections(html)
    assert "os:system (failed)" in sections(html)
    assert "is not a section of the installed agentgym package" in html
    assert "tests.runs.foreign_section" not in sys.modules  # never imported
    assert "Learning curve" in sections(html)
    monkeypatch.setenv(TRUSTED_SECTIONS_VAR, "tests.runs.foreign_section:build")
    html = build_report(run).read_text()
    assert "Foreign section" in sections(html)
    assert own_module("agentgym.reward_designers.synthesis.report:build")
    assert not own_module("agentgym_evil.report:build")
