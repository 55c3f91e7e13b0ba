"""Launch buttons (Binder, Colab, JupyterHub) and the repository / "open issue" buttons, from one setting.

The book's public repository is read at build time, in this order:

1. ``BOOK_REPOSITORY_URL`` (and ``BOOK_REPOSITORY_BRANCH``, default ``main``); ``BOOK_REPOSITORY_URL=off`` turns
   the buttons off whatever the checkout's remote is (the strict test build uses it);
2. otherwise ``git remote get-url origin`` of the checkout (an ssh remote ``git@github.com:o/r.git`` becomes
   ``https://github.com/o/r``), with the branch that ``origin/HEAD`` points to (else the current branch).

Only GitHub and GitLab URLs give buttons: Binder understands both, Colab only GitHub (sphinx-book-theme warns on
anything else, and the build runs with ``-W``). With no usable URL the site builds exactly as without this
extension: no repository, issue or launch button. ``BOOK_JUPYTERHUB_URL`` adds a JupyterHub button (nbgitpuller
link), ``BOOK_BINDERHUB_URL`` replaces ``https://mybinder.org``.

``BOOK_EXECUTION_CACHE=<folder>`` points jupyter-cache at another build's cache, so that a second variant of the
site (``make test-build`` builds one with an example URL for the browser check) reuses the executed notebooks
instead of running them again.

The website's downloadable copy of each notebook (``_sources/<part>/<chapter>.ipynb``) gets the build's repository
in its hidden Colab guard cell (``COURSE_REPOSITORY = "..."``; the committed notebooks carry pyproject.toml's
``[project.urls] Repository``, see ``notebook_header.py``), so a fork's site gives the fork's ``pip install`` line.

What was used is written to ``<build>/launch.json`` (next to ``html/``), which ``tests/book/test_site.py`` reads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"
#: hosts whose repositories the launch services understand: {host: services}
HOSTS = {"github.com": ("binder", "colab"), "gitlab.com": ("binder",)}


def normalize_url(url: str) -> str | None:
    """``https://<host>/<owner>/<repo>`` for a GitHub or GitLab remote (https, ssh or scp-like), else None."""
    url = url.strip()
    patterns = (
        r"^(?:git\+)?https?://(?:[^@/]+@)?(?P<host>[^/:]+)/(?P<path>[^?#]+?)(?:\.git)?/?$",
        r"^ssh://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+?)(?:\.git)?/?$",
        r"^(?:[^@/]+@)?(?P<host>[^/:]+):(?P<path>[^/].*?)(?:\.git)?/?$",  # git@github.com:owner/repo.git
    )
    for pattern in patterns:
        match = re.match(pattern, url)
        if match:
            host, path = match["host"].lower(), match["path"].strip("/")
            if host in HOSTS and re.fullmatch(r"[\w.-]+(/[\w.-]+)+", path):
                return f"https://{host}/{path}"
            return None
    return None


def _git(*args: str, cwd: Path) -> str:
    try:
        out = subprocess.run(("git", *args), cwd=cwd, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def repository(environ: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, str] | None:
    """The repository the buttons point to: {"url", "branch", "source"}, or None when there is none."""
    environ = os.environ if environ is None else environ
    cwd = cwd or Path(__file__).resolve().parent
    setting = environ.get("BOOK_REPOSITORY_URL", "").strip()
    if setting.lower() in {"off", "none", "0", "false"}:
        return None
    if setting:
        url = normalize_url(setting)
        branch = environ.get("BOOK_REPOSITORY_BRANCH", "").strip() or "main"
        source = "BOOK_REPOSITORY_URL"
    else:
        url = normalize_url(_git("remote", "get-url", "origin", cwd=cwd))
        head = _git("symbolic-ref", "--short", "refs/remotes/origin/HEAD", cwd=cwd).removeprefix("origin/")
        branch = environ.get("BOOK_REPOSITORY_BRANCH", "").strip() or head
        branch = branch or _git("symbolic-ref", "--short", "HEAD", cwd=cwd) or "main"
        source = "git remote origin"
    return {"url": url, "branch": branch, "source": source} if url else None


def theme_options(repo: dict[str, str] | None, environ: dict[str, str] | None = None) -> dict:
    """The html_theme_options entries of sphinx-book-theme for ``repo`` (empty when ``repo`` is None)."""
    environ = os.environ if environ is None else environ
    if repo is None:
        return {}
    services = HOSTS[repo["url"].split("/")[2]]
    launch = {"notebook_interface": "jupyterlab", "thebe": False}
    if "binder" in services:
        launch["binderhub_url"] = environ.get("BOOK_BINDERHUB_URL", "").strip() or BINDER
    if "colab" in services:
        launch["colab_url"] = COLAB
    if environ.get("BOOK_JUPYTERHUB_URL", "").strip():
        launch["jupyterhub_url"] = environ["BOOK_JUPYTERHUB_URL"].strip()
    return {
        "repository_url": repo["url"],
        "repository_branch": repo["branch"],
        "path_to_docs": "book",
        "use_repository_button": True,
        "use_issues_button": True,
        "launch_buttons": launch,
    }


def _configure(app, config) -> None:
    repo = repository(cwd=Path(app.srcdir))
    options = theme_options(repo)
    if options:
        config.html_theme_options = {**config.html_theme_options, **options}
    cache = os.environ.get("BOOK_EXECUTION_CACHE", "").strip()
    if cache:
        config.nb_execution_cache_path = str(Path(cache).resolve())
    record = Path(app.outdir).parent / "launch.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"repository": repo, "launch_buttons": options.get("launch_buttons")}, indent=1))


#: the Colab guard's repository setting and its commented pip line, as they are stored in the .ipynb JSON
GUARD_SETTING = re.compile(r'COURSE_REPOSITORY = \\"[^"\\]*\\"')
GUARD_LINE = re.compile(r'(%pip install \\"vi-gradients-course @ git\+)[^"\\{]+(\\")')


def fill_guard(text: str, url: str) -> str:
    """The notebook JSON ``text`` with the Colab guard's repository set to ``url`` (unchanged without a guard)."""
    if not GUARD_SETTING.search(text):
        return text
    text = GUARD_SETTING.sub(lambda _: f'COURSE_REPOSITORY = \\"{url}\\"', text, count=1)
    return GUARD_LINE.sub(lambda m: f"{m[1]}{url}{m[2]}", text)


def _fill_downloads(app, exception) -> None:
    repo = repository(cwd=Path(app.srcdir))
    sources = Path(app.outdir) / "_sources"
    if exception is not None or repo is None or not sources.is_dir():
        return
    for path in sources.rglob("*.ipynb"):
        path.write_text(fill_guard(path.read_text(), repo["url"]))


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("build-finished", _fill_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
