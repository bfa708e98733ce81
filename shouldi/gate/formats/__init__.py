"""Output formats of the gate: text, JSON, SARIF 2.1.0 and Markdown, one :class:`Formatter` each."""

from __future__ import annotations

from shouldi.gate.formats.interface import Formatter
from shouldi.gate.formats.json import JsonFormatter
from shouldi.gate.formats.markdown import MarkdownFormatter
from shouldi.gate.formats.sarif import SarifFormatter
from shouldi.gate.formats.text import TextFormatter

__all__ = ["FORMATS", "Formatter", "JsonFormatter", "MarkdownFormatter", "SarifFormatter",
           "TextFormatter"]

FORMATS: dict[str, type[Formatter]] = {
    "text": TextFormatter,
    "json": JsonFormatter,
    "sarif": SarifFormatter,
    "markdown": MarkdownFormatter,
}
