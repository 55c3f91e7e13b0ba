"""Drop repeated <script>/<link> entries from every page.

With jupyter-book 1.0.4 and the current sphinx-book-theme, the inline configuration scripts of
sphinx-togglebutton and sphinx-thebe are added to each page twice; the second
`const THEBE_JS_URL = ...` is a JavaScript error on every page (the browser check in tests/book/test_site.py
caught it). Identical entries are removed here, keeping the first.
"""

from __future__ import annotations


def _identity(asset) -> tuple:
    attributes = getattr(asset, "attributes", {}) or {}
    # an inline script's filename is None when added before the builder exists and "" after: same asset
    filename = getattr(asset, "filename", asset) or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        seen, unique = set(), []
        for asset in assets:
            identity = _identity(asset)
            if identity not in seen:
                seen.add(identity)
                unique.append(asset)
        assets[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
