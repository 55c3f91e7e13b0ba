"""Loading a reference run, verified, and fetching its weights when the package was installed without them.

:func:`load` checks, in this order, that the manifest exists, that its run value equals the catalogue's (field by
field), that the weights' SHA-256 equals the manifest's, and that their keys and shapes are those of the model the
run builds; any mismatch is a :class:`ReferenceMismatchError` naming the run, the field and the command that
retrains it. A different code fingerprint is not an error (the chapters re-evaluate the weights themselves).

A package installed by pip has the manifests (package data) but not the weights: those are fetched with ``pooch``
by their SHA-256 from ``<base>/<chapter>/<name>/weights.safetensors``, the base being, in order,
``$VI_COURSE_REFERENCE_URL``, the repository and commit pip installed the package from (PEP 610's
``direct_url.json``), or ``$BOOK_REPOSITORY_URL`` at ``$BOOK_REPOSITORY_BRANCH`` (default ``main``), the setting the
book's launch buttons use. Without a base or without network the error is :class:`ReferenceNotAvailableError`,
which a chapter catches to run its live part only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import torch
from torch import nn

from helpers.deep.checkpoints import differences
from helpers.deep.history import History
from helpers.deep.reference.catalogue import Entry, entry
from helpers.deep.reference.files import (
    MANIFEST,
    MANIFEST_FORMAT,
    WEIGHTS,
    ReferenceMismatchError,
    ReferenceNotAvailableError,
    read_json,
    read_weights,
    retrain,
    run_dir,
    sha256,
    shown,
    stored_value,
    value_of,
)
from helpers.deep.runs import code_fingerprint

DISTRIBUTION = "vi-gradients-course"
#: where the folder of the runs sits inside the repository (the raw URL's path)
REPOSITORY_PATH = "helpers/deep/reference"


def check_structure(e: Entry, states: dict[int, dict[str, torch.Tensor]], models: list[nn.Module]) -> None:
    """The stored state dicts have the seeds, keys, shapes and dtypes of the models the run builds."""
    problems = []
    if sorted(states) != sorted(e.run.seeds):
        problems.append(f"seeds: stored {sorted(states)}, catalogue {list(e.run.seeds)}")
    for seed, model in zip(e.run.seeds, models):
        own, got = model.state_dict(), states.get(seed, {})
        for k in sorted(set(own) - set(got)):
            problems.append(f"seed {seed}: {k} missing")
        for k in sorted(set(got) - set(own)):
            problems.append(f"seed {seed}: {k} is not a parameter of the model")
        for k in sorted(set(own) & set(got)):
            if own[k].shape != got[k].shape or own[k].dtype != got[k].dtype:
                problems.append(f"seed {seed}: {k} stored {tuple(got[k].shape)} {got[k].dtype}, the model has "
                                f"{tuple(own[k].shape)} {own[k].dtype}")  # fmt: skip
    if problems:
        raise ReferenceMismatchError(
            f"reference run {e.key}: the stored weights do not fit the model the catalogue builds "
            f"({'; '.join(problems[:6])}{' ...' if len(problems) > 6 else ''}); {retrain(e)}."
        )


# ---------------------------------------------------------------------------------------------- fetching
def _repository_url(url: str) -> tuple[str, str] | None:
    """(host, owner/repo) of a GitHub or GitLab URL (https, git+https, ssh or scp-like), else None."""
    patterns = (r"^(?:git\+)?https?://(?:[^@/]+@)?(?P<host>[^/:]+)/(?P<path>[^?#]+?)(?:\.git)?/?$",
                r"^(?:git\+)?ssh://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+?)(?:\.git)?/?$",
                r"^(?:[^@/]+@)?(?P<host>[^/:]+):(?P<path>[^/].*?)(?:\.git)?/?$")  # fmt: skip
    for pattern in patterns:
        match = re.match(pattern, url.strip())
        if match and match["host"].lower() in ("github.com", "gitlab.com"):
            return match["host"].lower(), match["path"].strip("/")
    return None


def raw_base(repository: str, ref: str) -> str | None:
    """The URL of this folder's raw files in ``repository`` at ``ref`` (a commit or branch), GitHub or GitLab."""
    parsed = _repository_url(repository)
    if parsed is None:
        return None
    host, path = parsed
    if host == "github.com":
        return f"https://raw.githubusercontent.com/{path}/{ref}/{REPOSITORY_PATH}"
    return f"https://gitlab.com/{path}/-/raw/{ref}/{REPOSITORY_PATH}"


def base_url(environ: dict[str, str] | None = None) -> str | None:
    """Where the weights are fetched from (see the module docstring), or None."""
    environ = os.environ if environ is None else environ
    if environ.get("VI_COURSE_REFERENCE_URL", "").strip():
        return environ["VI_COURSE_REFERENCE_URL"].strip().rstrip("/")
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        direct = json.loads(distribution(DISTRIBUTION).read_text("direct_url.json") or "{}")
    except (PackageNotFoundError, ValueError, OSError):
        direct = {}
    commit = direct.get("vcs_info", {}).get("commit_id")
    if commit and raw_base(direct.get("url", ""), commit):
        return raw_base(direct["url"], commit)
    setting = environ.get("BOOK_REPOSITORY_URL", "").strip()
    if setting and setting.lower() not in ("off", "none", "0", "false"):
        return raw_base(setting, environ.get("BOOK_REPOSITORY_BRANCH", "").strip() or "main")
    return None


def _copy_file(url: str, output_file, pooch=None, check_only: bool = False):
    """A pooch downloader for ``file://`` URLs (a local mirror; the tests)."""
    source = Path(unquote(urlparse(url).path))
    if check_only:
        return source.is_file()
    if hasattr(output_file, "write"):
        output_file.write(source.read_bytes())
    else:
        shutil.copyfile(source, output_file)
    return None


def cache_dir() -> Path:
    import pooch

    return Path(os.environ.get("VI_COURSE_CACHE", "").strip() or pooch.os_cache(DISTRIBUTION)) / "reference"


def fetch(e: Entry, sha: str, base: str | None = None) -> Path:
    """The weights of a run fetched by pooch from ``base`` (default :func:`base_url`) and checked against ``sha``."""
    import pooch

    base = base_url() if base is None else base.rstrip("/")
    if base is None:
        raise ReferenceNotAvailableError(
            f"the weights of reference run {e.key} are not in this installation and no repository is known to fetch "
            "them from: install the course from its repository (pip install 'vi-gradients-course @ git+<url>'), or "
            "set VI_COURSE_REFERENCE_URL to the folder that holds <chapter>/<name>/weights.safetensors."
        )
    url = f"{base}/{e.chapter}/{e.name}/{WEIGHTS}"
    try:
        path = pooch.retrieve(url, known_hash=f"sha256:{sha}", fname=f"{e.chapter}-{e.name}-{sha[:16]}.safetensors",
                              path=cache_dir(), downloader=_copy_file if url.startswith("file:") else None,
                              progressbar=False)  # fmt: skip
    except ValueError as error:  # pooch: the hash of the downloaded file differs
        raise ReferenceMismatchError(
            f"reference run {e.key}: the file fetched from {url} is not the one its manifest names ({error}); the "
            f"repository and this installation disagree: reinstall the course, or {retrain(e)}."
        ) from None
    except Exception as error:  # noqa: BLE001 - no network, 404, a proxy: the chapter runs its live part only
        raise ReferenceNotAvailableError(
            f"could not fetch the weights of reference run {e.key} from {url} ({type(error).__name__}: {error}); "
            "without them the chapter runs its live part only."
        ) from None
    return Path(path)


# ---------------------------------------------------------------------------------------------- loading
@dataclass
class Loaded:
    """A verified reference run: its R trained models (single, one per seed, in eval mode), their histories,
    the manifest, and whether the code that trained it is today's (``same_code``; informative only)."""

    entry: Entry
    models: list[nn.Module]
    histories: list[History]
    manifest: dict
    weights: Path
    same_code: bool

    @property
    def passes(self) -> int:
        return int(self.manifest["passes"])


def read_manifest(e: Entry, root: str | Path | None = None) -> dict:
    """The manifest of a run, checked to be this catalogue entry (field by field)."""
    path = run_dir(e, root) / MANIFEST
    if not path.is_file():
        raise ReferenceNotAvailableError(
            f"reference run {e.key} has no manifest ({shown(path)}): it has not been trained (or committed) yet; "
            f"{retrain(e).replace('retrains', 'trains')}."
        )
    manifest = read_json(path)
    if manifest.get("format") != MANIFEST_FORMAT or "value" not in manifest:
        raise ReferenceMismatchError(f"{shown(path)} is not a manifest of format {MANIFEST_FORMAT}; {retrain(e)}.")
    diffs = differences(stored_value(manifest), value_of(e))
    if diffs:
        raise ReferenceMismatchError(
            f"reference run {e.key}: the stored run is not the catalogue's ({'; '.join(diffs)}; saved = stored, "
            f"now = catalogue); {retrain(e)}."
        )
    histories = manifest.get("histories", [])
    if (
        manifest.get("passes") != e.run.epochs
        or len(histories) != len(e.run.seeds)
        or any(len(h.get("epoch", ())) != e.run.epochs for h in histories)
    ):
        raise ReferenceMismatchError(
            f"{shown(path)} says {manifest.get('passes')} passes and holds {len(histories)} curves, but the run "
            f"declares {e.run.epochs} passes of {len(e.run.seeds)} seeds: the manifest was edited or damaged; "
            f"{retrain(e)}."
        )
    return manifest


def load(chapter: str, name: str, *, root: str | Path | None = None, fetch_missing: bool = True) -> Loaded:
    """The reference run ``chapter/name``, verified (module docstring): its R trained models, histories, manifest.

    Raises:
        ReferenceNotAvailableError: not trained yet, or the weights are neither here nor fetchable.
        ReferenceMismatchError: a stored run value, hash or structure that does not match (names the field and
            the command that retrains the run).
    """
    e = entry(chapter, name)
    manifest = read_manifest(e, root)
    sha = manifest["weights"]["sha256"]
    path = run_dir(e, root) / WEIGHTS
    if path.is_file():
        found = sha256(path)
        if found != sha:
            raise ReferenceMismatchError(
                f"reference run {e.key}: {shown(path)} has SHA-256 {found[:16]}..., its manifest says {sha[:16]}...: "
                f"the file was changed or damaged. Restore it (git checkout -- {path.name}) or {retrain(e)}."
            )
    elif fetch_missing:
        path = fetch(e, sha)
    else:
        raise ReferenceNotAvailableError(f"reference run {e.key}: {shown(path)} is missing (fetching disabled).")
    states = read_weights(path)
    models = e.run.initial_models()
    check_structure(e, states, models)
    for seed, model in zip(e.run.seeds, models):
        model.load_state_dict(states[seed])
        model.eval()
    histories = [History(**h) for h in manifest["histories"]]
    return Loaded(e, models, histories, manifest, path, manifest.get("code_fingerprint") == code_fingerprint())
