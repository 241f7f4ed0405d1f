"""How the shop env moves between pages: over HTTP with urllib (text mode) or in
Chromium (browser mode). Both return the served HTML, which the env parses the same way.
"""

from __future__ import annotations

import urllib.request
from typing import Protocol
from urllib.parse import urlencode, urljoin


class Navigator(Protocol):
    url: str

    def open(self, url: str) -> str: ...
    def click(self, label: str, href: str) -> str: ...
    def search(self, search_url: str, query: str) -> str: ...
    def close(self) -> None: ...


class HttpNavigator:
    """Text mode: fetch each page with urllib, as a text agent's tool would."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.url = ""
        self.timeout = timeout

    def open(self, url: str) -> str:
        with urllib.request.urlopen(url, timeout=self.timeout) as response:
            self.url = response.geturl()
            return response.read().decode("utf-8")

    def click(self, label: str, href: str) -> str:
        return self.open(urljoin(self.url, href))

    def search(self, search_url: str, query: str) -> str:
        return self.open(f"{search_url}?{urlencode({'q': query})}")

    def close(self) -> None:
        """Nothing to release: each request opens and closes its own connection."""


class ChromiumNavigator:
    """Browser mode: Chromium loads the pages; clicks and typing are real DOM events."""

    def __init__(self) -> None:
        from agentgym.envs.web.chromium import Chromium

        self.browser = Chromium.launch()
        self.url = ""

    def _mark(self) -> None:
        """Tag the current document, so that _settle can tell when it has been replaced."""
        self.browser.driver.execute_script("window.__agentgym_old_page = true;")

    def _settle(self, timeout: float = 10.0) -> str:
        import time

        from selenium.common.exceptions import WebDriverException

        # A click that navigates returns before the next page is there. Wait until the
        # tagged document is gone and the new one has loaded; while Chromium swaps
        # documents the driver may answer with transient errors, which mean "not yet".
        driver = self.browser.driver
        deadline = time.monotonic() + timeout
        while True:
            try:
                if driver.execute_script(
                    "return window.__agentgym_old_page === undefined"
                    " && document.readyState === 'complete';"
                ):
                    break
            except WebDriverException:
                pass  # the page is mid-navigation: the loop polls again until its deadline
            if time.monotonic() > deadline:
                raise TimeoutError(f"the shop page did not load within {timeout} s")
            time.sleep(0.01)
        self.url = driver.current_url
        return driver.page_source

    def open(self, url: str) -> str:
        self.browser.driver.get(url)
        return self._settle()

    def click(self, label: str, href: str) -> str:
        from selenium.webdriver.common.by import By

        driver = self.browser.driver
        links = [
            a
            for a in driver.find_elements(By.CSS_SELECTOR, "a[data-label]")
            if (a.get_attribute("data-label") or "").lower() == label
        ]
        if not links:
            raise LookupError(f"no element with data-label {label!r} on {driver.current_url}")
        self._mark()
        links[0].click()
        return self._settle()

    def search(self, search_url: str, query: str) -> str:
        from selenium.webdriver.common.by import By

        driver = self.browser.driver
        box = driver.find_element(By.NAME, "q")
        box.clear()
        box.send_keys(query)
        self._mark()
        driver.find_element(By.ID, "search_button").click()
        return self._settle()

    def close(self) -> None:
        self.browser.close()
