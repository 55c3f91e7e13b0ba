"""The student edition (book/_ext/student_edition.py, ``make book-student``): no solution anywhere, every exercise and
self-check kept, a stub in each self-check that says "not attempted", launch buttons on the student branch.

Unit part (unmarked): the transformation on small made-up sources (gated solutions across cells, one-block
solutions, code blocks that show the syntax, references into a removed solution, a self-check cell) and on the
book's own chapters; the execution that reuses the main build's outputs, on a throw-away book with real kernels;
the student branch, in a throw-away git repository.

Browser part (marked ``site``, after ``make test-build``, which builds book/_build/student/html): every chapter of the
student site loads cleanly, has all its exercises and no solution, and each stub's output says "not attempted"; no
solution text is in any page or .ipynb download of the student site, while the same search finds each solution in
the main site (so the search is not blind); the launch buttons open the branch ``student``.

"Solution text" is every removed solution of the source notebooks (markdown and code) and the reference answers of
the self-check cells, compared as runs of 8 words (letters and digits, lower case) that the student copy's own text
does not contain: a formula that the chapter states anyway is not a leak, a sentence of a solution is.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import html as html_module
import http.server
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from _shared import BOOK, ROOT

_spec = importlib.util.spec_from_file_location("student_edition", BOOK / "_ext" / "student_edition.py")
student_edition = importlib.util.module_from_spec(_spec)
sys.modules["student_edition"] = student_edition  # dataclasses resolve their module by name
_spec.loader.exec_module(student_edition)

STUDENT = BOOK / "_build" / "student"
STUDENT_HTML = STUDENT / "html"
MAIN_HTML = BOOK / "_build" / "html"
CHAPTERS = [f for f in student_edition.toc_files(BOOK) if f.endswith(".ipynb")]
N = 8  # words per compared run


# ------------------------------------------------------------------------------------------ solution text
def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def ngrams(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + N]) for i in range(len(w) - N + 1)}


def html_text(path: Path) -> str:
    """The text of an HTML page (tags removed, entities decoded; TeX of the math and code as written)."""
    return html_module.unescape(re.sub(r"<[^>]+>", " ", path.read_text(errors="replace")))


def notebook_text(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in nb.cells)


@functools.cache
def chapters() -> dict[str, object]:
    """rel -> the transformed chapter (student_edition.Chapter) of the book's source notebook."""
    return {rel: student_edition.transform_notebook(nbformat.read(BOOK / rel, as_version=4), rel) for rel in CHAPTERS}


@functools.cache
def solution_runs() -> dict[str, list[set[tuple[str, ...]]]]:
    """rel -> for each solution of the chapter (its removed solutions, then its self-check cells' original code):
    the 8-word runs of it that no chapter's student version contains (a line of code that another chapter shows in
    its text, such as a Gaussian's log-density, is the course's text, not a leak)."""
    out = {}
    kept = set().union(
        *(ngrams("\n".join(cell.source for cell in chapter.notebook.cells)) for chapter in chapters().values())
    )
    for rel, chapter in chapters().items():
        original = nbformat.read(BOOK / rel, as_version=4)
        texts = list(chapter.solutions.texts)
        texts += [c.source for c in original.cells if c.cell_type == "code" and student_edition.is_self_check(c.source)]
        out[rel] = [ngrams(text) - kept for text in texts]
    return out


def test_every_solution_has_distinctive_text():
    """Each solution (and each self-check's reference code) has text of its own to look for: at least 5 runs of 8
    words that the student version does not contain (the leak checks below are not vacuous)."""
    counts = {rel: [len(runs) for runs in sols] for rel, sols in solution_runs().items()}
    assert all(sols and min(sols) >= 5 for sols in counts.values()), counts


# ------------------------------------------------------------------------------------------ made-up sources
GATED = """\
## Exercises

````{exercise-start}
:label: ex-a
````
Show that $x = 1$.
````{exercise-end}
````

````{solution-start} ex-a
:class: dropdown
````
Because the secret derivation of the first exercise says so.

$$ x = 1 $$ (eq-secret)"""

AFTER = """\
The rest of the secret solution, then its end.
````{solution-end}
````

See {eq}`eq-secret`, {ref}`the one before <eq-secret>`, [this](#eq-secret) and {prf:ref}`thm-kept`.

```markdown
````{solution-start} ex-shown
````
shown, not removed
````{solution-end}
````
```

:::{solution} ex-b
A one-block secret solution.
:::

````{admonition} Note
```{solution} ex-c
A nested secret solution.
```
Kept note text.
````"""


def test_gated_solutions_are_removed_across_cells_and_references_to_their_labels_unlinked():
    state = student_edition.Solutions()
    first = student_edition.strip_solutions(GATED, state)
    assert state.inside and first.endswith("````{exercise-end}\n````") and "secret" not in first
    second = student_edition.strip_solutions(AFTER, state)
    assert not state.inside and "secret" not in second.replace("eq-secret", "")
    assert "shown, not removed" in second and "Kept note text." in second and "````{admonition} Note" in second
    assert len(state.texts) == 3 and "rest of the secret solution" in state.texts[0]
    labels = set().union(*(student_edition.labels_in(t) for t in state.texts))
    assert labels == {"eq-secret"}
    unlinked, n = student_edition.unlink_removed(second, labels)
    assert n == 3 and "eq-secret" not in unlinked and "{prf:ref}`thm-kept`" in unlinked
    assert "the one before" in unlinked and "[this]" not in unlinked and "this" in unlinked


SELF_CHECK = """\
# self-check: the Monte Carlo ELBO, (1/S) sum_s [log p(x | z_s) + log p(z_s) - log q(z_s)]
def my_elbo(log_likelihood, log_prior, loc, scale, eps, prior=True):
    z = loc + scale * eps  # (S, D)
    return (log_likelihood(z) + log_prior(z) - Normal(loc, scale).log_prob(z).sum(-1)).mean()


def my_elbo_without_prior(log_likelihood, log_prior, loc, scale, eps):  # the published mistake: no log p(z)
    z = loc + scale * eps
    return (log_likelihood(z) - Normal(loc, scale).log_prob(z).sum(-1)).mean()


feedback, mistaken = check.elbo.elbo_estimate(my_elbo), check.elbo.elbo_estimate(my_elbo_without_prior)
print(feedback, mistaken, sep="\\n")
assert feedback and not mistaken and "prior term" in mistaken.message
"""


def _run_cell(source: str, namespace: dict | None = None) -> str:
    """Run ``source`` with only ``check`` imported (in ``namespace``, kept for the next cell); what it printed."""
    from helpers import check

    namespace = {} if namespace is None else namespace
    namespace.setdefault("check", check)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<cell>", "exec"), namespace)
    return out.getvalue()


def test_a_self_check_cell_becomes_a_stub_that_says_not_attempted():
    assert student_edition.is_self_check(SELF_CHECK)
    source, stubs = student_edition.stub_self_check(SELF_CHECK, "made-up")
    assert [(s.module, s.check, s.function) for s in stubs] == [("elbo", "elbo_estimate", "my_elbo")]
    # the check's arguments (the extra switch with a default is dropped), a docstring, the stub's body
    assert "def my_elbo(log_likelihood, log_prior, loc, scale, eps):" in source
    assert student_edition.STUB_BODY in source and "feedback = check.elbo.elbo_estimate(my_elbo)" in source
    for gone in ("Normal(", "log_prob", "mistaken", "assert", "without_prior", "sum_s", "(1/S)", "z = loc"):
        assert gone not in source, gone
    doc = source.split('"""')[1]
    assert "Returns a scalar." in doc and "Shapes:" in doc and "Reference" not in doc
    printed = _run_cell(source)
    assert printed.startswith("not attempted: your ELBO estimate raises NotImplementedError"), printed


def test_a_cell_that_is_not_a_self_check_is_left_alone():
    for source in ("x = 1\nprint(x)", "feedback = check.elbo.elbo_estimate(lambda *a: 0.0)", "def f(:\n"):
        assert not student_edition.is_self_check(source)


# ------------------------------------------------------------------------------------------ the book's chapters
@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    dest = tmp_path_factory.mktemp("student") / "src"
    return dest, student_edition.make_copy(BOOK, dest)


def test_the_copy_keeps_every_exercise_and_has_no_solution_directive(copy):
    dest, edition = copy
    for rel in CHAPTERS:
        source, student = notebook_text(BOOK / rel), notebook_text(dest / rel)
        exercises = re.findall(r"\{exercise-start\}\n:label: ([\w-]+)", source)
        assert exercises and exercises == re.findall(r"\{exercise-start\}\n:label: ([\w-]+)", student), rel
        assert "{solution" not in student and "solution-end" not in student, rel
        assert edition.chapters[rel].solutions.texts, f"{rel}: no solution removed"
    assert sum(len(c.solutions.texts) for c in edition.chapters.values()) == sum(
        notebook_text(BOOK / rel).count("{solution-start}") for rel in CHAPTERS
    )


def test_no_solution_text_is_left_in_the_copy(copy):
    dest, _ = copy
    for rel, solutions in solution_runs().items():
        original, student = ngrams(notebook_text(BOOK / rel)), ngrams(notebook_text(dest / rel))
        for runs in solutions:
            assert runs and runs <= original  # the runs are the source's text (the search sees them there)
            assert not runs & student, f"{rel}: {sorted(runs & student)[:3]}"


def test_every_self_check_became_stubs_that_run_and_say_not_attempted(copy):
    """Each ``feedback = check.x.y(my_f)`` of a source self-check cell is a stub of my_f in the copy; run (with only
    ``check`` defined: the cell needs nothing else) each stub cell prints one "not attempted" per stub."""
    dest, edition = copy
    total = 0
    for rel in CHAPTERS:
        original = nbformat.read(BOOK / rel, as_version=4)
        expected = [
            pair
            for cell in original.cells
            if cell.cell_type == "code" and student_edition.is_self_check(cell.source)
            for pair in student_edition._checked_pairs(ast.parse(cell.source))
        ]
        stubs = [(s.module, s.check, s.function) for s in edition.chapters[rel].stubs]
        assert expected and stubs == expected, rel
        student = nbformat.read(dest / rel, as_version=4)
        cells = [c.source for c in student.cells if c.cell_type == "code" and student_edition.STUB_BODY in c.source]
        assert cells, rel
        namespace = {}
        printed = "".join(_run_cell(source, namespace) for source in cells)
        assert printed.count("not attempted: ") == len(stubs), printed
        assert "correct" not in printed and "not yet" not in printed
        # the chapter's check.summary cell, after the stubs: one "not attempted" line per stub, nothing else
        summaries = [
            c.source for c in student.cells if c.cell_type == "code" and student_edition.RERUN.search(c.source)
        ]
        assert len(summaries) == 1, rel
        lines = _run_cell(summaries[0], namespace).strip().splitlines()
        assert len(lines) == len(stubs) and all("NotImplementedError" in line for line in lines), lines
        assert [line.split(": ")[1].split(" (")[0] for line in lines] == ["not attempted"] * len(stubs), lines
        assert "calls it on a reference answer" not in notebook_text(dest / rel), rel
        total += len(stubs)
    assert total == sum(len(c.stubs) for c in edition.chapters.values()) >= 14


def test_the_other_code_cells_are_the_chapters_own(copy):
    """The copy changes no code cell but the self-checks, and drops only the solutions' code cells: what the reuse
    of the main build's outputs relies on."""
    dest, edition = copy
    for rel in CHAPTERS:
        original = nbformat.read(BOOK / rel, as_version=4)
        chapter = edition.chapters[rel]
        kept = [
            c.source for i, c in enumerate(original.cells) if c.cell_type == "code" and i not in chapter.dropped_code
        ]
        student = [c.source for c in nbformat.read(dest / rel, as_version=4).cells if c.cell_type == "code"]
        assert len(student) == len(kept), rel
        for before, after in zip(kept, student, strict=True):
            assert after == before or student_edition.is_self_check(before), rel
        assert all(not c.outputs for c in nbformat.read(dest / rel, as_version=4).cells if c.cell_type == "code")


def test_every_chapter_can_reuse_the_main_build(copy):
    """In every chapter the cells after the first dropped or changed code cell are the stubs and then the chapter's
    ``check.summary`` cell: only they run again."""
    _, edition = copy
    for rel, chapter in edition.chapters.items():
        setup, tail, why = student_edition.stitch_plan(chapter)
        assert not why and setup is not None and tail, (rel, why)
        sources = [chapter.notebook.cells[j].source for j in tail]
        assert all(student_edition.STUB_BODY in s for s in sources[:-1]), rel
        assert student_edition.RERUN.search(sources[-1]) and student_edition.STUB_BODY not in sources[-1], rel


def test_the_stubs_are_the_functions_check_summary_looks_for(copy):
    """Each chapter's stubs are exactly its check module's SELF_CHECKS names (the contract with check.summary), and a
    self-check cell whose names disagree with the table is refused."""
    from helpers.check.summary import CHAPTERS as SUMMARY_CHAPTERS

    _, edition = copy
    assert sorted(f"{name}.ipynb" for name in SUMMARY_CHAPTERS) == sorted(edition.chapters)
    for name, module in SUMMARY_CHAPTERS.items():
        stubs = edition.chapters[f"{name}.ipynb"].stubs
        assert [(s.function, s.check) for s in stubs] == [(f, c.__name__) for f, c in module.SELF_CHECKS.items()]
    renamed = SELF_CHECK.replace("my_elbo", "my_bound")
    _, stubs = student_edition.stub_self_check(renamed, "made-up")
    with pytest.raises(ValueError, match=r"SELF_CHECKS declares \{'my_elbo': 'elbo_estimate'\}"):
        student_edition.check_names(stubs, "made-up")


def test_a_student_notebook_runs_top_to_bottom_and_its_checks_say_not_attempted(copy, monkeypatch):
    """The student copy of the first chapter (the cheapest, seconds at the quick scale), executed as a student runs
    it, top to bottom in a kernel of the course (as the build does): no error, each stub's cell prints "not
    attempted", and the chapter's check.summary cell one "not attempted" line per stub and nothing else."""
    dest, edition = copy
    rel = CHAPTERS[0]
    sys.path.insert(0, str(BOOK / "_ext"))
    try:
        from execute_parallel import execute_one
    finally:
        sys.path.remove(str(BOOK / "_ext"))
    monkeypatch.setenv("BOOK_SCALE", "quick")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    _, executed, seconds, traceback = execute_one(str(dest / rel), 600)
    assert traceback is None, traceback
    stubs = edition.chapters[rel].stubs
    code = [c for c in executed.cells if c.cell_type == "code"]
    ran = ["".join(o.get("text", "") for o in c.outputs) for c in code if student_edition.STUB_BODY in c.source]
    assert len(ran) == 1 and ran[0].count("not attempted: ") == len(stubs) >= 1, ran
    summary = [c for c in code if student_edition.RERUN.search(c.source)]
    printed = "".join(o.get("text", "") for o in summary[0].outputs).strip().splitlines()
    assert len(summary) == 1 and len(printed) == len(stubs), printed
    assert all(": not attempted (" in line and "NotImplementedError" in line for line in printed), printed


def test_the_copy_is_titled_and_introduced_as_the_student_edition(copy):
    dest, _ = copy
    assert re.search(r"^title: .+ \(student edition\)$", (dest / "_config.yml").read_text(), re.M)
    root = student_edition.toc_files(BOOK)[0]
    assert "student edition" in (dest / root).read_text() and "student edition" not in (BOOK / root).read_text()


def test_the_copy_has_no_instructors_page(copy):
    """The instructors' page shows a self-check's reference answer as its worked example: the student copy drops it
    from its table of contents (with the part it leaves empty), its file, and the footer's pointer to it."""
    dest, edition = copy
    assert edition.pages_dropped == ["instructors"] and (BOOK / "instructors.md").is_file()
    assert not (dest / "instructors.md").exists() and "file: instructors" not in (dest / "_toc.yml").read_text()
    assert "For instructors" not in (dest / "_toc.yml").read_text()
    assert [f for f in student_edition.toc_files(dest) if f.endswith(".ipynb")] == CHAPTERS
    assert 'the part "For instructors"' in (BOOK / "_config.yml").read_text()
    assert "For instructors" not in (dest / "_config.yml").read_text()
    # the PDFs are printed from the full site (with the solutions): the student site does not link them
    assert re.search(r"^\s+pdf: _ext", (BOOK / "_config.yml").read_text(), re.M)
    assert not re.search(r"^\s+pdf:", (dest / "_config.yml").read_text(), re.M)


def test_a_made_up_book_loses_its_instructors_part_and_the_links_to_it(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: Chapters\n    chapters:\n      - file: chapter\n"
        "  - caption: For instructors\n    chapters:\n      - file: instructors\n"
    )
    (book / "_config.yml").write_text(
        'title: Tiny\nhtml:\n  extra_footer: |\n    <p>Reuse it with attribution;\n    the part "For instructors" '
        "says how to adopt a chapter.</p>\n"
    )
    (book / "intro.md").write_text("# Tiny\n\nSee {doc}`instructors` and {doc}`the guide <instructors>`.\n")
    (book / "chapter.md").write_text("# Chapter\n\nText.\n")
    (book / "instructors.md").write_text("# For instructors\n\nThe reference answer.\n")
    dest = tmp_path / "src"
    edition = student_edition.make_copy(book, dest)
    assert edition.pages_dropped == ["instructors"] and edition.references_unlinked == 2
    intro = (dest / "intro.md").read_text()
    assert "{doc}" not in intro and "the instructors' page (not in the student edition)" in intro
    assert "See the instructors' page" in intro and "and the guide." in intro
    assert student_edition.toc_files(dest) == ["intro.md", "chapter.md"] and not (dest / "instructors.md").exists()
    assert "For instructors" not in (dest / "_toc.yml").read_text()
    config = (dest / "_config.yml").read_text()
    assert "title: Tiny (student edition)" in config and "with attribution.</p>" in config
    assert "For instructors" not in config


# ------------------------------------------------------------------------------------------ execution
TINY_SETUP = (
    "import uuid\n\nimport helpers\nfrom helpers import check\nfrom torch.distributions import Normal\n\n"
    "cfg = helpers.setup(seed=1)\nprint('set up')"
)
TINY_SOLUTION_MD = "## Exercises\n\n````{exercise-start}\n:label: ex-t\n````\nDo it.\n````{exercise-end}\n````\n\n" + (
    "````{solution-start} ex-t\n:class: dropdown\n````\nThe answer:"
)


def _tiny_book(root: Path) -> Path:
    book = root / "book"
    book.mkdir()
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n")
    (book / "_config.yml").write_text("title: Tiny\nexecute:\n  timeout: 300\n")
    (book / "intro.md").write_text("# Tiny\n\nText.\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Chapter"),
        nbformat.v4.new_code_cell(TINY_SETUP),
        nbformat.v4.new_code_cell("print(uuid.uuid4())  # a different line at each execution"),
        nbformat.v4.new_markdown_cell(TINY_SOLUTION_MD),
        nbformat.v4.new_code_cell("print('the secret solution code')"),
        nbformat.v4.new_markdown_cell("````{solution-end}\n````"),
        nbformat.v4.new_code_cell(SELF_CHECK),
        nbformat.v4.new_code_cell('check.summary("elbo")'),
    ]
    nbformat.write(nb, book / "chapter.ipynb")
    return book


def _outputs_text(nb) -> list[str]:
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells if c.cell_type == "code"]


def test_prepare_reuses_the_main_build_and_runs_only_the_stubs(tmp_path):
    """A throw-away book executed by execute_parallel (the main build), then prepared: the student notebook in its
    cache has the main execution's outputs (the same random line) and the stub's "not attempted"; with no main
    cache it is executed in full (another random line)."""
    from jupyter_cache import get_cache

    book = _tiny_book(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    main_cache = book / "_build" / ".jupyter_cache"
    script = BOOK / "_ext" / "execute_parallel.py"
    run = subprocess.run([sys.executable, str(script), str(book), "--jobs", "1"], env=env, capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    main = get_cache(str(main_cache))
    _, executed = main.merge_match_into_notebook(nbformat.read(book / "chapter.ipynb", as_version=4))
    main_line = _outputs_text(executed)[1]
    (book / "_build" / ".build-key").write_text("tiny-1\n")

    def prepare(*extra: str) -> dict:
        student = tmp_path / f"student-{extra[-1]}"
        args = ["prepare", str(book), str(student / "src"), "--cache", str(student / ".jupyter_cache"), *extra]
        out = subprocess.run([sys.executable, str(BOOK / "_ext" / "student_edition.py"), *args], env=env,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        assert out.returncode == 0, out.stderr
        record = json.loads((student / "student-edition.json").read_text())
        nb = nbformat.read(student / "src" / "chapter.ipynb", as_version=4)
        assert "secret" not in json.dumps(nb.cells)
        _, cached = get_cache(str(student / ".jupyter_cache")).merge_match_into_notebook(nb)
        return record, _outputs_text(cached), nb

    record, outputs, _ = prepare("--main-cache", str(main_cache), "--main-key", "tiny-1")
    chapter = record["chapters"]["chapter.ipynb"]
    assert chapter["mode"].startswith("stub cells executed") and chapter["cells_reused"] == 2
    assert record["solutions_removed"] == 1 and record["stubs"] == 1
    assert outputs[0].endswith("set up\n") and outputs[1] == main_line  # reused, not executed again
    assert outputs[2].startswith("not attempted: ") and len(outputs) == 4
    assert "check.elbo.elbo_estimate(my_elbo): not attempted (my_elbo raises NotImplementedError)" in outputs[3]

    record, outputs, _ = prepare("--main-cache", str(main_cache), "--main-key", "another-scale")
    assert record["chapters"]["chapter.ipynb"]["mode"] == "executed in full"
    assert outputs[1] != main_line and outputs[2].startswith("not attempted: ") and "not attempted (" in outputs[3]


# ------------------------------------------------------------------------------------------ the student branch
def _git(*args, cwd):
    return subprocess.run(("git", *args), cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_the_student_branch_is_head_with_the_student_book(tmp_path):
    repo = tmp_path / "repo"
    (repo / "book" / "part").mkdir(parents=True)
    (repo / "book" / "part" / "chapter.ipynb").write_text("solutions\n")
    (repo / "book" / "gone.md").write_text("only in the full book\n")
    (repo / "helpers.py").write_text("code\n")
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "course", cwd=repo)
    src = tmp_path / "src"
    (src / "part").mkdir(parents=True)
    (src / "part" / "chapter.ipynb").write_text("stubs\n")
    (src / "_vendor").mkdir()
    (src / "_vendor" / "untracked.js").write_text("not added\n")
    env_id = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    os.environ.update(env_id)
    try:
        commit = student_edition.write_branch(src, repo, "student")
        again = student_edition.write_branch(src, repo, "student")
    finally:
        for key in env_id:
            os.environ.pop(key, None)
    assert again == commit  # nothing changed: no new commit
    files = set(_git("ls-tree", "-r", "--name-only", "student", cwd=repo).split("\n"))
    assert files == {"book/part/chapter.ipynb", "helpers.py"}
    assert _git("show", "student:book/part/chapter.ipynb", cwd=repo) == "stubs"
    assert _git("show", "student:helpers.py", cwd=repo) == "code"
    # the checkout is untouched: its branch, index and files
    assert _git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo) == "main" and not _git("status", "--short", cwd=repo)
    assert (repo / "book" / "part" / "chapter.ipynb").read_text() == "solutions\n"


def test_the_makefile_builds_the_student_edition_in_make_test_and_the_readme_says_how_to_publish():
    makefile = (ROOT / "Makefile").read_text()
    test_build = makefile.split("\ntest-build:")[1].split("\n\n")[0]
    assert "$(call build_student,quick,BOOK_REPOSITORY_URL=$(LAUNCH_CHECK_URL))" in test_build
    assert re.search(r"^book-student:.*\n\t\$\(call build_student,", makefile, re.M)
    assert "BOOK_REPOSITORY_BRANCH=$(STUDENT_BRANCH)" in makefile and "-W -n --keep-going" in makefile
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Student edition")[1].split("\n## ")[0]
    for command in ("make book-student", "make student-branch", "git push origin student", "book/_build/student/html"):
        assert command in section, command


# ------------------------------------------------------------------------------------------ the built student site
def _chapter_pages() -> list[str]:
    return [rel.removesuffix(".ipynb") + ".html" for rel in CHAPTERS]


@pytest.fixture(scope="module")
def built():
    if not (STUDENT_HTML / "index.html").exists():
        pytest.fail(f"{STUDENT_HTML} is missing: `make test-build` (or `make book-student`) builds it")
    return json.loads((STUDENT / "student-edition.json").read_text())


def _site_text(path: Path) -> str:
    """A file of the site as text: a page without its tags, a notebook's cells (sources and outputs, not its JSON
    escapes), any other file as it is."""
    if path.suffix == ".html":
        return html_text(path)
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        outputs = [json.dumps(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        return "\n".join([c.source for c in nb.cells] + outputs)
    return path.read_text(errors="replace")


@pytest.mark.site
def test_no_solution_text_in_any_page_or_download_of_the_student_site(built):
    """Searched in every file of the student site (pages, .ipynb and .md downloads, search index); the same search
    finds every solution in the main site's page and download of its chapter."""
    site = [p for p in STUDENT_HTML.rglob("*") if p.is_file() and p.suffix in {".html", ".ipynb", ".md", ".js", ".txt"}]
    site = [p for p in site if "_static" not in p.parts and "mathjax" not in p.parts]
    texts = {p: ngrams(_site_text(p)) for p in site}
    assert len(texts) > len(CHAPTERS)
    main_exists = (MAIN_HTML / "index.html").exists()
    for rel, solutions in solution_runs().items():
        page = rel.removesuffix(".ipynb")
        for k, runs in enumerate(solutions):
            leaks = {str(p.relative_to(STUDENT_HTML)): sorted(runs & t)[:2] for p, t in texts.items() if runs & t}
            assert not leaks, f"{rel}, solution {k}: {leaks}"
            if main_exists:
                assert runs & ngrams(html_text(MAIN_HTML / f"{page}.html")), f"{rel}, solution {k}: not in main page"
                assert runs & ngrams((MAIN_HTML / "_sources" / rel).read_text()), f"{rel}: not in main download"


@pytest.mark.site
def test_the_student_downloads_are_the_student_notebooks(built):
    for rel in CHAPTERS:
        download = nbformat.read(STUDENT_HTML / "_sources" / rel, as_version=4)
        assert all(not c.outputs for c in download.cells if c.cell_type == "code"), rel
        stubs = built["chapters"][rel]["stubs"]
        text = "\n".join(c.source for c in download.cells)
        assert text.count(student_edition.STUB_BODY) == len(stubs) >= 1, rel
        assert "{solution" not in text, rel


@pytest.mark.site
def test_the_record_counts_every_solution_and_stub_and_the_reuse(built):
    assert built["solutions_removed"] == sum(len(c.solutions.texts) for c in chapters().values())
    assert built["stubs"] == sum(len(c.stubs) for c in chapters().values())
    assert built["scale"] == "quick" or os.environ.get("BOOK_SCALE")
    for rel in CHAPTERS:
        assert built["chapters"][rel]["mode"] in (
            "stub cells executed, the rest from the main build",
            "executed in full",
        )


# the browser
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def student_server(built):
    handler = functools.partial(_QuietHandler, directory=str(STUDENT_HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make browser-deps` installs it (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.mark.site
@pytest.mark.parametrize("rel", CHAPTERS)
def test_student_chapter_has_its_exercises_no_solution_and_stubs_that_ran(student_server, browser, built, rel):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on(
        "request",
        lambda request: (
            problems.append(f"request leaves the site: {request.url}")
            if not request.url.startswith((student_server, "data:", "blob:", "about:"))
            else None
        ),
    )
    page.goto(f"{student_server}/{rel.removesuffix('.ipynb')}.html", wait_until="networkidle")
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("MathJax.startup.promise")
    untypeset = page.evaluate("document.querySelectorAll('.math:not(:has(mjx-container))').length")
    exercises = len(re.findall(r"\{exercise-start\}", (BOOK / rel).read_text()))
    assert page.evaluate("document.querySelectorAll('div.exercise').length") == exercises >= 1
    assert page.evaluate("document.querySelectorAll('div.solution, .solution.dropdown').length") == 0
    assert page.evaluate("document.querySelectorAll('a[href*=\"_downloads/pdf\"]').length") == 0
    stubs = built["chapters"][rel]["stubs"]
    cells = page.evaluate(
        """() => Array.from(document.querySelectorAll('div.cell')).map(cell => ({
               input: (cell.querySelector('.cell_input') || {}).innerText || '',
               output: (cell.querySelector('.cell_output') || {}).innerText || ''}))"""
    )
    ran = [c for c in cells if "NotImplementedError" in c["input"]]
    assert len(ran) >= 1 and sum(c["output"].count("not attempted: ") for c in ran) == len(stubs), ran
    for stub in stubs:
        function = stub.split("(")[-1].rstrip(")")
        assert any(f"def {function}(" in c["input"] for c in ran), stub
    summary = [c["output"] for c in cells if "check.summary(" in c["input"]]
    assert len(summary) == 1 and summary[0].count(": not attempted (") == len(stubs), summary
    page.close()
    assert untypeset == 0 and not problems, problems


@pytest.mark.site
@pytest.mark.parametrize("rel", CHAPTERS[:1] + CHAPTERS[-1:])
def test_the_student_launch_buttons_open_the_student_branch(student_server, browser, built, rel):
    record = json.loads((STUDENT / "launch.json").read_text())["repository"]
    if record is None:
        pytest.skip("built without a repository: no launch buttons (make test-build builds it with one)")
    assert record["branch"] == os.environ.get("STUDENT_BRANCH", "student")
    page = browser.new_page()
    page.goto(f"{student_server}/{rel.removesuffix('.ipynb')}.html", wait_until="networkidle")
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href^=\"http\"]')).map(a => a.href)")
    page.close()
    owner_repo = "/".join(record["url"].split("/")[3:])
    notebook = f"book/{rel}"
    assert f"https://mybinder.org/v2/gh/{owner_repo}/{record['branch']}?urlpath=lab/tree/{notebook}" in links
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/{record['branch']}/{notebook}" in links
