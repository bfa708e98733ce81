"""shouldi: should I install this Python package?

Static analysis of PyPI packages, built as a dataflow application. Nothing from a scanned
package is ever executed: scanners only read files.

>>> import shouldi
>>> shouldi.check(["six==1.17.0"])[0].verdict          # doctest: +SKIP
<Verdict.PASS: 'pass'>

``check``/``acheck``/``answer`` are in :mod:`shouldi.api`, ``Settings`` in
:mod:`shouldi.settings`, the report types in :mod:`shouldi.verdict`. They load on first use,
so ``import shouldi`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

__version__ = "0.2.0"

if TYPE_CHECKING:
    from shouldi.api import Answer, Request, acheck, answer, answer_async, check
    from shouldi.settings import Settings
    from shouldi.verdict import PackageReport, Reason, Verdict

_LAZY = {
    "Answer": "shouldi.api",
    "PackageReport": "shouldi.verdict",
    "Reason": "shouldi.verdict",
    "Request": "shouldi.api",
    "Settings": "shouldi.settings",
    "Verdict": "shouldi.verdict",
    "acheck": "shouldi.api",
    "answer": "shouldi.api",
    "answer_async": "shouldi.api",
    "check": "shouldi.api",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = ["Answer", "PackageReport", "Reason", "Request", "Settings", "Verdict", "__version__",
           "acheck", "answer", "answer_async", "check"]
