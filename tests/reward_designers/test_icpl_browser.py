"""The ranking page in headless Chromium: a person's clicks save ranking.json, a bad
ranking shows the server's error on the page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agentgym.reward_designers.icpl import RankingServer, write_page
from agentgym.reward_designers.synthesis.candidates import TRAINED, Candidate

pytestmark = pytest.mark.browser


def plant(run: Path, n: int) -> None:
    cands = [Candidate(0, i, TRAINED, success=0.0) for i in range(n)]
    for c in cands:
        (run / c.folder_name).mkdir(parents=True)
        (run / c.folder_name / "result.json").write_text(json.dumps(c.to_dict()))
    write_page(run, 0, cands, {}, "Reach", "reach the target")


def result_text(driver, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = driver.find_element("id", "result").text
        if text:
            return text
        time.sleep(0.1)
    return ""


def test_ranking_in_a_browser_saves_the_json_and_shows_a_refusal(tmp_path):
    from selenium.webdriver.support.ui import Select

    from agentgym.envs.web.chromium import Chromium

    plant(tmp_path, 3)
    browser = Chromium.launch()
    try:
        with RankingServer(tmp_path, 0) as server:
            driver = browser.driver
            driver.get(server.url)
            for sample, rank in ((0, "1"), (1, "1"), (2, "3")):
                Select(driver.find_element("name", f"rank_{sample:02d}")).select_by_value(rank)
            driver.find_element("css selector", "button[type=submit]").click()
            assert "rank_KK: expected the ranks 1 to 3" in result_text(driver)
            assert not (tmp_path / "iter_00" / "ranking.json").exists()
            driver.execute_script("document.getElementById('result').textContent = ''")
            for sample, rank in ((0, "3"), (1, "1"), (2, "2")):
                Select(driver.find_element("name", f"rank_{sample:02d}")).select_by_value(rank)
            driver.find_element("css selector", "button[type=submit]").click()
            assert "Continue with: agentgym reward synthesize --resume" in result_text(driver)
    finally:
        browser.close()
    saved = json.loads((tmp_path / "iter_00" / "ranking.json").read_text())
    assert saved["order"] == [1, 2, 0] and saved["ranker"] == "human"
