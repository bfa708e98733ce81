"""Obfuscation signals that need no syntax tree: entropy, encoded blobs, very long lines.

Payloads are usually shipped packed: a base64 or hex string, or a compressed ``bytes``
literal, decoded at run time. English and code stay below ~4.8 bits per character; base64
of compressed data is close to 6, raw compressed bytes close to 8.
"""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = [
    "BLOB_MIN",
    "ENTROPY_MIN_LENGTH",
    "ENTROPY_THRESHOLD",
    "LONG_LINE",
    "MAX_SPACE_RATIO",
    "blob_rule",
    "long_lines",
    "shannon_entropy",
]

ENTROPY_THRESHOLD = 5.0  # bits per symbol
ENTROPY_MIN_LENGTH = 200
BLOB_MIN = 512  # characters of base64/hex, whitespace excluded
LONG_LINE = 1000
MAX_SPACE_RATIO = 0.05  # a "high-entropy" literal with more whitespace is prose

_BASE64 = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
_HEX = re.compile(rb"(?:0x|\\x)?[0-9A-Fa-f]+")
_SPACE = re.compile(rb"\s+")


def shannon_entropy(data: str | bytes) -> float:
    """Shannon entropy of ``data`` in bits per symbol (character or byte)."""
    if not data:
        return 0.0
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in Counter(data).values())


def blob_rule(value: str | bytes) -> tuple[str, str] | None:
    """``(rule, detail)`` when a literal looks like a packed payload, else ``None``."""
    if len(value) < ENTROPY_MIN_LENGTH:
        return None
    spaces = value.count(" " if isinstance(value, str) else b" ")  # type: ignore[arg-type]
    if spaces > MAX_SPACE_RATIO * len(value):
        return None  # prose: neither a blob (no spaces in base64/hex) nor sparse
    raw = value.encode("utf-8", "replace") if isinstance(value, str) else value
    compact = _SPACE.sub(b"", raw)
    if len(compact) >= BLOB_MIN and _looks_encoded(compact):
        kind = "hex" if _HEX.fullmatch(compact) else "base64"
        return "encoded-blob", f"{len(compact)} characters of {kind}"
    entropy = shannon_entropy(value)
    if entropy > ENTROPY_THRESHOLD and _sparse_spaces(compact, raw):
        return "high-entropy-string", f"{len(value)} symbols at {entropy:.2f} bits/symbol"
    return None


def _sparse_spaces(compact: bytes, raw: bytes) -> bool:
    """Prose has ~15% whitespace and mixed-case prose can pass 5 bits/char; payloads don't."""
    return len(raw) - len(compact) < MAX_SPACE_RATIO * len(raw)


def _looks_encoded(compact: bytes) -> bool:
    if _HEX.fullmatch(compact) or re.fullmatch(rb"(\\x[0-9A-Fa-f]{2})+", compact):
        return True
    if not _BASE64.fullmatch(compact):
        return False
    # Real base64 mixes cases and digits; a long identifier-like run does not.
    has = [bool(re.search(p, compact)) for p in (rb"[a-z]", rb"[A-Z]", rb"[0-9]")]
    return all(has) and shannon_entropy(compact) > 4.5


def long_lines(lines: list[str]) -> tuple[int, int, int] | None:
    """``(first line number, how many, longest)`` of lines over :data:`LONG_LINE` characters."""
    if not lines or max(map(len, lines)) <= LONG_LINE:
        return None
    first, count, longest = 0, 0, 0
    for number, line in enumerate(lines, start=1):
        if len(line) > LONG_LINE:
            first = first or number
            count += 1
            longest = max(longest, len(line))
    return (first, count, longest) if count else None
