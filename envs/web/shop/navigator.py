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

    def _settle(self, old) -> str:
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.wait import WebDriverWait

        # A click that navigates returns before the next page is there; wait until the
        # old document is gone and the new one has loaded.
        driver = self.browser.driver
        if old is not None:
            WebDriverWait(driver, 10).until(ec.staleness_of(old))
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        self.url = driver.current_url
        return driver.page_source

    def open(self, url: str) -> str:
        self.browser.driver.get(url)
        return self._settle(None)

    def click(self, label: str, href: str) -> str:
        from selenium.webdriver.common.by import By

        driver = self.browser.driver
        old = driver.find_element(By.TAG_NAME, "html")
        links = [a for a in driver.find_elements(By.CSS_SELECTOR, "a[data-label]")
                 if (a.get_attribute("data-label") or "").lower() == label]
        if not links:
            raise LookupError(f"no element with data-label {label!r} on {driver.current_url}")
        links[0].click()
        return self._settle(old)

    def search(self, search_url: str, query: str) -> str:
        from selenium.webdriver.common.by import By

        driver = self.browser.driver
        old = driver.find_element(By.TAG_NAME, "html")
        box = driver.find_element(By.NAME, "q")
        box.clear()
        box.send_keys(query)
        driver.find_element(By.ID, "search_button").click()
        return self._settle(old)

    def close(self) -> None:
        self.browser.close()
