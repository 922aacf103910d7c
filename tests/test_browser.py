"""report.html of the quick demo in a real browser: Debian's headless Chromium, driven by Playwright (which drives
the system browser offline; .ci/run installs it). Every image loads, nothing reaches the network, the console stays
clean, the tables are there, the first screen answers the study's question above one table of every contrast, the
page fits a laptop screen, and a full-page screenshot is written."""

from __future__ import annotations

import csv
import shutil

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: install Debian's chromium package (.ci/run does) to run the browser test")
    playwright = pytest.importorskip("playwright.sync_api", reason="no playwright: pip install -e '.[test]'")
    with playwright.sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_the_quick_demo_report_renders_offline_in_chromium(browser, quick_demo, tmp_path_factory):
    page = browser.new_page(viewport=LAPTOP)
    errors, requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    report = quick_demo / "report.html"
    page.goto(report.as_uri(), wait_until="load")
    images = page.evaluate("[...document.images].map(i => [i.alt, i.complete, i.naturalWidth])")
    markdown = (quick_demo / "report.md").read_text()
    assert len(images) == markdown.count("![") >= 8  # heat maps, curves and distance figures
    assert all(complete and width > 0 for _, complete, width in images), [i for i in images if not i[2]]
    assert {alt.split(",")[0] for alt, _, _ in images} >= {
        "scores",
        "contrasts",
        "training curves",
        "transfer vs distance",
    }
    assert page.locator("table").count() == markdown.count("\n|---") >= 10
    assert all(alt.strip() for alt, _, _ in images)
    # the first screen: the question and its answer, with numbers and intervals, above the fold
    assert page.locator("h2").first.inner_text() == "Answer"
    paragraphs = page.locator("xpath=//h2[.='Answer']/following-sibling::*[position() <= 3]")
    question, answer, coverage = paragraphs.all_inner_texts()
    assert question.endswith("?") and "points on average, 95% interval [" in answer and "intervals over" in coverage
    assert paragraphs.nth(2).bounding_box()["y"] + paragraphs.nth(2).bounding_box()["height"] <= LAPTOP["height"]
    # one table of every contrast, right after the answer
    assert page.locator("h2").nth(1).inner_text() == "Contrasts"
    rows = page.locator("h2:nth-of-type(2) + table tr").count() - 1
    with (quick_demo / "contrasts.csv").open(newline="") as handle:
        contrasts = {(r["a"], r["b"], r["task"], r["train_languages"]) for r in csv.DictReader(handle)}
    assert rows == len(contrasts) >= 10
    assert requests == [report.as_uri()], requests  # everything is embedded: no other request
    assert errors == []
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"], "scrolls sideways on a laptop"
    screenshot = tmp_path_factory.mktemp("browser") / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 50_000
    print(f"full-page screenshot of {report}: {screenshot}")
