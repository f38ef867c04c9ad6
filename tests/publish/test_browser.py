"""index.html and a feed rendered through `serve` by headless Chromium.

Needs /usr/bin/chromium: fails (not skips) without it when CI is set. Set
AGGREGATOR_SCREENSHOTS=<folder> to keep the PNGs for a human look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from aggregator.publish import feeds as pub
from aggregator.publish.server import make_server
from pubdata import NOW, config, snapshot

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    httpd = make_server(tmp / "output", port=0)
    base = "http://127.0.0.1:%d/" % httpd.server_address[1]
    cfg = config(tmp)
    cfg = replace(cfg, settings=replace(cfg.settings, base_url=base))
    pub.publish(cfg, snapshot(), now=NOW)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield base, tmp
    httpd.shutdown()
    httpd.server_close()


def _run(chromium: str, profile: Path, *args: str) -> str:
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("page, expect", [
    ("index.html", ["<h1>Baltic Watch</h1>", "Headline 0", "Headline 4", "NATO", "Nothing here",
                    'href="feeds.opml"', "No items yet."]),
    ("nato.atom", ["<h1>NATO</h1>", "Headline 0", "Headline 6", "Example News", "This is a web feed"]),
    ("nato.rss", ["<h1>NATO</h1>", "Headline 0", "Headline 6", "Example News", "This is a web feed"]),
])
def test_pages_render_with_headlines(chromium, served, tmp_path, page, expect):
    base, _ = served
    dom = _run(chromium, tmp_path / "profile", "--dump-dom", base + page)
    for text in expect:
        assert text in dom, (page, text)
    assert "&lt;?xml" not in dom  # a feed shown as source text means the XSL was not applied


@pytest.mark.parametrize("page", ["index.html", "nato.atom"])
def test_screenshots(chromium, served, tmp_path, page):
    base, _ = served
    png = tmp_path / f"{page.replace('.', '_')}.png"
    _run(chromium, tmp_path / "profile", f"--screenshot={png}", "--window-size=1000,1300", base + page)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # not a blank page
    keep = os.environ.get("AGGREGATOR_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
