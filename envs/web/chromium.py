"""Debian's Chromium, headless, driven by selenium: launched per env, closed with it.

Never a downloaded browser: the binary and the driver come from
``AGENTGYM_CHROMIUM``/``AGENTGYM_CHROMEDRIVER`` (or miniwob's
``MINIWOB_CHROME_BINARY``/``MINIWOB_CHROMEDRIVER``), else ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (``apt-get install chromium chromium-driver``). Selenium
Manager is never consulted, because an explicit driver path is always given.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentgym.sandbox.procs import has_exited

log = logging.getLogger(__name__)

# Flags Chromium needs in a container without a display or a GPU (FACTS.md): no
# sandbox (we run as root in CI), no /dev/shm (small in containers), nothing that
# calls home, and a fresh profile per browser so parallel envs do not share state.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--mute-audio",
)


class ChromiumNotFoundError(RuntimeError):
    """Chromium or chromedriver is not installed where agentgym looks."""


def chromium_paths() -> tuple[str, str]:
    """(chromium binary, chromedriver) or ChromiumNotFoundError naming what is missing."""
    binary = (
        os.environ.get("AGENTGYM_CHROMIUM")
        or os.environ.get("MINIWOB_CHROME_BINARY")
        or shutil.which("chromium")
        or "/usr/bin/chromium"
    )
    driver = (
        os.environ.get("AGENTGYM_CHROMEDRIVER")
        or os.environ.get("MINIWOB_CHROMEDRIVER")
        or shutil.which("chromedriver")
        or "/usr/bin/chromedriver"
    )
    missing = [p for p in (binary, driver) if not Path(p).exists()]
    if missing:
        raise ChromiumNotFoundError(
            f"browser envs need Debian's chromium and chromium-driver; not found: {missing}. "
            "Install them with `apt-get install -y chromium chromium-driver` "
            "(make test does this when run as root), or set AGENTGYM_CHROMIUM and "
            "AGENTGYM_CHROMEDRIVER."
        )
    return binary, driver


def chromium_available() -> bool:
    try:
        chromium_paths()
    except ChromiumNotFoundError:
        return False
    return True


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (Linux /proc), so close() can prove nothing is left."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass
class Chromium:
    """One headless Chromium under chromedriver, with its own profile folder."""

    driver: Any
    profile_dir: str

    @classmethod
    def launch(
        cls, width: int = 800, height: int = 600, page_load_timeout: float = 30.0
    ) -> Chromium:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        binary, driver_path = chromium_paths()
        profile = tempfile.mkdtemp(prefix="agentgym-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        try:
            driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        except Exception:
            shutil.rmtree(profile, ignore_errors=True)
            raise
        driver.set_page_load_timeout(page_load_timeout)
        log.info("chromium started (driver pid %s)", driver.service.process.pid)
        return cls(driver, profile)

    @property
    def pids(self) -> list[int]:
        """chromedriver and every process below it (the browser, its renderers)."""
        process = getattr(self.driver.service, "process", None)
        if process is None:
            return []
        return [process.pid, *_descendants(process.pid)]

    def leftover_pids(self) -> list[int]:
        """Processes of this browser still alive: those whose command line names its
        profile folder (the browser and its helpers), found in /proc."""
        marker = f"--user-data-dir={self.profile_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def close(self) -> None:
        """Quit the browser and the driver, make sure no process of the browser is left
        (a crashed chromedriver leaves its browser behind), remove the profile folder."""
        known = self.pids  # before quit: chromedriver and what it started
        try:
            self.driver.quit()
        except Exception as err:  # a crashed driver must still release its browser
            log.warning("chromium quit failed: %s", str(err).splitlines()[0] if str(err) else err)
        killed = self.leftover_pids()  # named by our profile folder: safe to kill by pid
        for pid in killed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it exited meanwhile
        # Quitting and SIGKILL end processes asynchronously: on a loaded machine they still
        # run for a moment. Wait (bounded) until each has exited, so close() means closed.
        left = sorted({*killed, *known})
        deadline = time.monotonic() + 10.0
        while not all(has_exited(p) for p in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.profile_dir, ignore_errors=True)
