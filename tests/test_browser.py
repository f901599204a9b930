"""The document page in a real browser: headless Chromium (Debian's `chromium`, installed by .ci/run)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def chromium(url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0", *extra, url],
        capture_output=True, text=True, timeout=120)


def test_document_page_renders_with_its_content_and_no_csp_violation(live, tmp_path: Path) -> None:  # noqa: ANN001
    url = f"{live.url}id/document/116814"          # the browser follows the 303 to the HTML page
    out = chromium(url, tmp_path, "--dump-dom")
    dom = out.stdout
    assert "<h1>Diary of Soviet Ambassador P.F. Yudin" in dom, out.stderr[-2000:]
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    for visible in ("Date of the conversation", "1956-10-30", "Archival citation", "AVPRF f. 0100",
                    "Today I had a discussion with Liu Shaoqi", "Leon Levy Foundation", "Turtle", "JSON-LD"):
        assert visible in text, visible
    assert re.search(r'<a class="mention" href="[^"]+/id/person/liu-shaoqi">Liu Shaoqi</a>', dom)
    assert 'type="application/ld+json"' in dom
    # Chromium logs a console error for every Content-Security-Policy violation (inline style/script...)
    assert "Content Security Policy" not in out.stderr and "violates" not in out.stderr, out.stderr[-3000:]


def test_document_page_screenshot_is_drawn(live, tmp_path: Path) -> None:  # noqa: ANN001
    shot = tmp_path / "page.png"
    out = chromium(f"{live.url}data/document/116814.html", tmp_path, f"--screenshot={shot}", "--window-size=1000,1400")
    assert shot.is_file() and shot.stat().st_size > 10_000, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
