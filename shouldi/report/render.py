"""Render :class:`~shouldi.report.data.TriageData` as one self-contained HTML file.

Choices:

- **Jinja2 with autoescaping on for everything** (``autoescape=True``, not by file extension):
  package names, messages and evidence come from untrusted packages, so every value is
  escaped by default and nothing is marked safe except the two assets below, which are ours.
  ``StrictUndefined`` makes a misspelt field an error in tests, not an empty cell.
- **Self-contained**: the CSS and JavaScript (``templates/report.css``, ``report.js``) are
  inlined, the charts are inline SVG, and there is no link, font, image or request to load:
  the file works from ``file://`` with no server and no network.
- **A strict Content-Security-Policy** in a ``<meta>`` tag: ``default-src 'none'``, and the
  one inline ``<script>`` and ``<style>`` allowed by their SHA-256 hashes, never by
  ``'unsafe-inline'``. Even if a value escaped the escaping, an injected ``<script>`` or
  ``onerror=`` handler would not run. (Inline ``style=`` attributes are blocked too, so the
  template and the script use classes and the ``hidden`` attribute only.)
- The table is rendered in full on the server side, sorted worst first; the script only
  reorders and hides rows (sort by a column, filter by verdict, search text), so a reader
  without JavaScript still sees every row. The script shows at most :data:`PAGE_SIZE`
  matching rows until "Show all" is clicked: with 5,000 rows, re-laying out the whole table
  after every click took seconds on the 2-core VM, 500 rows well under one.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from shouldi import __version__
from shouldi.report.data import TriageData
from shouldi.report.errors import ReportError

if TYPE_CHECKING:
    import jinja2

__all__ = ["PAGE_SIZE", "content_security_policy", "render_html"]

_ASSETS = ("report.css", "report.js")
#: Matching rows the script shows at once (see report.js); the rest wait behind "Show all".
PAGE_SIZE = 500


def _asset(name: str) -> str:
    text = (resources.files("shouldi.report") / "templates" / name).read_text(encoding="utf-8")
    if "</" in text:  # would end the inline element early
        raise RuntimeError(f"{name} must not contain '</': it would end the inline element")
    return text


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(css: str, js: str) -> str:
    """The policy: nothing may load; only this exact inline style and script may apply/run."""
    return (f"default-src 'none'; style-src {_hash(css)}; script-src {_hash(js)}; "
            "img-src 'none'; base-uri 'none'; form-action 'none'")


@cache
def _environment() -> jinja2.Environment:
    try:
        import jinja2
    except ImportError as e:  # the [report] extra; safety also brings it
        raise ReportError("shouldi report needs jinja2: pip install jinja2, or install shouldi "
                          "from its source with the extra: pip install '.[report]'") from e
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shouldi.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _when(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}" if value == round(value) else f"{value:.1f}"


def render_html(data: TriageData, *, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    env = _environment()
    css, js = (_asset(name) for name in _ASSETS)
    template = env.get_template("report.html.j2")
    return template.render(
        data=data,
        css=css,
        js=js,
        csp=content_security_policy(css, js),
        generated=_when(generated_at or datetime.now(timezone.utc)),
        when=_when,
        score=_score,
        version=__version__,
        page_size=PAGE_SIZE,
    )
