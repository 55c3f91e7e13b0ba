"""The PDFs of the book (book/_ext/pdf.py; `make pdf`, which `make book` and `make test-build` run).

Checks whatever site the last build left in ``book/_build/html`` (``make test``: the quick scale), as a reader of the
PDFs would: one PDF per chapter of ``_toc.yml`` and ``book.pdf`` that is the landing page followed by every chapter in
order (its page count is theirs); every chapter's title in ``book.pdf`` (text and outline); no ``??`` (Sphinx's
unresolved reference); the equations typeset by MathJax, not printed as raw TeX (none of the control words of the
site's own formulas in the text, and MathJax's fonts embedded wherever a chapter has maths); the executed outputs and
the figures printed; and each chapter page's link to its PDF (and to the book's) working on the served website.

Skipped only when no site is built; a built site without its PDFs fails (run ``make pdf``).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import unicodedata
import urllib.request
from urllib.parse import urljoin

import pytest
import yaml
from _shared import BOOK

pytestmark = pytest.mark.site

HTML = BOOK / "_build" / "html"
PDFS = HTML / "_downloads" / "pdf"
TOC = yaml.safe_load((BOOK / "_toc.yml").read_text())
#: (part caption, docname) of every chapter, in the book's order
CHAPTERS = [(part["caption"], entry["file"]) for part in TOC["parts"] for entry in part["chapters"]]
#: the raw TeX a formula would leave in the text if MathJax had not typeset it (beside the site's own control words)
RAW_TEX = ["$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\end{", "\\mathbb", "\\frac"]


def pdf_name(docname: str) -> str:
    return docname.replace("/", "-") + ".pdf"


def _squash(text: str) -> str:
    """Text compared without whitespace and with ligatures unfolded (PDF text breaks lines and keeps 'ﬁ')."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def site():
    if not (HTML / "intro.html").is_file():
        pytest.skip("no site is built in book/_build/html: `make test-build` (or `make book`) builds it and its PDFs")
    missing = [p for p in ["book.pdf", *(pdf_name(d) for _, d in CHAPTERS)] if not (PDFS / p).is_file()]
    assert not missing, f"the site has no {', '.join(missing)} in {PDFS}: run `make pdf`"
    return HTML


def _soup(docname: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup((HTML / f"{docname}.html").read_text(), "html.parser")


def _title(docname: str) -> str:
    """The chapter's title as its page shows it (with its number: "1. The evidence lower bound")."""
    h1 = _soup(docname).select_one("article.bd-article h1")
    for link in h1.select(".headerlink"):
        link.decompose()
    return h1.get_text(" ", strip=True)


@functools.cache
def _reader(name: str):
    from pypdf import PdfReader

    return PdfReader(PDFS / name)


@pytest.fixture(scope="module")
def book_pages(site) -> list[str]:
    """The text of every page of book.pdf (extracted once: about a minute)."""
    return [page.extract_text() for page in _reader("book.pdf").pages]


@pytest.fixture(scope="module")
def chapter_pages(site, book_pages) -> dict[str, range]:
    """The pages of book.pdf that hold each chapter: book.pdf is the landing page then the chapters' PDFs in order."""
    counts = [len(_reader(pdf_name(d)).pages) for _, d in CHAPTERS]
    start = len(book_pages) - sum(counts)
    ranges = {}
    for (_, docname), count in zip(CHAPTERS, counts, strict=True):
        ranges[docname] = range(start, start + count)
        start += count
    return ranges


def test_book_pdf_is_the_landing_page_then_every_chapter(site, book_pages):
    book = _reader("book.pdf")
    counts = {d: len(_reader(pdf_name(d)).pages) for _, d in CHAPTERS}
    landing = len(book.pages) - sum(counts.values())
    size = (PDFS / "book.pdf").stat().st_size
    print(f"\nbook.pdf: {len(book.pages)} pages, {size / 1e6:.1f} MB; landing page {landing}; chapters {counts}")
    assert landing >= 1, f"book.pdf has {len(book.pages)} pages, its chapters {sum(counts.values())}"
    assert _squash(book_pages[0]).startswith(_squash(_title("intro"))), "book.pdf does not open with the landing page"
    assert all(count >= 1 for count in counts.values()), counts
    # every page A4 (595 x 842 pt), portrait
    for page in book.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, (width, height)
    # each chapter's pages in book.pdf are its own PDF's pages: the same text, in the same place
    start = landing
    for _, docname in CHAPTERS:
        first = _reader(pdf_name(docname)).pages[0].extract_text()
        assert _squash(first) == _squash(book_pages[start]), f"page {start + 1} of book.pdf is not {docname}'s first"
        start += counts[docname]


def test_every_chapter_title_is_in_book_pdf_and_its_outline(site, book_pages, chapter_pages):
    text = _squash("\n".join(book_pages))
    outline = _reader("book.pdf").outline
    # the outline: each part, then under it its chapters' titles (and under each, that chapter's headings)
    tops = [item.title for item in outline if not isinstance(item, list)]
    children = [item for item in outline if isinstance(item, list)]
    for part in dict.fromkeys(part for part, _ in CHAPTERS):
        assert part in tops, f"part {part!r} not in book.pdf's outline {tops}"
    by_part = dict(zip(tops[len(tops) - len(children) :], children, strict=True))
    for part, docname in CHAPTERS:
        title = _title(docname)
        assert _squash(title) in text, f"{docname}: title {title!r} not in book.pdf"
        first = book_pages[chapter_pages[docname].start]
        assert _squash(first).startswith(_squash(title)), f"{docname}: its pages in book.pdf do not start with it"
        under = [item.title for item in by_part[part] if not isinstance(item, list)]
        assert _squash(title) in map(_squash, under), f"{docname}: {title!r} not under {part!r} in the outline"


def test_every_page_states_the_licences(site, book_pages):
    """The site's footer names the licences on every page (_config.yml); the PDF's page footer does too."""
    licences = [a.get_text(strip=True) for a in _soup("intro").select(".course-licence a[rel=license]")]
    assert licences, "the site's footer names no licence (.course-licence in _config.yml's extra_footer)"
    bad = [i + 1 for i, text in enumerate(book_pages) if not all(_squash(lic) in _squash(text) for lic in licences)]
    assert not bad, f"page(s) {bad} of book.pdf do not name the licences {licences}"


def test_no_unresolved_reference(site, book_pages):
    bad = [i + 1 for i, text in enumerate(book_pages) if "??" in text]
    assert not bad, f"'??' (an unresolved reference) on page(s) {bad} of book.pdf"


def _control_words() -> set[str]:
    """Every TeX control word of the site's formulas (their source is in the HTML, which MathJax typesets)."""
    words = set()
    for path in HTML.rglob("*.html"):
        if "_static" in path.parts:
            continue
        for element in re.findall(r'class="math[^"]*"[^>]*>(.*?)</(?:span|div)>', path.read_text(), re.S):
            words |= set(re.findall(r"\\[A-Za-z]+", element))
    return words


def _fonts(name: str, pages: range | None = None) -> set[str]:
    fonts = set()
    reader = _reader(name)
    for page in pages or range(len(reader.pages)):
        resources = reader.pages[page].get("/Resources")
        for font in (resources.get_object().get("/Font") or {}).values() if resources else []:
            descriptor = font.get_object().get("/FontDescriptor")
            fonts.add(str(descriptor.get_object().get("/FontName")) if descriptor else "")
    return fonts


def _without_code(docname: str, text: str) -> str:
    """``text`` (squashed) without the page's code: its code cells, outputs and literals may show TeX as TeX."""
    lines = {
        _squash(line) for el in _soup(docname).select("article pre, article code") for line in el.get_text().split("\n")
    }
    for line in sorted(lines - {""}, key=len, reverse=True):
        text = text.replace(line, "")
    return text


def test_equations_are_typeset_not_raw_tex(site, book_pages, chapter_pages):
    words = _control_words()
    assert {"\\frac", "\\log"} <= words, "the site's formulas were not found in its HTML"
    landing = range(0, chapter_pages[CHAPTERS[0][1]].start)
    raw = {}
    for docname, pages in [("intro", landing), *chapter_pages.items()]:
        text = _without_code(docname, _squash("".join(book_pages[i] for i in pages)))
        found = sorted(w for w in words | set(RAW_TEX) if _squash(w) in text)
        if found:
            raw[docname] = found
    assert not raw, f"raw TeX outside code in book.pdf (chapter: control words): {raw}"
    # MathJax's CHTML output uses its own web fonts (MathJax_Main, MathJax_Math, ...): they are in each chapter's PDF
    # whose page has maths, so the equations were typeset by MathJax and printed as such
    for _, docname in CHAPTERS:
        if _soup(docname).select("article .math"):
            fonts = _fonts(pdf_name(docname))
            assert any("MathJax_" in font for font in fonts), f"{pdf_name(docname)}: no MathJax font, {fonts}"


def test_executed_outputs_and_figures_are_printed(site, book_pages, chapter_pages):
    for _, docname in CHAPTERS:
        soup = _soup(docname)
        figures = soup.select("article .cell_output img")
        outputs = [pre.get_text() for pre in soup.select("article .cell_output pre")]
        if not outputs and not figures:
            continue  # a page without code (the instructors' page)
        text = _squash("\n".join(book_pages[i] for i in chapter_pages[docname]))
        lines = [line for output in outputs for line in output.splitlines() if len(line.strip()) > 8]
        assert lines and _squash(lines[0]) in text, f"{docname}: its first executed output is not in its PDF"
        reader = _reader(pdf_name(docname))
        images = sum(
            1
            for page in reader.pages
            for x in ((page["/Resources"].get_object().get("/XObject") or {}).values())
            if x.get_object().get("/Subtype") == "/Image"
        )
        assert images >= len(figures), f"{pdf_name(docname)}: {images} images for {len(figures)} figures on the page"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _get_pdf(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        body = response.read()
    assert body.startswith(b"%PDF-"), f"{url} is not a PDF"
    return body


@pytest.mark.parametrize("docname", [d for _, d in CHAPTERS])
def test_each_chapter_page_links_its_pdf(server, docname):
    """The links under the chapter's title, followed on the served site, give its PDF and the book's."""
    page = f"{server}/{docname}.html"
    links = {a.get_text(strip=True): urljoin(page, a["href"]) for a in _soup(docname).select("p.pdf-links a")}
    assert set(links) == {"this chapter", "the whole book"}, links
    assert links["this chapter"] == f"{server}/_downloads/pdf/{pdf_name(docname)}"
    assert _get_pdf(links["this chapter"]) == (PDFS / pdf_name(docname)).read_bytes()
    assert links["the whole book"] == f"{server}/_downloads/pdf/book.pdf"
    assert _get_pdf(links["the whole book"])[:1024] == (PDFS / "book.pdf").read_bytes()[:1024]


def test_the_landing_page_links_the_book(server):
    (link,) = _soup("intro").select("p.pdf-links a")
    assert urljoin(f"{server}/intro.html", link["href"]) == f"{server}/_downloads/pdf/book.pdf"
    _get_pdf(urljoin(f"{server}/intro.html", link["href"]))


def test_pdf_file_names_follow_the_contract():
    """``<part>-<chapter>.pdf`` (``deep-vae.pdf``), as book/_ext/pdf.py names them."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("book_pdf", BOOK / "_ext" / "pdf.py")
    module = sys.modules.setdefault("book_pdf", importlib.util.module_from_spec(spec))  # its dataclass needs it there
    spec.loader.exec_module(module)
    assert module.pdf_name("deep/vae") == module.pdf_name("deep/vae.html") == pdf_name("deep/vae") == "deep-vae.pdf"
    assert module.PDF_DIR == PDFS.relative_to(HTML).as_posix() and module.BOOK_PDF == "book.pdf"
