"""The book as PDF: one file per chapter and one for the whole book, printed from the built HTML site.

    python book/_ext/pdf.py book/_build/html          (what `make pdf` runs, after the HTML build)

writes ``<html>/_downloads/pdf/book.pdf`` and ``<html>/_downloads/pdf/<part>-<chapter>.pdf`` (``deep-vae.pdf``).
The same module is also a tiny Sphinx extension (``sphinx.local_extensions`` in ``_config.yml``): every chapter
page gets a line under its title that links its PDF and the book's, and the landing page links the book's.

Why print the HTML site with headless Chromium rather than Sphinx's LaTeX builder (``jupyter-book build
--builder pdflatex``): the LaTeX route needs TeX Live (``latexmk``, ``xelatex`` and a few hundred MB of fonts and
packages), which is neither on the build machine nor installable without root, while Chromium (Debian's
``chromium``) and Playwright are already what the browser check uses. Printing the site also keeps exactly what the
reader sees on the web: the executed outputs and figures of the build, the maths typeset by the site's own offline
MathJax (so a macro or environment that works on the site works in the PDF), the numbering and the cross-references
resolved by Sphinx. It is Jupyter Book's ``pdfhtml`` idea (which drives pyppeteer, unmaintained and fetching its
own Chromium from the internet), done with the Chromium and Playwright we have, offline.

What is printed: the landing page, then every chapter in the order of the site's table of contents (read from its
sidebar), in the print layout (no navigation bar, sidebars, launch or download buttons). The solutions' dropdowns
are opened: this is the instructor's edition (the student edition's site has no solutions to print). The source of
code cells the chapters hide ("Show code cell source") stays hidden, as on the site; their outputs are printed.
Each chapter's PDF has an outline from its headings; book.pdf nests them under their part and chapter.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

#: where the PDFs go, relative to the site's root (Sphinx keeps ``_downloads`` for downloadable files)
PDF_DIR = "_downloads/pdf"
BOOK_PDF = "book.pdf"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
CHROMIUM_FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Print layout on top of the theme's own print rules (which already drop the top bar and the sidebars): no launch or
# download buttons, no theme print header (it repeats the title), code that wraps instead of being cut at the margin,
# the solutions' dropdowns shown, the hidden code cells' "Show code cell source" toggles left out.
PRINT_CSS = """
@page { size: A4; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article,
.prev-next-area, .prev-next-footer, #jb-print-docs-body, .pdf-links, .headerlink, .toggle-button,
details.hide.above-input, .copybtn, #pst-back-to-top, .bd-search, .skip-link { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width { max-width: 100% !important;
  width: 100% !important; margin: 0 !important; padding: 0 !important; }
.toggle-hidden { display: block !important; visibility: visible !important; opacity: 1 !important; }
.admonition, div.proof, figure, img, mjx-container[display="true"] { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
/* the theme hides the article's own title in print (its print header repeats it): show it, drop the header */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
/* a box that scrolls is printed as one unbreakable block: let code and outputs flow across pages and wrap */
pre { white-space: pre-wrap !important; word-break: break-word; overflow: visible !important; }
.cell, .cell_input, .cell_output, div.highlight, .output { overflow: visible !important; }
div.highlight, div[class*="highlight-"] { break-inside: auto !important; display: block !important; }
.bd-article div.math, .bd-article mjx-container[display="true"], .cell_output .output, .course-table-wrap {
  overflow: visible !important; }
img { max-width: 100% !important; height: auto !important; }
a { color: inherit; text-decoration: none; }
"""

# After MathJax: open every dropdown (solutions and other toggles), then shrink what is still wider than the column
# (a long display equation or table would be cut at the page's edge: paper does not scroll).
PREPARE_JS = """() => {
  document.querySelectorAll('.toggle-hidden').forEach(el => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('details:not(.hide)').forEach(el => { el.open = true; });
  const column = document.querySelector('article.bd-article') || document.body;
  const width = column.clientWidth;
  // measure everything first, then write: one layout, not one per element
  const wide = Array.from(document.querySelectorAll('mjx-container[display="true"], table, .cell_output .output'))
    .map(el => [el, el.scrollWidth]).filter(([el, w]) => w > width + 1);
  wide.forEach(([el, w]) => { el.style.zoom = (width / w).toFixed(3); });
  return wide.length;
}"""

# The headings, in document order, as Chromium's outline lists them (h1-h6 and ARIA headings that are shown): their
# text replaces the outline's, in which Chromium drops the space at every line break of a wrapped heading.
HEADINGS_JS = """() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]'))
  .filter(el => el.getClientRects().length > 0)
  .map(el => { const copy = el.cloneNode(true); copy.querySelectorAll('.headerlink').forEach(a => a.remove());
               return copy.textContent.replace(/\\s+/g, ' ').trim(); })"""

# Each page's footer: the chapter's title, the licences (the site's page footer, _config.yml's extra_footer), the page.
FOOTER = """<div style="font-size: 7px; width: 100%; margin: 0 12mm; display: flex; justify-content: space-between;
  gap: 4mm; font-family: sans-serif; color: #555;"><span>{title}</span><span>{licence}</span><span
  style="white-space: nowrap;"><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>"""

# The licence sentences of the site's footer (``.course-licence``), up to the last one that names a licence:
# "Text, equations, figures and exercises: CC BY 4.0. Code: MIT."
LICENCE_JS = """() => {
  const el = document.querySelector('.course-licence');
  const links = el ? Array.from(el.querySelectorAll('a[rel="license"]')) : [];
  if (!links.length) return '';
  const text = el.textContent.replace(/\\s+/g, ' ').trim();
  const last = links[links.length - 1].textContent.trim();
  const end = text.indexOf('.', text.indexOf(last) + last.length);
  return end < 0 ? text : text.slice(0, end + 1);
}"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pdf_name(docname: str) -> str:
    """The PDF file name of a chapter: ``deep/vae`` (or ``deep/vae.html``) -> ``deep-vae.pdf``."""
    return docname.removesuffix(".html").replace("/", "-") + ".pdf"


@dataclass
class Chapter:
    part: str  # the part's caption in the table of contents ("" for the landing page)
    title: str  # as the sidebar shows it, with its number ("6. The variational autoencoder")
    href: str  # relative to the site's root ("deep/vae.html")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def _serve(directory: Path):
    """The site on a localhost port (MathJax loads its fonts and extensions by URL, which file:// would block)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _table_of_contents(page, url: str) -> list[Chapter]:
    """The landing page and the chapters, in order, from the site's sidebar (the _toc.yml the site was built with)."""
    page.goto(f"{url}/intro.html", wait_until="load")
    entries = page.evaluate(
        """() => {
          const out = [];
          let part = '';
          const nav = document.querySelector('nav.bd-docs-nav') || document;
          nav.querySelectorAll('p.caption, li.toctree-l1 > a.reference.internal').forEach(el => {
            if (el.tagName === 'P') { part = el.textContent.trim(); }
            else { out.push({part, title: el.textContent.trim(), href: el.getAttribute('href')}); }
          });
          return out;
        }"""
    )
    # every page of the table of contents but the landing page (the sidebar's first, "home" link)
    chapters = [Chapter(e["part"], e["title"], e["href"].split("#")[0]) for e in entries if e["part"]]
    if not chapters:
        raise SystemExit(f"no chapter found in the sidebar of {url}/intro.html: is this a Jupyter Book site?")
    title = page.evaluate("document.querySelector('article h1')?.firstChild?.textContent?.trim() || document.title")
    return [Chapter("", title, "intro.html"), *chapters]


def _print_page(page, url: str, chapter: Chapter, path: Path) -> list[str]:
    problems: list[str] = []
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(f"{url}/{chapter.href}", wait_until="networkidle")
    if page.evaluate("document.querySelectorAll('.math').length"):
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
        page.evaluate("MathJax.startup.promise")
        untypeset = page.evaluate("document.querySelectorAll('.math:not(:has(mjx-container))').length")
        if untypeset:
            problems.append(f"{untypeset} formula(s) not typeset by MathJax")
    page.add_style_tag(content=PRINT_CSS)
    page.evaluate(PREPARE_JS)
    page.evaluate("Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))")
    broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth)).length")
    if broken:
        problems.append(f"{broken} image(s) did not load")
    if problems:
        raise SystemExit(f"{chapter.href}: " + "; ".join(problems))
    headings = page.evaluate(HEADINGS_JS)
    licence = page.evaluate(LICENCE_JS)
    page.pdf(
        path=str(path),
        format="A4",
        margin={"top": "15mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
        print_background=True,
        outline=True,  # the PDF's bookmarks, from the page's headings
        tagged=True,
        display_header_footer=True,
        header_template="<span></span>",
        footer_template=FOOTER.format(title=_escape(chapter.title), licence=_escape(licence)),
    )
    return headings


def _fix_outline(path: Path, headings: list[str]) -> bool:
    """Give the outline of the PDF at ``path`` the headings' text (see HEADINGS_JS), when they match one to one."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter(clone_from=str(path))  # keeps the tagged structure of Chromium's PDF
    items = []

    def walk(node) -> None:
        child = node.get("/First")
        while child is not None:
            child = child.get_object()
            items.append(child)
            walk(child)
            child = child.get("/Next")

    if "/Outlines" in writer.root_object:
        walk(writer.root_object["/Outlines"].get_object())
    if len(items) != len(headings):
        return False
    for item, text in zip(items, headings, strict=True):
        item[NameObject("/Title")] = TextStringObject(text)
    with path.open("wb") as f:
        writer.write(f)
    return True


def _merge(chapters: list[tuple[Chapter, Path]], out: Path, title: str) -> int:
    """book.pdf from the chapters' PDFs, with an outline part > chapter > the chapter's own headings."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    parts: dict[str, object] = {}

    def copy_outline(reader, items, parent, offset: int) -> None:
        last = parent
        for item in items:
            if isinstance(item, list):  # the children of the previous item
                copy_outline(reader, item, last, offset)
                continue
            number = reader.get_destination_page_number(item)
            last = writer.add_outline_item(title=item.title, page_number=offset + number, parent=parent)

    for chapter, path in chapters:
        reader = PdfReader(path)
        offset = len(writer.pages)
        writer.append(reader, import_outline=False)
        parent = None
        if chapter.part:
            if chapter.part not in parts:
                parts[chapter.part] = writer.add_outline_item(title=chapter.part, page_number=offset)
            parent = parts[chapter.part]
        # Chromium's outline of a chapter has its h1 (the chapter's title) at the top: put it under its part
        copy_outline(reader, reader.outline, parent, offset)
    writer.add_metadata({"/Title": title})
    writer.page_mode = "/UseOutlines"
    with out.open("wb") as f:
        writer.write(f)
    return len(writer.pages)


def build(html: Path, only: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """Print every chapter of the site in ``html`` and merge them into book.pdf; returns {file name: (pages, bytes)}.

    ``only``: print just these chapters (``deep/vae``), without book.pdf.
    """
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    # pypdf notes that Chromium's PDFs declare one object too few in their trailer, which it repairs: not a problem
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    html = html.resolve()
    if not (html / "intro.html").is_file():
        raise SystemExit(f"{html}/intro.html is missing: build the site first (`make book` or `make test-build`)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}: `make browser-deps` installs it (Debian: chromium)")
    out = html / PDF_DIR
    out.mkdir(parents=True, exist_ok=True)
    printed: list[tuple[Chapter, Path]] = []
    with _serve(html) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        chapters = _table_of_contents(page, url)
        page.close()
        if only:
            unknown = set(only) - {c.href.removesuffix(".html") for c in chapters}
            if unknown:
                raise SystemExit(f"not a chapter of the site: {', '.join(sorted(unknown))} (e.g. deep/vae)")
            chapters = [c for c in chapters if c.href.removesuffix(".html") in only]
        for chapter in chapters:
            start = time.perf_counter()
            # the landing page goes into book.pdf only; each chapter also stands alone as <part>-<chapter>.pdf
            path = out / (pdf_name(chapter.href) if chapter.part else "_intro.pdf")
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.emulate_media(media="print")
            headings = _print_page(page, url, chapter, path)
            page.close()
            if not _fix_outline(path, headings):
                print(f"  note: the outline of {path.name} keeps Chromium's titles (its headings did not match)")
            printed.append((chapter, path))
            print(f"  {path.name}: {time.perf_counter() - start:.1f} s", flush=True)
        browser.close()
    if not only:
        _merge(printed, out / BOOK_PDF, chapters[0].title)
        (out / "_intro.pdf").unlink()
    return {p.name: (len(PdfReader(p).pages), p.stat().st_size) for _, p in printed if p.exists()} | (
        {} if only else {BOOK_PDF: (len(PdfReader(out / BOOK_PDF).pages), (out / BOOK_PDF).stat().st_size)}
    )


# ---------------------------------------------------------------------------------------------- Sphinx extension
def _link_pdfs(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """A line under the title of each chapter page (and of the landing page) that links its PDF."""
    if doctree is None or "body" not in context:
        return
    pathto = context["pathto"]
    book = f'<a class="reference download" href="{pathto(f"{PDF_DIR}/{BOOK_PDF}", 1)}">the whole book</a>'
    if pagename == app.config.root_doc:
        line = f"PDF of {book}"
    elif any(pagename in children for children in app.env.toctree_includes.values()):  # a page of the book
        href = pathto(f"{PDF_DIR}/{pdf_name(pagename)}", 1)
        line = f'PDF of <a class="reference download" href="{href}">this chapter</a> · of {book}'
    else:
        return
    body = context["body"]
    end = body.find("</h1>")
    if end >= 0:
        end += len("</h1>")
        context["body"] = f'{body[:end]}\n<p class="pdf-links"><small>{line}</small></p>{body[end:]}'


def setup(app) -> dict:
    app.connect("html-page-context", _link_pdfs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path, help="the built site, e.g. book/_build/html")
    parser.add_argument("--only", nargs="+", metavar="PART/CHAPTER", help="just these chapters (no book.pdf)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sizes = build(args.html, args.only)
    for name, (pages, size) in sizes.items():
        print(f"{name}: {pages} pages, {size / 1e6:.1f} MB")
    print(f"PDFs in {args.html / PDF_DIR} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
