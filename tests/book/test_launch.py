"""The launch-button settings of book/_ext/launch_links.py: which repository a build points to, and when none.

The browser check of the built pages (tests/book/test_site.py) checks the links themselves; these tests check the
rules behind them without a build: the environment variable, the ``git remote`` fallback (ssh -> https), and that
a URL no launch service understands gives no button at all.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import nbformat
import pytest
from _shared import BOOK

_spec = importlib.util.spec_from_file_location("launch_links", BOOK / "_ext" / "launch_links.py")
launch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launch)


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("https://github.com/owner/repo", "https://github.com/owner/repo"),
        ("https://github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("https://github.com/owner/repo/", "https://github.com/owner/repo"),
        ("git@github.com:owner/repo.git", "https://github.com/owner/repo"),
        ("ssh://git@github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("ssh://git@github.com:22/owner/repo", "https://github.com/owner/repo"),
        ("https://token@github.com/owner/repo.git", "https://github.com/owner/repo"),  # CI checkouts
        ("git@gitlab.com:group/sub/repo.git", "https://gitlab.com/group/sub/repo"),
        ("https://example.org/owner/repo.git", None),  # no launch service understands it
        ("/srv/git/vi-course.git", None),  # a local clone (a fresh `git clone /path`)
        ("", None),
        ("https://github.com/owner", None),
        ('https://github.com/owner/re"po', None),
    ],
)
def test_remote_urls_are_normalized_to_https_or_rejected(remote, expected):
    assert launch.normalize_url(remote) == expected


def _git_repo(path, remote: str | None):
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


def test_the_environment_variable_wins_and_off_turns_the_buttons_off(tmp_path):
    repo = _git_repo(tmp_path, "git@github.com:someone/fork.git")
    env = {"BOOK_REPOSITORY_URL": "https://github.com/example/vi-course", "BOOK_REPOSITORY_BRANCH": "dev"}
    got = launch.repository(env, cwd=repo)
    assert got == {"url": "https://github.com/example/vi-course", "branch": "dev", "source": "BOOK_REPOSITORY_URL"}
    assert launch.repository({"BOOK_REPOSITORY_URL": "https://github.com/example/vi-course"}, cwd=repo)["branch"] == (
        "main"
    )
    for off in ("off", "OFF", "none"):
        assert launch.repository({"BOOK_REPOSITORY_URL": off}, cwd=repo) is None


def test_without_the_variable_the_git_remote_of_the_checkout_is_used(tmp_path):
    repo = _git_repo(tmp_path / "a", "git@github.com:someone/fork.git")
    assert launch.repository({}, cwd=repo) == {
        "url": "https://github.com/someone/fork",
        "branch": "trunk",  # no origin/HEAD: the current branch
        "source": "git remote origin",
    }
    assert launch.repository({}, cwd=_git_repo(tmp_path / "b", None)) is None  # no remote
    assert launch.repository({}, cwd=_git_repo(tmp_path / "c", "/srv/git/course.git")) is None  # not a host
    outside = tmp_path / "plain"
    outside.mkdir()
    assert launch.repository({}, cwd=outside) is None


def test_theme_options_give_binder_colab_jupyterhub_repository_and_issue_buttons():
    repo = {"url": "https://github.com/example/vi-course", "branch": "main", "source": "test"}
    options = launch.theme_options(repo, {"BOOK_JUPYTERHUB_URL": "https://hub.example.org"})
    assert options["repository_url"] == repo["url"] and options["repository_branch"] == "main"
    assert options["path_to_docs"] == "book" and options["use_repository_button"] and options["use_issues_button"]
    assert options["launch_buttons"] == {
        "notebook_interface": "jupyterlab",
        "thebe": False,
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "jupyterhub_url": "https://hub.example.org",
    }
    assert "jupyterhub_url" not in launch.theme_options(repo, {})["launch_buttons"]
    gitlab = launch.theme_options({**repo, "url": "https://gitlab.com/g/r"}, {})["launch_buttons"]
    assert "colab_url" not in gitlab and gitlab["binderhub_url"]  # Colab opens GitHub notebooks only
    assert launch.theme_options(None, {}) == {}  # no repository: the site is built exactly as before


def test_the_downloaded_notebook_gets_the_repository_in_its_colab_guard(tmp_path):
    path = BOOK / "vi" / "elbo.ipynb"
    filled = launch.fill_guard(path.read_text(), "https://github.com/example/vi-course")
    notebook = nbformat.reads(filled, as_version=4)
    nbformat.validate(notebook)
    guard = next(c for c in notebook.cells if c.cell_type == "code").source
    assert 'COURSE_REPOSITORY = "https://github.com/example/vi-course"' in guard and '<owner>/<repo>"' not in guard
    assert '#     %pip install "vi-gradients-course @ git+https://github.com/example/vi-course"' in guard
    fork = "https://github.com/fork/vi"
    assert launch.fill_guard(filled, fork) == launch.fill_guard(path.read_text(), fork)  # any URL is replaced
    script = tmp_path / "guard.py"
    script.write_text(guard)
    run = subprocess.run([sys.executable, "-I", "-S", str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert '%pip install "vi-gradients-course @ git+https://github.com/example/vi-course"' in run.stderr
    assert launch.fill_guard("{}", "https://github.com/x/y") == "{}"  # a notebook without the guard is unchanged
    assert json.loads(filled)["metadata"] == json.loads(path.read_text())["metadata"]
