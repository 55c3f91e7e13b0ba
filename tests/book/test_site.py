"""Browser check of the built site (``make test`` runs it after the strict book build).

Serves ``book/_build/html`` on localhost, opens every page in headless Chromium (Debian's ``chromium``, driven
by Playwright) and fails on console errors, uncaught page errors, failed requests (the site must work offline:
no request may leave localhost), any formula MathJax did not typeset, and any image that did not load.
Screenshots of the landing page and of every chapter go to ``book/_build/screenshots/``.

Launch buttons: ``make test-build`` also builds a variant of the site with an example repository
(``book/_build/launch-check/``, from the same jupyter-cache); on every chapter of both builds the Binder, Colab,
repository and issue links are read in the browser and must point to the repository, branch and chapter notebook
that the build recorded in its ``launch.json`` (book/_ext/launch_links.py), or be absent when it recorded none.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
import tomllib
from pathlib import Path

import pytest
from _shared import BOOK, ROOT

pytestmark = pytest.mark.site

HTML = BOOK / "_build" / "html"
LAUNCH_HTML = BOOK / "_build" / "launch-check" / "_build" / "html"  # the variant with an example repository
SCREENSHOTS = BOOK / "_build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# pages that are Sphinx machinery rather than content; index.html is a meta-refresh stub to intro.html
SKIP = {"genindex.html", "search.html", "index.html"}
#: chapter pages live in a part's folder (book/<part>/<chapter>.ipynb -> <part>/<chapter>.html)
PAGES = (
    sorted(
        p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html") if p.name not in SKIP and "_static" not in p.parts
    )
    if HTML.exists()
    else []
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output readable
        pass


@contextlib.contextmanager
def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("book/_build/html is missing: run `make book` (or the build step of `make test`) first")
    with _serve(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def launch_server():
    if not (LAUNCH_HTML / "index.html").exists():
        pytest.fail(f"{LAUNCH_HTML} is missing: `make test-build` builds it after the strict build")
    with _serve(LAUNCH_HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make browser-deps` installs it (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        print(f"\nChromium {browser.version} at {CHROMIUM}, driven by Playwright")  # Debian's version floats
        yield browser
        browser.close()


CHAPTERS = [page for page in PAGES if "/" in page]


def test_the_site_has_the_landing_page_and_chapters():
    assert "intro.html" in PAGES and CHAPTERS
    assert "url=intro.html" in (HTML / "index.html").read_text()  # the site root redirects to the landing page


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_cleanly_with_typeset_math_and_images(server, browser, page_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None,
    )
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} ({request.failure})"))
    page.on(
        "request",
        lambda request: (
            problems.append(f"request leaves the site: {request.url}")
            if not request.url.startswith((server, "data:", "blob:", "about:"))
            else None
        ),
    )
    page.goto(f"{server}/{page_path}", wait_until="load")
    page.wait_for_load_state("networkidle")

    math_count = page.evaluate("document.querySelectorAll('.math, span.math, div.math').length")
    if math_count:
        # MathJax 3 exposes a startup promise; wait for it, then for the last typeset pass
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
        page.evaluate("MathJax.startup.promise")
        untypeset = page.evaluate(
            """() => Array.from(document.querySelectorAll('.math'))
                     .filter(el => !el.querySelector('mjx-container'))
                     .map(el => el.textContent.slice(0, 80))"""
        )
        errors = page.evaluate(
            """() => Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                     .map(e => e.textContent || e.getAttribute('data-mjx-error'))"""
        )
        problems += [f"formula not typeset: {text!r}" for text in untypeset]
        problems += [f"MathJax error: {text!r}" for text in errors]
        assert page.evaluate("document.querySelectorAll('mjx-container').length") > 0

    broken_images = page.evaluate(
        """() => Array.from(document.images)
                 .filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => img.getAttribute('src'))"""
    )
    problems += [f"image did not load: {src}" for src in broken_images]

    if page_path == "intro.html" or page_path.count("/") >= 1:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "landing" if page_path == "intro.html" else page_path.replace("/", "__").removesuffix(".html")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=page_path == "intro.html")
    page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page_path", CHAPTERS)
def test_chapter_has_figures_proofs_exercises_and_resolved_citations(server, browser, page_path):
    """Every chapter follows the course skeleton: figures, sphinx-proof blocks, exercises with dropdown
    solutions, and citations that link to entries of its bibliography."""
    page = browser.new_page()
    page.goto(f"{server}/{page_path}", wait_until="networkidle")

    def count(selector: str) -> int:
        return page.evaluate(f"document.querySelectorAll({selector!r}).length")

    assert count("img[src*='_images']") >= 1, "no figure"
    assert count("div.proof") >= 1, "no sphinx-proof block"
    assert count("div.exercise") >= 1, "no exercise"
    assert count("div.solution.dropdown") >= 1, "no dropdown solution"
    citations = page.evaluate(
        """() => Array.from(document.querySelectorAll('a.reference.internal[href^="#"]'))
                 .map(a => document.getElementById(decodeURIComponent(a.hash.slice(1))))
                 .filter(target => target && target.closest('[role="doc-biblioentry"]')).length"""
    )
    entries = count("[role='doc-biblioentry']")
    page.close()
    assert citations >= 1 and entries >= 1, f"{citations} citation links resolve to {entries} bibliography entries"


def _recorded_repository(html: Path) -> dict | None:
    record = html.parent / "launch.json"
    assert record.is_file(), f"{record} is missing: the build did not run book/_ext/launch_links.py"
    return json.loads(record.read_text())["repository"]


def test_the_launch_check_build_points_to_the_example_repository():
    """make test-build's variant is built with BOOK_REPOSITORY_URL=https://github.com/example/vi-course (branch
    main) and the strict build with BOOK_REPOSITORY_URL=off; the Makefile and this test agree on both."""
    makefile = (BOOK.parent / "Makefile").read_text()
    url = re.search(r"^LAUNCH_CHECK_URL := (\S+)$", makefile, re.M)[1]
    branch = re.search(r"^LAUNCH_CHECK_BRANCH := (\S+)$", makefile, re.M)[1]
    assert _recorded_repository(LAUNCH_HTML) == {"url": url, "branch": branch, "source": "BOOK_REPOSITORY_URL"}
    assert "$(call build_book,quick,BOOK_REPOSITORY_URL=off)" in makefile


def _launch_links(page) -> list[dict]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('a[href^="http"]'))
                 .filter(a => !a.closest('article'))  // the header's buttons, not the chapter's own references
                 .map(a => ({href: a.href, text: a.textContent.trim()}))"""
    )


@pytest.mark.parametrize("site", ["site", "launch-check"])
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_launch_links_point_to_the_repository_branch_and_the_chapter_notebook(request, browser, site, page_path):
    html = HTML if site == "site" else LAUNCH_HTML
    base = request.getfixturevalue("server" if site == "site" else "launch_server")
    repo = _recorded_repository(html)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(f"{base}/{page_path}", wait_until="networkidle")
    links = _launch_links(page)
    services = ("mybinder.org", "colab.research.google.com", "github.com", "gitlab.com", "/hub/")
    if repo is None:  # no repository: no dead buttons at all
        assert not [link for link in links if any(s in link["href"] for s in services)], links
        assert page.locator(".dropdown-launch-buttons").count() == 0
        page.close()
        assert not problems, problems
        return
    owner_repo = "/".join(repo["url"].split("/")[3:])
    notebook = f"book/{page_path.removesuffix('.html')}.ipynb"
    assert (BOOK.parent / notebook).is_file()
    expected = {
        "Binder": f"https://mybinder.org/v2/gh/{owner_repo}/{repo['branch']}?urlpath=lab/tree/{notebook}",
        "Colab": f"https://colab.research.google.com/github/{owner_repo}/blob/{repo['branch']}/{notebook}",
    }
    # keyed by the link text: sphinx-book-theme's tooltip script moves `title` to data-bs-original-title
    found = {link["text"]: link["href"] for link in links}
    for text, href in expected.items():
        assert found.get(text) == href, f"{text}: {found.get(text)} (expected {href})"
    assert repo["url"] in [link["href"] for link in links], "no repository button"
    assert any(link["href"].startswith(f"{repo['url']}/issues/new?") for link in links), "no open-issue button"
    # the buttons work in the browser: the launch menu opens and shows the Binder and Colab entries with their logos
    page.click(".dropdown-launch-buttons button")
    for text, href in expected.items():
        entry = page.locator(f".dropdown-launch-buttons a[href='{href}']", has_text=text)
        entry.wait_for(state="visible", timeout=5_000)
        assert entry.locator("img").evaluate("img => img.complete && img.naturalWidth > 0"), f"{text}: no logo"
    page.close()
    assert not problems, problems


def test_the_downloadable_notebooks_carry_the_repository_in_their_colab_guard():
    """The website's .ipynb downloads of the launch-check build name the repository in the guard's pip line."""
    repo = _recorded_repository(LAUNCH_HTML)
    for page_path in CHAPTERS:
        download = LAUNCH_HTML / "_sources" / page_path.replace(".html", ".ipynb")
        assert f'COURSE_REPOSITORY = \\"{repo["url"]}\\"' in download.read_text(), download
    plain = HTML / "_sources" / CHAPTERS[0].replace(".html", ".ipynb")
    if _recorded_repository(HTML) is None:  # as committed: pyproject.toml's [project.urls] Repository
        committed = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
        assert f'COURSE_REPOSITORY = \\"{committed}\\"' in plain.read_text()


# ------------------------------------------------------------------------------------------ layout: fits the column
#: the widths the layout check opens every chapter at: a desktop window and a phone (iPhone 12-15, CSS px)
LAYOUT_WIDTHS = {"desktop": 1400, "phone": 390}
LAYOUT_RECORD = BOOK / "_build" / "layout"  # one JSON per chapter and width: the measured numbers, for the report
#: the smallest rendered font a figure may have at the desktop width, in CSS px (at the phone width a figure is
#: shrunk to the screen; the reader zooms, so there it is measured and recorded, not asserted)
MIN_FIGURE_FONT_PX = 9.0

_LAYOUT_JS = """(minFontPt) => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const col = article.getBoundingClientRect();
  const slack = 1;  // sub-pixel rounding
  const fits = r => r.left >= col.left - slack && r.right <= col.right + slack;
  // the nearest box between el (inclusive) and the article that scrolls sideways (overflow-x auto/scroll)
  const scroller = el => {
    for (let a = el; a && a !== article; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return a;
    }
    return null;
  };
  // an ancestor (or el) that hides what does not fit: overflow-x hidden/clip with content wider than its box
  const clipper = el => {
    for (let a = el; a && a !== article; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if ((o === 'hidden' || o === 'clip') && a.scrollWidth > a.clientWidth + slack) return a;
    }
    return null;
  };
  const check = (selector, kind) => {
    const bad = [];
    let total = 0, scrolled = 0;  // scrolled: wider than the column, shown in a box that scrolls sideways
    for (const el of article.querySelectorAll(selector)) {
      if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;  // hidden (dropdowns)
      total += 1;
      const r = el.getBoundingClientRect();
      const s = scroller(el);
      let problem = null;
      if (s) {  // inside a scroll box: the box must fit, and a wider content must be reachable by scrolling
        if (!fits(s.getBoundingClientRect())) problem = 'its scroll box is wider than the column';
        else if (s.scrollWidth > s.clientWidth + slack) scrolled += 1;
      } else if (clipper(el)) {
        problem = 'cut by an overflow: hidden box';
      } else if (!fits(r) || el.scrollWidth > el.clientWidth + slack) {
        problem = 'wider than the column, no scroll box';
      }
      if (problem) bad.push({kind, problem, width: Math.round(Math.max(r.width, el.scrollWidth)),
                             text: (el.textContent || el.getAttribute('src') || '').trim().slice(0, 60)});
    }
    return {total, scrolled, bad};
  };
  const equations = check('mjx-container[display="true"]', 'equation');
  const outputs = check('.cell_output pre, .cell_output table, .output pre', 'output');
  const figures = check('.cell_output img, figure img', 'figure');
  // figure fonts: a matplotlib figure's text is font_pt * dpi/72 px in the PNG; the page shows the PNG at
  // rendered/natural of that size
  const fonts = [];
  for (const img of article.querySelectorAll('.cell_output img')) {
    if (!img.naturalWidth || img.offsetParent === null) continue;
    const ratio = img.getBoundingClientRect().width / img.naturalWidth;
    fonts.push({src: img.getAttribute('src'), ratio, font_px: minFontPt.pt * minFontPt.dpi / 72 * ratio});
  }
  return {column: Math.round(col.width), page_scroll_width: document.documentElement.scrollWidth,
          window_width: window.innerWidth, equations, outputs, figures, fonts};
}"""


def _style_font() -> dict:
    """The smallest font size of the course style and the inline figures' dpi (helpers/common/plotting.py)."""
    from helpers.common.plotting import COURSE_STYLE

    sizes = [COURSE_STYLE[k] for k in ("font.size", "axes.labelsize", "axes.titlesize", "legend.fontsize")]
    return {"pt": float(min(sizes)), "dpi": float(COURSE_STYLE["figure.dpi"])}


@pytest.mark.parametrize("width", list(LAYOUT_WIDTHS), ids=list(LAYOUT_WIDTHS))
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_nothing_is_wider_than_the_column(server, browser, page_path, width):
    """At a desktop and a phone width, no display equation, printed output or figure is wider than the content
    column unless it sits in a box that scrolls sideways (which then fits the column), nothing is cut by an
    overflow: hidden box, the page itself does not scroll sideways, and (desktop) every figure's smallest font,
    font_pt * dpi/72 * rendered/natural width, is at least MIN_FIGURE_FONT_PX. The numbers go to book/_build/layout/."""
    page = browser.new_page(viewport={"width": LAYOUT_WIDTHS[width], "height": 900})
    page.goto(f"{server}/{page_path}", wait_until="networkidle")
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("MathJax.startup.promise")
    page.evaluate("Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))")
    result = page.evaluate(_LAYOUT_JS, _style_font())
    page.close()
    LAYOUT_RECORD.mkdir(parents=True, exist_ok=True)
    name = page_path.replace("/", "__").removesuffix(".html")
    (LAYOUT_RECORD / f"{name}.{width}.json").write_text(json.dumps(result, indent=1))

    problems = [
        f"{b['kind']} {b['width']} px in a {result['column']} px column, {b['problem']}: {b['text']!r}"
        for part in ("equations", "outputs", "figures")
        for b in result[part]["bad"]
    ]
    if result["page_scroll_width"] > result["window_width"] + 1:
        scroll, window = result["page_scroll_width"], result["window_width"]
        problems.append(f"the page scrolls sideways: {scroll} px in a {window} px window")
    if width == "desktop":
        problems += [
            f"figure font {f['font_px']:.1f} px < {MIN_FIGURE_FONT_PX} px (shown at {f['ratio']:.0%}): {f['src']}"
            for f in result["fonts"]
            if f["font_px"] < MIN_FIGURE_FONT_PX
        ]
    assert not problems, "\n".join(problems)


def test_no_orphan_index_pages():
    """Sphinx-proof's "Proof Index" (prf-prf.html, raw labels, linked from nowhere) and any other domain index are
    not built (book/_config.yml: html_domain_indices: false)."""
    assert not list(HTML.glob("*-*index*.html")) and not (HTML / "prf-prf.html").exists()
