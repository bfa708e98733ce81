"""AST heuristics for install-time behaviour and malicious-code patterns.

One parse and one AST pass per file, then reachability over the whole tree decides how
much each finding weighs (evidence that runs at install or import time fails; a risky
capability that runs then warns; the rest informs). Modules, in the order data flows:

* :mod:`.layout` — what each file is (build script, start-up hook, installed module,
  script, tests/docs, not installed) and its module name; :mod:`.files` — magic bytes,
  ``.pth`` lines, in-tree backends;
* :mod:`.visitor` — the pass: scopes, guards, call-graph edges; with :mod:`.taint` (labels:
  decoded, downloaded, secret...), :mod:`.fold` (literal expressions evaluated safely),
  :mod:`.sinks` (which rule a call hits), :mod:`.names` and :mod:`.indicators` (what is
  looked for), :mod:`.blobs` (entropy, blobs, long lines); its output is :mod:`.facts`;
* :mod:`.graph` — reachability from what runs by itself; :mod:`.rules` — rule ids and the
  severity policy; :mod:`.scanner` — the walk, severities, counts.
"""

from __future__ import annotations

from shouldi.scanners.heuristics.rules import RULES, Kind, Reach, Rule
from shouldi.scanners.heuristics.scanner import CAPABILITIES, MAX_FILE_SIZE, HeuristicsScanner

__all__ = ["CAPABILITIES", "MAX_FILE_SIZE", "RULES", "HeuristicsScanner", "Kind", "Reach", "Rule"]
