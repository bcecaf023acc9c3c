"""The HTML pages in a real headless Chromium (Playwright driving the system browser; never a download).

The browser is ``$HSE_CHROMIUM`` when set, else ``chromium`` or ``chromium-browser`` on the PATH
(scripts/setup.sh installs Debian's chromium when none is present). Without Playwright or a browser the
tests skip with the reason, which under CI is a failure (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import hse
from hse.cli.leaderboard import main as leaderboard_main
from hse.demo import make_demo
from hse.report import fmt_num

pytest.importorskip("matplotlib")


def find_chromium() -> str | None:
    """The system Chromium: $HSE_CHROMIUM, else chromium / chromium-browser on the PATH."""
    given = os.environ.get("HSE_CHROMIUM")
    if given:
        return given if os.path.isfile(given) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install 'hse[dev]'), so no browser test can run")
    exe = find_chromium()
    if exe is None:
        pytest.skip(
            "no Chromium found ($HSE_CHROMIUM, chromium, chromium-browser); scripts/setup.sh installs it"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True)
        yield b
        b.close()


class Watch:
    """Every request, console message and page error of a page."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        # anything that would leave the machine is refused (and recorded above)
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(("file://", "data:")) else route.abort()
            ),
        )

    def check(self) -> None:
        offline = [u for u in self.requests if not u.startswith(("file://", "data:"))]
        assert not offline, f"requests that leave the machine: {offline}"
        assert not self.console_errors, self.console_errors


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    names, preds, masks = make_demo(n_images=16, size=64, seed=4)
    res = hse.evaluate(preds, masks, names=names)
    path = folder / "report.html"
    res.to_html(path, preds=preds, masks=masks, threshold=0.95, ci=True, title="demo report")
    return path, res


def _column(page, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent)"
    )


def test_report_in_chromium(browser, report, tmp_path):
    path, res = report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    # headline and tables render
    assert page.text_content("#headline li[data-key=hse] .value") == fmt_num(res.hse)
    assert page.is_visible("#headline li[data-key=hse] .ci")
    assert page.locator("#per-image tbody tr").count() == res.n_images
    assert page.locator("#per-threshold tbody tr").count() == res.grid.size
    # figures laid out, gallery images decoded
    boxes = [
        page.locator("figure svg").nth(i).bounding_box() for i in range(page.locator("figure svg").count())
    ]
    assert len(boxes) == 2 and all(b["width"] > 300 and b["height"] > 100 for b in boxes)
    sizes = page.eval_on_selector_all(
        "img", "ims => ims.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(sizes) >= 2 and all(ok and w > 0 and h > 0 for ok, w, h in sizes)
    # sorting by clicking a header: missed targets, ascending then descending
    missed = [int(x) for x in _column(page, "per-image", 5)]
    page.click("#per-image thead th:nth-child(6) button")
    assert [int(x) for x in _column(page, "per-image", 5)] == sorted(missed)
    assert page.get_attribute("#per-image thead th:nth-child(6)", "aria-sort") == "ascending"
    page.click("#per-image thead th:nth-child(6) button")
    assert [int(x) for x in _column(page, "per-image", 5)] == sorted(missed, reverse=True)
    # text sort on the image names, natural order (demo_2 before demo_10)
    page.click("#per-image thead th:nth-child(1) button")
    assert _column(page, "per-image", 0) == res.names
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    watch.check()
    page.close()


def test_report_readable_without_javascript(browser, report):
    path, res = report
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    assert page.text_content("#headline li[data-key=hse] .value") == fmt_num(res.hse)
    assert page.locator("#per-image tbody tr").count() == res.n_images
    assert page.locator("th button").count() == 0  # the sort buttons are the script's only addition
    assert page.locator("img").count() >= 2
    context.close()


def _board(folder: Path) -> Path:
    names, preds, masks = make_demo(n_images=12, size=48, seed=9)
    for sub in ("soft", "hard", "masks"):
        (folder / sub).mkdir()
    for n, p, m in zip(names, preds, masks, strict=True):
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(folder / "soft" / f"{n}.png")
        Image.fromarray((p > 0.6).astype(np.uint8) * 255).save(folder / "hard" / f"{n}.png")
        Image.fromarray(m.astype(np.uint8) * 255).save(folder / "masks" / f"{n}.png")
    cfg = folder / "board.toml"
    cfg.write_text(
        'title = "Demo board"\n[settings]\nthresholds = "0.1:0.9:0.2"\n'
        '[[datasets]]\nname = "demo set"\nmasks = "masks"\n'
        '[[methods]]\nname = "Soft"\n[methods.predictions]\n"demo set" = "soft"\n'
        '[[methods]]\nname = "Hard"\n[methods.predictions]\n"demo set" = "hard"\n'
    )
    return cfg


def test_leaderboard_index_in_chromium(browser, tmp_path):
    cfg = _board(tmp_path)
    out = tmp_path / "out"
    assert leaderboard_main([str(cfg), "--out", str(out), "-q"]) == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    page.goto((out / "index.html").as_uri())
    rows = page.locator("table.sortable tbody tr")
    assert rows.count() == 2
    headers = [h.strip() for h in page.eval_on_selector_all("table.sortable thead th", "ths => ths.map(t => t.textContent)")]
    assert headers[:3] == ["#", "rank (ties)", "Method"], headers
    ci_col = next(i for i, h in enumerate(headers, 1) if h.startswith("HSE 95% CI"))
    assert page.locator(f"table.sortable tbody tr td:nth-child({ci_col})").first.text_content().startswith("[")
    assert page.locator("figure svg").count() == 2
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    # each method links to its report, which loads offline and links back
    first = page.locator("table.sortable tbody tr td:nth-child(3) a").first
    method = first.text_content()
    first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/reports/demo-set/{method}.html")
    assert page.text_content("h1") == f"{method} on demo set"
    sizes = page.eval_on_selector_all("img", "ims => ims.map(i => i.naturalWidth)")
    assert all(w > 0 for w in sizes)
    page.click("text=Back to the leaderboard")
    page.wait_for_load_state("load")
    assert page.url.endswith("/index.html")
    watch.check()
    page.close()


def test_the_watch_catches_what_leaves_the_machine(browser, tmp_path):
    """The offline check is real: a page that asks for a remote image fails it (the request is aborted
    by the route, so nothing leaves the machine)."""
    page_file = tmp_path / "remote.html"
    page_file.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.invalid/x.png" alt="x"></body></html>'
    )
    page = browser.new_page()
    watch = Watch(page)
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    with pytest.raises(AssertionError, match="leave the machine"):
        watch.check()
    page.close()
