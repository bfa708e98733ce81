"""AST heuristics for install-time behaviour and malicious-code patterns.

Modules: :mod:`.rules` (rule ids and severities), :mod:`.names` (what is looked for),
:mod:`.visitor` (the single AST pass), :mod:`.blobs` (entropy, blobs, long lines),
:mod:`.files` (which files run by themselves; binaries), :mod:`.scanner` (the walk).
"""

from __future__ import annotations

from shouldi.scanners.heuristics.rules import RULES, Rule
from shouldi.scanners.heuristics.scanner import MAX_FILE_SIZE, HeuristicsScanner

__all__ = ["MAX_FILE_SIZE", "RULES", "HeuristicsScanner", "Rule"]
