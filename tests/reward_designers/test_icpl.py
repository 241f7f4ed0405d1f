"""ICPL preference rounds: the ranking page, its HTTP endpoint, the proxy ranker, and a
run that stops for a person's ranking and resumes from it (scripted loopback LLM)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from agentgym.reward_designers.icpl import RankingServer, load_ranking, proxy_order
from agentgym.reward_designers.icpl.ranking import check_order, order_from_ranks
from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
from agentgym.reward_designers.synthesis.candidates import (
    FAILED,
    TRAINED,
    Candidate,
    load_candidates,
    read_json,
)
from agentgym.reward_designers.synthesis.config import resume_config
from agentgym.reward_designers.synthesis.designers import AwaitingFeedback
from agentgym.testing.openai_server import ScriptedOpenAIServer
from tests.reward_designers import synthesis_programs as P


def program(reply: str) -> str:
    return reply.split("```python")[1].split("```")[0].strip()


def icpl_script():
    """Iteration 0: GOOD then AWAY; any follow-up: GOOD_TEMPERED."""
    first = iter([P.GOOD, P.AWAY])

    def script(request):
        return next(first) if len(request["messages"]) == 2 else P.GOOD_TEMPERED

    return script


def post(url: str, body: bytes, kind: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


# A real search (two iterations, trained on Reach, with videos): about a minute.
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def ranked_run(module_llm_cache, scripted_synthesis_config, tmp_path_factory):
    """Two icpl iterations of two samples on Reach: the run stops after iteration 0, a
    person ranks AWAY above GOOD through the HTTP endpoint (a bad ranking first), the run
    resumes. Returns what each step saw."""
    work = tmp_path_factory.mktemp("icpl")
    seen: dict = {}
    with ScriptedOpenAIServer(icpl_script()) as server:
        config = scripted_synthesis_config(
            server, designer="icpl", iterations=2, samples=2, final_seeds=0
        )
        run, _ = open_run(config, work / "run")
        with pytest.raises(AwaitingFeedback) as waiting:
            Synthesis(config, run).run()
        seen["waiting"] = waiting.value
        seen["status"] = run.read_manifest()["status"]
        seen["first_requests"] = list(server.requests)
        seen["page"] = (run.path / "iter_00" / "ranking.html").read_text()
        seen["report_waiting"] = run.report_path.read_text()
        away = next(
            c.index
            for c in load_candidates(run.path)
            if (run.path / c.folder_name / "reward.py").read_text().strip() == program(P.AWAY)
        )
        seen["away"] = away
        with RankingServer(run.path, 0) as ranker:
            seen["get_page"] = urllib.request.urlopen(ranker.url, timeout=10).read().decode()
            seen["bad"] = post(
                ranker.url + "ranking",
                json.dumps({"order": [away, away]}).encode(),
                "application/json",
            )
            seen["saved_after_bad"] = (run.path / "iter_00" / "ranking.json").exists()
            seen["good"] = post(
                ranker.url + "ranking",
                json.dumps({"order": [away, 1 - away]}).encode(),
                "application/json",
            )
            seen["waited"] = ranker.wait(timeout=5)
        again = resume_config(run.path)
        run2, resumed = open_run(again, run.path)
        assert resumed
        Synthesis(again, run2).run()
        seen["second_requests"] = list(server.requests)[len(seen["first_requests"]) :]
    seen["path"] = run.path
    return seen


@slow
def test_the_run_stops_for_a_ranking_saying_how_to_rank_and_resume(ranked_run):
    wait = ranked_run["waiting"]
    assert "agentgym reward rank" in str(wait) and wait.resume.endswith(str(ranked_run["path"]))
    assert ranked_run["status"].startswith("waiting:")
    assert all(len(r["messages"]) == 2 for r in ranked_run["first_requests"])


@slow
def test_the_page_shows_each_policys_video_and_a_rank_field(ranked_run):
    page = ranked_run["page"]
    assert page.count("<video") == 2 and 'src="sample_00/train/videos/' in page
    assert 'name="rank_00"' in page and 'name="rank_01"' in page
    assert ranked_run["get_page"] == page
    videos = list(Path(ranked_run["path"], "iter_00").glob("sample_*/train/videos/*"))
    assert len(videos) == 2 and all(v.stat().st_size > 0 for v in videos)


@slow
def test_the_endpoint_rejects_a_ranking_that_is_not_a_permutation(ranked_run):
    status, body = ranked_run["bad"]
    assert status == 400 and "order: expected a permutation" in json.loads(body)["error"]
    assert not ranked_run["saved_after_bad"]


@slow
def test_the_endpoint_writes_the_ranking(ranked_run):
    status, body = ranked_run["good"]
    assert status == 200 and "synthesize --resume" in json.loads(body)["resume"]
    away = ranked_run["away"]
    saved = read_json(ranked_run["path"] / "iter_00" / "ranking.json")
    assert saved["order"] == [away, 1 - away] and saved["ranker"] == "human"
    assert ranked_run["waited"] == ranked_run["path"] / "iter_00" / "ranking.json"


@slow
def test_the_saved_ranking_leads_the_next_prompt(ranked_run):
    follow = [r for r in ranked_run["second_requests"] if len(r["messages"]) == 4]
    assert follow, "iteration 1 sent no follow-up prompt"
    messages = follow[0]["messages"]
    # The person put AWAY first: it is the program the prompt builds on, GOOD the contrast.
    assert program(P.AWAY) in messages[2]["content"]
    feedback = messages[3]["content"]
    assert "ranked them from best to worst" in feedback
    assert "Ranked 2 of 2" in feedback and program(P.GOOD) in feedback
    assert program(P.AWAY) not in feedback.split("Ranked 2 of 2")[1]


@slow
def test_resuming_after_the_ranking_asks_the_llm_nothing_twice(ranked_run):
    second = ranked_run["second_requests"]
    assert second and all(len(r["messages"]) == 4 for r in second)
    assert [c.status for c in load_candidates(ranked_run["path"])] == [TRAINED] * 4


@slow
def test_the_report_links_the_ranking_page(ranked_run):
    report = (ranked_run["path"] / "report.html").read_text()
    assert 'href="iter_00/ranking.html"' in report and "(by human)" in report
    assert "not ranked yet: agentgym reward rank" in ranked_run["report_waiting"]


def test_the_proxy_ranker_orders_by_success_then_fitness_never_by_return():
    planted = [
        Candidate(0, 0, TRAINED, success=0.0, fitness=-0.5, mean_return=30.0),
        Candidate(0, 1, TRAINED, success=0.0, fitness=-0.1, mean_return=-9.0),
        Candidate(0, 2, TRAINED, success=0.0, fitness=-0.3, mean_return=10.0),
        Candidate(0, 3, FAILED, "NONFINITE"),
        Candidate(0, 4, TRAINED, success=0.2, fitness=-0.9, mean_return=-50.0),
    ]
    assert proxy_order(planted) == [4, 1, 2, 0]


def test_a_ranking_must_rank_every_trained_sample_once():
    assert check_order([2, 0, 1], [0, 1, 2]) == [2, 0, 1]
    with pytest.raises(
        ValueError, match=r"order: expected a permutation of the ranked samples \[0, 1, 2\]"
    ):
        check_order([2, 0], [0, 1, 2])
    with pytest.raises(ValueError, match="order: expected a list of sample numbers"):
        check_order("2 0 1", [0, 1, 2])
    assert order_from_ranks({"rank_00": "2", "rank_02": "1"}, [0, 2]) == [2, 0]
    with pytest.raises(ValueError, match="rank_KK: expected the ranks 1 to 2, each exactly once"):
        order_from_ranks({"rank_00": "1", "rank_02": "1"}, [0, 2])


def test_the_ranker_is_an_icpl_setting_only():
    with pytest.raises(ValueError, match="SynthesisConfig.ranker"):
        SynthesisConfig("agentgym/Reach-v0", designer="eureka", ranker="proxy")
    with pytest.raises(ValueError, match="SynthesisConfig.ranker"):
        SynthesisConfig("agentgym/Reach-v0", designer="icpl", ranker="crowd")


def test_a_saved_ranking_file_that_ranks_other_samples_is_refused(tmp_path):
    folder = tmp_path / "iter_00"
    for i in range(2):
        (folder / f"sample_{i:02d}").mkdir(parents=True)
        (folder / f"sample_{i:02d}" / "result.json").write_text(
            json.dumps(Candidate(0, i, TRAINED, success=0.0).to_dict())
        )
    (folder / "ranking.json").write_text(json.dumps({"order": [0, 5]}))
    with pytest.raises(ValueError, match="ranking.json: order: expected a permutation"):
        load_ranking(tmp_path, 0)


def planted_iteration(run: Path, n: int) -> None:
    """Iteration 0 of ``n`` trained samples and its ranking page, without training."""
    from agentgym.reward_designers.icpl import write_page

    cands = [Candidate(0, i, TRAINED, success=0.0, fitness=-i / 10) for i in range(n)]
    for c in cands:
        folder = run / c.folder_name
        (folder / "train" / "videos").mkdir(parents=True)
        (folder / "train" / "videos" / "final.mp4").write_bytes(b"not really a video")
        (folder / "result.json").write_text(json.dumps(c.to_dict()))
    (run / "secret.json").write_text("{}")
    write_page(run, 0, cands, {c.index: f"# program {c.index}" for c in cands}, "Reach", "reach")


def test_the_endpoint_takes_the_pages_plain_form_and_serves_only_its_videos(tmp_path):
    planted_iteration(tmp_path, 3)
    with RankingServer(tmp_path, 0) as server:
        bad = post(
            server.url + "ranking",
            b"rank_00=1&rank_01=1&rank_02=2",
            "application/x-www-form-urlencoded",
        )
        assert bad[0] == 400 and "rank_KK: expected the ranks 1 to 3" in bad[1]
        assert not (tmp_path / "iter_00" / "ranking.json").exists()
        ok = post(
            server.url + "ranking",
            b"rank_00=3&rank_01=1&rank_02=2",
            "application/x-www-form-urlencoded",
        )
        assert ok[0] == 200 and "synthesize --resume" in ok[1]
        video = urllib.request.urlopen(server.url + "sample_01/train/videos/final.mp4", timeout=10)
        assert video.read() == b"not really a video"
        for path in ("../secret.json", "sample_01/result.json", "%2e%2e/secret.json"):
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(server.url + path, timeout=10)
    assert load_ranking(tmp_path, 0).order == [1, 2, 0]


def test_an_iteration_with_one_policy_waits_for_no_ranking(tmp_path):
    from agentgym.reward_designers.icpl import waiting_iteration, write_page

    planted_iteration(tmp_path, 2)
    cands = [Candidate(1, 0, TRAINED, success=0.0), Candidate(1, 1, FAILED, "NONFINITE")]
    for c in cands:
        (tmp_path / c.folder_name).mkdir(parents=True)
        (tmp_path / c.folder_name / "result.json").write_text(json.dumps(c.to_dict()))
    page = write_page(tmp_path, 1, cands, {}, "Reach", "reach").read_text()
    assert "Nothing to rank:</b> 1 of 2 candidates trained" in page
    assert waiting_iteration(tmp_path) == 0
    (tmp_path / "iter_00" / "ranking.json").write_text(json.dumps({"order": [1, 0]}))
    assert waiting_iteration(tmp_path) is None


# -- candidates as sketches (--form sketch) ---------------------------------------------
def sketch(*terms: tuple[str, str, str, float, float, int]) -> str:
    keys = ("name", "kind", "expr", "weight", "scale", "sign")
    return json.dumps({"terms": [dict(zip(keys, t, strict=True)) for t in terms]})


NEAR = sketch(("distance", "linear", "norm(fingertip_pos - target_pos)", 1.0, 1.0, -1))
SHARP = sketch(
    ("reach", "tolerance", "norm(fingertip_pos - target_pos)", 1.0, 0.1, 1),
    ("effort", "linear", "sum(square(action))", 0.01, 1.0, -1),
)
UNKNOWN = sketch(("distance", "linear", "norm(fingertip_pos - goal_pos)", 1.0, 1.0, -1))
AWAY = sketch(("distance", "linear", "norm(fingertip_pos - target_pos)", 1.0, 1.0, 1))


def planted_sketch_outcome(run: Path):
    """A sketch-form icpl designer and iteration 0 of two trained sketches (NEAR with the
    lower fitness) and one rejected, without training."""
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.icpl import ICPLDesigner
    from agentgym.reward_designers.synthesis.candidates import REJECTED
    from agentgym.reward_designers.synthesis.designers import IterationOutcome

    designer = ICPLDesigner(task_spec("agentgym/Reach-v0"), run=run, ranker="proxy", form="sketch")
    cands = [
        Candidate(0, 0, TRAINED, success=0.0, fitness=-0.4),
        Candidate(0, 1, TRAINED, success=0.0, fitness=-0.1),
        Candidate(0, 2, REJECTED, "SKETCH_VARIABLE", "terms[0]: unknown variable 'goal_pos'"),
        Candidate(0, 3, REJECTED, "PREFERENCE", "its return ranks a successful episode below"),
    ]
    for c in cands:
        (run / c.folder_name).mkdir(parents=True)
        (run / c.folder_name / "result.json").write_text(json.dumps(c.to_dict()))
    sources = {
        0: designer.program(NEAR).source,
        1: designer.program(SHARP).source,
        2: UNKNOWN,
        3: designer.program(AWAY).source,  # compiled, then rejected by the vetting
    }
    series = {1: {"reach": [0.1, 0.4], "effort": [-0.02, -0.01], "task_fitness": [-0.3, -0.1]}}
    return designer, IterationOutcome(0, cands, sources, series)


def test_sketch_form_compiles_sketches_and_asks_with_the_structured_prompt(tmp_path):
    from agentgym.catalog import task_spec
    from agentgym.reward_designers.structured import StructuredDesigner

    designer, _ = planted_sketch_outcome(tmp_path)
    structured = StructuredDesigner(task_spec("agentgym/Reach-v0"))
    assert designer.initial_messages() == structured.initial_messages()
    program = designer.program(f"```json\n{SHARP}\n```")
    assert program.source is not None and "def compute_reward" in program.source
    assert designer.program(UNKNOWN).code == "SKETCH_VARIABLE"
    # tuned through the sketch, as the structured designer does (a linear term: no scale)
    assert [n.name for n in designer.numbers(program.source, 8)] == [
        "REACH_WEIGHT",
        "REACH_SCALE",
        "EFFORT_WEIGHT",
    ]


def test_a_proxy_ranking_of_sketches_leads_the_next_prompt_with_the_best_sketch(tmp_path):
    designer, outcome = planted_sketch_outcome(tmp_path)
    designer.observe(outcome)
    assert load_ranking(tmp_path, 0).order == [1, 0]
    first = designer.initial_messages()
    messages = designer.next_messages(first, outcome, None)
    assert messages[:2] == first and json.loads(messages[2]["content"]) == json.loads(SHARP)
    feedback = messages[3]["content"]
    assert "ranked from best to worst" in feedback and "reward sketch above" in feedback
    ranked_2 = feedback.split("Ranked 2 of 2: ")[1].splitlines()[0]
    assert json.loads(ranked_2) == json.loads(NEAR)
    assert "reach: [0.1, 0.4]" in feedback and "task_fitness" in feedback
    assert "SKETCH_VARIABLE: terms[0]: unknown variable 'goal_pos'" in feedback
    assert "```python" not in feedback and "reply with the JSON object only" in feedback
    # a sketch rejected after compiling shows as its sketch, not as the compiled program
    preference = feedback.split("PREFERENCE: its return ranks")[1].splitlines()[1]
    assert json.loads(preference) == json.loads(AWAY) and "def compute_reward" not in feedback


def test_the_form_is_an_icpl_setting_only():
    with pytest.raises(ValueError, match="SynthesisConfig.form"):
        SynthesisConfig("agentgym/Reach-v0", designer="structured", form="sketch")
    with pytest.raises(ValueError, match="SynthesisConfig.form: expected one of code, sketch"):
        SynthesisConfig("agentgym/Reach-v0", designer="icpl", form="sketches")
    assert (
        SynthesisConfig("agentgym/Reach-v0", designer="icpl").digest()
        == SynthesisConfig("agentgym/Reach-v0", designer="icpl", form=None).digest()
    )


@slow
def test_an_icpl_run_of_sketches_ranks_two_trained_policies_and_asks_for_sketches(
    module_llm_cache, scripted_synthesis_config, tmp_path
):
    """Two iterations of three sketches on Reach, proxy ranker: iteration 0 trains two
    (the third names an unknown variable), the proxy ranks them, and iteration 1's request
    (structured output again) builds on the better one."""
    with ScriptedOpenAIServer([NEAR, SHARP, UNKNOWN, NEAR, NEAR, NEAR]) as server:
        config = scripted_synthesis_config(
            server,
            designer="icpl",
            ranker="proxy",
            form="sketch",
            iterations=2,
            samples=3,
            final_seeds=0,
        )
        run, _ = open_run(config, tmp_path / "run")
        Synthesis(config, run).run()
        requests = list(server.requests)
    assert len(requests) == 2
    assert all(r["response_format"]["type"] == "json_schema" for r in requests)
    by_key = {(c.iteration, c.index): c for c in load_candidates(run.path)}
    assert [by_key[(0, i)].status for i in (0, 1)] == [TRAINED, TRAINED]
    saved = read_json(run.path / "iter_00" / "ranking.json")
    assert saved["ranker"] == "proxy" and sorted(saved["order"]) == [0, 1]
    top, other = saved["order"]
    messages = requests[1]["messages"]
    assert json.loads(messages[2]["content"]) == json.loads([NEAR, SHARP][top])
    assert json.loads(messages[3]["content"].split("Ranked 2 of 2: ")[1].splitlines()[0]) == (
        json.loads([NEAR, SHARP][other])
    )


def test_the_proxy_saves_no_ranking_of_a_single_policy(tmp_path):
    from agentgym.reward_designers.synthesis.designers import IterationOutcome

    designer, outcome = planted_sketch_outcome(tmp_path)
    one = IterationOutcome(0, [outcome.candidates[1], outcome.candidates[2]], outcome.sources)
    designer.observe(one)
    assert load_ranking(tmp_path, 0) is None
    designer.observe(outcome)
    assert load_ranking(tmp_path, 0).order == [1, 0]
