"""A student's JupyterLab, tested in a real browser (``make site-check`` runs it with the other browser checks).

Starts ``make lab`` on a free port with its own token and a temporary home (HOME, JUPYTER_CONFIG_DIR,
JUPYTER_DATA_DIR, JUPYTER_RUNTIME_DIR, JupyterLab's settings and workspaces) and opens one short chapter in
headless Chromium. Two tests:

* the chapter *renders* as the website does (JupyterLab-MyST, ``jupyterlab-myst``): its theorems, proofs and
  exercises are styled blocks with no raw directive text (no ``:label:``, no fenced ``{prf:...}``), every formula
  is typeset with no undefined-macro error (the book's macros ``\\E``, ``\\KL``, ``\\R``, ``\\elbo`` come from the
  notebook's own first cell, ``book/_ext/notebook_header.py``), the roles are resolved, and every solution is a
  collapsed dropdown that opens on a click;
* it *runs*: all cells through the UI (menu Run > Run All Cells) at BOOK_SCALE=quick: the kernel is the course's
  named kernel "VI course", every code cell ran and none shows an error, the figures render, and the kernel
  imported ``helpers`` from this checkout.

The server is shut down in a ``finally`` and the test fails if any of its processes (server or kernel) is left;
the notebook file is never saved (autosave off; checked).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _shared import BOOK, ROOT

_spec = importlib.util.spec_from_file_location("notebook_header", BOOK / "_ext" / "notebook_header.py")
notebook_header = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebook_header)

pytestmark = pytest.mark.site

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = BOOK / "_build" / "screenshots"
CHAPTER = "vi/elbo.ipynb"  # a short chapter: seconds at the quick scale
SETTINGS = {  # JupyterLab user settings in the temporary settings folder
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},  # every cell in the DOM
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _our_processes(markers: list[str]) -> list[int]:
    """Pids whose command line holds one of ``markers`` (this test's token or runtime folder)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(marker in cmdline for marker in markers) and int(proc.name) != os.getpid():
                pids.append(int(proc.name))
    return pids


@pytest.fixture
def lab(tmp_path):
    """``make lab`` with its own port, token and home; yields (url, token); shuts everything down after."""
    port, token = _free_port(), secrets.token_hex(16)
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    settings = tmp_path / "lab-settings"
    for name, value in SETTINGS.items():
        path = settings / name  # <settings>/@jupyterlab/<extension>/<plugin>.jupyterlab-settings
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "BOOK_SCALE": "quick",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    env.pop("BOOK_SCALE_OVERRIDE", None)
    bin_dir = Path(sys.executable).parent  # the environment running the tests (.venv/bin under make)
    args = f"--no-browser --ip=127.0.0.1 --port={port} --port-retries=0 --IdentityProvider.token={token}"
    command = ["make", "-s", "--no-print-directory", "lab", f"BIN={bin_dir}", "STAMP=", "KERNEL=", f"LAB_ARGS={args}"]
    notebook = BOOK / CHAPTER
    before = notebook.read_bytes()
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    markers = [token, str(runtime)]
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make lab did not start: {(tmp_path / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, token
    finally:
        with_group = True
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # make and the server; the server shuts its kernels down
        except ProcessLookupError:
            with_group = False
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        deadline = time.monotonic() + 20
        while _our_processes(markers) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _our_processes(markers)
        for pid in left:  # only processes carrying this test's token or runtime folder: ours
            os.kill(pid, signal.SIGKILL)
        after = notebook.read_bytes()
        if after != before:
            notebook.write_bytes(before)
        assert with_group or proc.returncode is not None
        assert not left, f"processes left after the server shut down: {left}"
        assert after == before, f"JupyterLab saved {CHAPTER} (restored it): autosave must be off in the test"


def _launch(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make browser-deps` installs it (Debian package chromium)")
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"], headless=True
    )


#: MyST source that must never reach the page as text: directive options and fences, and unresolved roles
RAW_MYST = re.compile(
    r"^:(label|class|filter|keyprefix|labelprefix):|`{3,}\{|\{(prf:\w+|exercise-\w+|solution-\w+|bibliography)\}"
    r"|\{(cite|eq|ref|numref|prf:ref)\}`",
    re.M,
)
#: what KaTeX (JupyterLab-MyST) or MathJax (JupyterLab without it) print for a formula they cannot typeset
MATH_ERROR = re.compile(r"Undefined control sequence|KaTeX parse error|ParseError|Math input error")
#: what the page holds: the notebook's markdown as rendered text, its typeset formulas (TeX source from KaTeX's
#: MathML annotation), error nodes of KaTeX, MathJax and MyST (JupyterLab-MyST shows a formula it cannot typeset as
#: its TeX source with the error in a title attribute), the proof and exercise blocks and the dropdowns
RENDERED = """() => {
    const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    const cells = Array.from(notebook.querySelectorAll('.jp-MarkdownCell'));
    const visible = e => e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null;
    return {
        myst: notebook.querySelectorAll('.jp-MarkdownCell .myst').length,
        text: cells.map(c => c.querySelector('.jp-MarkdownOutput, .myst')).filter(Boolean)
                   .map(e => e.innerText).join('\\n\\n'),
        tex: Array.from(notebook.querySelectorAll('.katex annotation[encoding="application/x-tex"], '
                                                   + 'mjx-container [data-latex]'))
                  .map(a => a.textContent || a.getAttribute('data-latex')),
        errors: Array.from(notebook.querySelectorAll('.text-myst-error, .katex-error, merror, mjx-merror, [title]'))
                     .filter(e => !e.hasAttribute('title') || /control seq|KaTeX|ParseError|Math input/.test(e.title))
                     .map(e => (e.getAttribute('title') || e.textContent).slice(0, 200)),
        blocks: Array.from(notebook.querySelectorAll('.jp-MarkdownCell aside, .jp-MarkdownCell details'))
                     .map(e => e.innerText.trim().split('\\n')[0].slice(0, 80)),
        citations: Array.from(notebook.querySelectorAll('.cite-group')).map(e => e.innerText.trim()),
        solutions: Array.from(notebook.querySelectorAll('details')).map(d => ({
            summary: (d.querySelector('summary') || {innerText: ''}).innerText.trim(),
            open: d.open,
            bodyVisible: Array.from(d.children).filter(c => c.tagName !== 'SUMMARY').some(visible),
        })),
    };
}"""


def _myst_sources(path: Path) -> str:
    """The chapter's own markdown (without the macros cell)."""
    cells = json.loads(path.read_text())["cells"]
    own = [c for c in cells if c["cell_type"] == "markdown" and c["id"] != notebook_header.MACROS_CELL_ID]
    return "\n\n".join("".join(c["source"]) for c in own)


def test_a_chapter_renders_its_myst_in_jupyterlab(lab):
    """Theorems, proofs, exercises and solutions render as blocks, the macros typeset, the solutions collapse."""
    url, token = lab
    source = _myst_sources(BOOK / CHAPTER)
    solutions = len(re.findall(r"\{solution-start\}", source))
    theorems = re.findall(r"\{prf:(theorem|lemma|proposition)\}", source)
    book_macros = notebook_header.macros()  # book/_config.yml's: the website's, and the macros cell's
    macros = [name for name in book_macros if re.search(rf"\\{name}(?![A-Za-z])", source)]
    assert solutions >= 1 and theorems and macros == list(book_macros), "the chapter lost what this test checks"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.goto(f"{url}/lab/tree/{CHAPTER}?token={token}", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-MarkdownCell h1", timeout=120_000)
            # rendered when every formula of the source is typeset (or a math error shows)
            page.wait_for_function(
                "([n]) => document.querySelectorAll('.jp-Notebook .katex, .jp-Notebook mjx-container').length >= n"
                " || document.querySelector('.jp-Notebook .text-myst-error, .jp-Notebook .katex-error')",
                arg=[source.count("$$") // 2],
                timeout=60_000,
            )
            page.wait_for_timeout(1000)
            state = page.evaluate(RENDERED)
            page.screenshot(path=str(SHOTS / "lab-myst.png"))
            assert state["myst"] > 0, "JupyterLab-MyST did not render the markdown: is jupyterlab-myst installed?"
            raw = sorted({m.group(0) for m in RAW_MYST.finditer(state["text"])})
            assert not raw, f"raw MyST on the page: {raw}"
            assert not MATH_ERROR.search(state["text"]), MATH_ERROR.search(state["text"]).group(0)
            assert "\\def" not in state["text"] and "math:" not in state["text"], "the macros cell shows its source"
            assert not state["errors"], f"math or MyST errors on the page: {state['errors'][:5]}"
            for name in macros:  # each macro typeset somewhere (KaTeX refuses an undefined one: no annotation then)
                assert any(re.search(rf"\\{name}(?![A-Za-z])", tex) for tex in state["tex"]), f"\\{name} not typeset"
            assert len(state["tex"]) >= source.count("$$") // 2
            for kind in {t.capitalize() for t in theorems}:
                assert any(block.startswith(kind) for block in state["blocks"]), (kind, state["blocks"][:10])
            assert any(block.startswith("Exercise") for block in state["blocks"]), state["blocks"][:10]

            dropdowns = [d for d in state["solutions"] if d["summary"].startswith("Solution to")]
            assert len(dropdowns) == solutions, state["solutions"]
            assert not any(d["open"] or d["bodyVisible"] for d in dropdowns), f"a solution shows: {dropdowns}"
            summary = page.locator(".jp-Notebook details > summary", has_text="Solution to").first
            summary.scroll_into_view_if_needed()
            summary.click()  # a student opens the first solution: its body shows
            page.wait_for_function("() => document.querySelector('.jp-Notebook details').open")
            opened = page.evaluate(RENDERED)["solutions"][0]
            assert opened["open"] and opened["bodyVisible"], opened
            page.screenshot(path=str(SHOTS / "lab-myst-solution.png"))
            print(
                f"\n{CHAPTER} in JupyterLab-MyST: {len(state['tex'])} formulas typeset, blocks {state['blocks']}, "
                f"{len(dropdowns)} collapsed solutions"
            )
        finally:
            browser.close()


def test_a_chapter_runs_in_jupyterlab_with_the_course_kernel(lab):
    url, token = lab
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.goto(f"{url}/lab/tree/{CHAPTER}?token={token}", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
            kernel = page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName").first
            kernel.wait_for(timeout=60_000)
            page.wait_for_function(
                "() => { const k = document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');"
                " return k && k.textContent.trim() && !/No Kernel|Starting/.test(k.textContent); }",
                timeout=120_000,
            )
            assert kernel.inner_text().strip() == "VI course", f"kernel: {kernel.inner_text()!r}"

            # the Colab guard's input is collapsed (no prompt then): expand every collapsed input, as a student would
            for placeholder in page.locator(".jp-Notebook .jp-CodeCell .jp-InputPlaceholder").all():
                placeholder.click()
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'))"
                ".every(c => c.querySelector('.jp-InputArea-prompt'))",
                timeout=10_000,
            )
            page.click("#jp-MainMenu >> text=Run")  # the student's way: Run > Run All Cells
            page.locator(".lm-Menu-content >> text=Run All Cells").first.click()
            page.wait_for_timeout(3000)
            page.screenshot(path=str(SHOTS / "lab-after-run-all.png"))
            # done when every code cell shows an execution number, or early when one shows an error (Run All stops)
            try:
                state = page.wait_for_function(
                    """() => {
                        const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'));
                        const prompts = cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent);
                        const failed = Array.from(document.querySelectorAll('.jp-OutputArea-output'))
                            .find(o => /Traceback \\(most recent call last\\)|^\\w*Error: /m.test(o.textContent));
                        if (failed) return {done: false, prompts, error: failed.textContent.slice(0, 500)};
                        return cells.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p)) && {done: true, prompts};
                    }""",
                    timeout=int(os.environ.get("LAB_TIMEOUT_MS", 180_000)),
                ).json_value()
            except Exception:
                page.screenshot(path=str(SHOTS / "lab-after-run-all.png"))
                prompts = page.evaluate(
                    """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'))
                             .map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent)"""
                )
                pytest.fail(f"Run All Cells did not finish; prompts: {prompts}")
            page.screenshot(path=str(SHOTS / "lab-after-run-all.png"))
            assert state["done"], f"a cell failed: {state}"
            cells = page.locator(".jp-Notebook .jp-CodeCell").count()
            errors = page.evaluate(
                """() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
                         .map(o => o.textContent)
                         .filter(t => /Traceback \\(most recent call last\\)|^\\w*Error: /m.test(t))
                         .map(t => t.slice(0, 300))"""
            )
            assert not errors, errors
            images = page.evaluate(
                """() => Array.from(document.querySelectorAll('.jp-OutputArea-output img'))
                         .map(img => img.complete && img.naturalWidth > 0)"""
            )
            assert images and all(images), f"{len(images)} figures, loaded: {images}"
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert any("scale 'quick'" in text for text in outputs), "the first cell did not run at BOOK_SCALE=quick"

            # which helpers the kernel imported: a new cell at the end (never saved: autosave is off)
            page.locator(".jp-Notebook .jp-Cell").last.click()
            page.keyboard.press("Escape")
            page.keyboard.press("b")
            page.keyboard.press("Enter")
            page.keyboard.type("print('HELPERS_FILE', helpers.__file__)")
            page.keyboard.press("Shift+Enter")
            probe = page.locator(".jp-OutputArea-output", has_text="HELPERS_FILE").first
            probe.wait_for(timeout=60_000)
            path = Path(probe.inner_text().split("HELPERS_FILE", 1)[1].strip())
            assert path == ROOT / "helpers" / "__init__.py", f"the kernel imported helpers from {path}, not {ROOT}"
            print(f"\n{CHAPTER} in JupyterLab: {cells} code cells ran, {len(images)} figures, helpers from {path}")
        finally:
            browser.close()
