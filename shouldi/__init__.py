"""shouldi: should I install this Python package?

Static analysis of PyPI packages, built as a dataflow application. Nothing from a scanned
package is ever executed: scanners only read files.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
