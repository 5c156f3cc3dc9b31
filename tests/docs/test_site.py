"""The built documentation site, opened in a real browser (headless Chromium).

Each tutorial page must load, show every figure its source draws (each image decoded,
with a nonzero size) and link only to pages and anchors that exist; its own scripts and
style sheets must load without errors. The site is what ``make docs`` builds into
docs/_build/html; without it (or without Chromium and selenium) the tests are skipped,
unless WINDFORCE_REQUIRE_SITE=1 (as in CI), which turns a skip into a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "_build" / "html"
SOURCES = ROOT / "docs" / "tutorials"
TUTORIALS = sorted(p.stem for p in SOURCES.glob("*.md") if p.stem != "index")
REQUIRED = os.environ.get("WINDFORCE_REQUIRE_SITE") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: flags for root in a sandbox with no network (docs: /work/.library/env/machines/python.md)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"WINDFORCE_REQUIRE_SITE=1 but {reason}")
    pytest.skip(reason)


def _expected_figures(source: Path) -> int:
    """Figures a tutorial draws: its code cells that call plt.show() or show an Image."""
    cells = re.findall(r"```\{code-cell\}.*?\n(.*?)```", source.read_text(), re.S)
    return sum(("plt.show()" in c) or ("Image(" in c) for c in cells)


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site in {SITE} (run `make docs`)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install '.[docs]')")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        _unavailable("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must not look online
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@functools.cache
def _ids(url: str) -> frozenset[str]:
    """The ids of the page at ``url``; raises for a page that does not load."""
    with urllib.request.urlopen(url, timeout=30) as response:
        parser = _Ids()
        parser.feed(response.read().decode("utf-8", "replace"))
    return frozenset(parser.ids)


def _open(browser, url: str) -> None:
    browser.get(url)
    state = browser.execute_script("return document.readyState")
    assert state == "complete", f"{url}: {state}"


def test_every_tutorial_is_built():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site in {SITE} (run `make docs`)")
    assert TUTORIALS, "no tutorial sources"
    missing = [t for t in TUTORIALS if not (SITE / "tutorials" / f"{t}.html").is_file()]
    assert not missing, f"tutorials without a page: {missing}"


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_renders_its_figures(browser, server, name):
    _open(browser, f"{server}tutorials/{name}.html")
    assert browser.title.strip(), "no page title"
    images = browser.execute_script(
        "return Array.from(document.querySelectorAll('article img')).map(i => "
        "[i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight])"
    )
    expected = _expected_figures(SOURCES / f"{name}.md")
    assert expected >= 1
    assert len(images) >= expected, f"{len(images)} images, the source draws {expected}"
    broken = [src for src, done, w, h in images if not (done and w > 0 and h > 0)]
    assert not broken, f"images not rendered: {broken}"
    # no cell printed a traceback or a warning
    noisy = browser.execute_script(
        "return Array.from(document.querySelectorAll('article .output.traceback, "
        "article .output.stderr')).map(e => e.innerText.slice(0, 300))"
    )
    assert not noisy, "cells wrote errors or warnings:\n" + "\n".join(noisy)


@pytest.mark.parametrize(
    "name", ["index", "tutorials/index", *(f"tutorials/{t}" for t in TUTORIALS)]
)
def test_internal_links_resolve(browser, server, name):
    _open(browser, f"{server}{name}.html")
    hrefs = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
    )
    host = urlparse(server).netloc
    internal = [h for h in hrefs if urlparse(h).netloc == host]
    assert internal, "no internal links at all"
    broken = []
    for href in sorted(set(internal)):
        page, fragment = urldefrag(href)
        try:
            ids = _ids(page)
        except (urllib.error.URLError, OSError) as exc:
            broken.append(f"{href} ({exc})")
            continue
        if fragment and fragment not in ids:
            broken.append(f"{href} (no anchor #{fragment})")
    assert not broken, "broken internal links:\n" + "\n".join(broken)
    # the page's own scripts, styles, fonts and images loaded
    severe = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" in entry["message"]
    ]
    assert not severe, "errors loading the page's resources:\n" + "\n".join(severe)
