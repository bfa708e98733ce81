"""Static evaluation of literal expressions: what a string or bytes expression *is*, without
running anything.

Payloads and the names of what they call are usually spelled so that no reader (and no
regex) sees them: ``"o" + "s"``, ``"".join(chr(c) for c in [...])``, ``"metsys"[::-1]``,
``bytes.fromhex("...")``, ``base64.b64decode("...")``, ``zlib.decompress(...)``,
``codecs.decode("...", "rot13")``. :func:`fold` evaluates such expressions when every leaf
is a literal (or a name bound to one), so the rules see the real string: the module name
in ``__import__``, the command given to ``os.system``, the code given to ``exec``.

Only pure, bounded operations are evaluated: string/bytes concatenation and repetition,
``join``, slicing, ``chr``, ``bytes``/``bytearray`` of integer lists (a name bound to one
included), ``str.translate`` of a literal ``str.maketrans`` table, ``.decode``/
``.encode``/``.replace``/``.strip`` with literal arguments, and the decoders of
:data:`DECODE_CALLS`. Decompression is incremental with an output cap
(:data:`MAX_OUTPUT`), so a decompression bomb costs at most that much memory. Text codecs
come from a fixed list: a codec name from the scanned file never selects code to import.
Nothing is ``eval``'d: this module walks the AST itself.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import lzma
import zlib
from collections.abc import Callable, Mapping
from typing import Protocol

__all__ = ["DECODE_CALLS", "MAX_OUTPUT", "Value", "fold"]

Value = str | bytes
MAX_OUTPUT = 1 << 20  # bytes or characters a folded value may have
_MAX_DEPTH = 40


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


def _bounded(decompressor: _Decompressor, data: bytes) -> bytes:
    """At most :data:`MAX_OUTPUT` bytes of output, however much the input expands."""
    return decompressor.decompress(data, MAX_OUTPUT)


def _zlib(data: bytes, wbits: int = zlib.MAX_WBITS) -> bytes:
    return _bounded(zlib.decompressobj(wbits), data)


def _gzip(data: bytes) -> bytes:
    return _zlib(data, 16 + zlib.MAX_WBITS)


def _bz2(data: bytes) -> bytes:
    return _bounded(bz2.BZ2Decompressor(), data)


def _lzma(data: bytes) -> bytes:
    return _bounded(lzma.LZMADecompressor(), data)


def _as_bytes(value: Value) -> bytes:
    return value.encode("latin-1", "replace") if isinstance(value, str) else value


def _b64(data: Value) -> bytes:
    return base64.b64decode(_as_bytes(data) + b"==", validate=False)


def _urlsafe_b64(data: Value) -> bytes:
    return base64.urlsafe_b64decode(_as_bytes(data) + b"==")


#: Qualified decoder names and how to apply them to a literal first argument.
DECODE_CALLS: Mapping[str, Callable[[Value], bytes]] = {
    "base64.b64decode": _b64,
    "base64.standard_b64decode": _b64,
    "base64.decodebytes": _b64,
    "base64.decodestring": _b64,
    "binascii.a2b_base64": _b64,
    "base64.urlsafe_b64decode": _urlsafe_b64,
    "base64.b32decode": lambda d: base64.b32decode(_as_bytes(d)),
    "base64.b16decode": lambda d: base64.b16decode(_as_bytes(d), casefold=True),
    "base64.b85decode": lambda d: base64.b85decode(_as_bytes(d)),
    "base64.a85decode": lambda d: base64.a85decode(_as_bytes(d)),
    "binascii.unhexlify": lambda d: binascii.unhexlify(_as_bytes(d)),
    "binascii.a2b_hex": lambda d: binascii.unhexlify(_as_bytes(d)),
    "bytes.fromhex": lambda d: bytes.fromhex(d if isinstance(d, str) else d.decode("ascii")),
    "bytearray.fromhex": lambda d: bytes.fromhex(d if isinstance(d, str) else d.decode("ascii")),
    "zlib.decompress": lambda d: _zlib(_as_bytes(d)),
    "gzip.decompress": lambda d: _gzip(_as_bytes(d)),
    "bz2.decompress": lambda d: _bz2(_as_bytes(d)),
    "lzma.decompress": lambda d: _lzma(_as_bytes(d)),
}

#: ``codecs.decode``/``codecs.encode`` codecs folded; the text codecs only change the type.
_CODECS: Mapping[str, Callable[[Value], Value]] = {
    "rot13": lambda d: _rot13(d), "rot_13": lambda d: _rot13(d),
    "hex": lambda d: binascii.unhexlify(_as_bytes(d)),
    "hex_codec": lambda d: binascii.unhexlify(_as_bytes(d)),
    "base64": _b64, "base64_codec": _b64,
    "zlib": lambda d: _zlib(_as_bytes(d)), "zlib_codec": lambda d: _zlib(_as_bytes(d)),
    "bz2": lambda d: _bz2(_as_bytes(d)), "bz2_codec": lambda d: _bz2(_as_bytes(d)),
}
_FOLDABLE_CALLS = frozenset({*DECODE_CALLS, "chr", "bytes", "bytearray", "str", "codecs.decode",
                             "codecs.encode", "reversed"})
_TEXT_CODECS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1",
                          "unicode_escape", "utf-16", "cp1252"})

_ROT13 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


def _rot13(data: Value) -> str:
    text = data if isinstance(data, str) else data.decode("latin-1")
    return text.translate(_ROT13)


def _decode_text(data: bytes, codec: str) -> str:
    codec = codec.lower().replace("_", "-") if codec != "unicode_escape" else codec
    if codec not in _TEXT_CODECS:
        codec = "utf-8"
    return data.decode(codec, "replace")


class _Folder:
    def __init__(self, resolve: Callable[[ast.expr], str],
                 names: Callable[[str], Value | None],
                 displays: Callable[[str], ast.expr | None]) -> None:
        self.resolve = resolve  # qualified name of a call's function
        self.names = names  # value of a name bound to a folded literal
        self.displays = displays  # the list/tuple display a name is bound to
        self.depth = 0

    def fold(self, node: ast.expr) -> Value | None:
        if self.depth > _MAX_DEPTH:
            return None
        self.depth += 1
        try:
            value = self._fold(node)
        except (ValueError, TypeError, OverflowError, binascii.Error, zlib.error, lzma.LZMAError,
                OSError, EOFError, LookupError, MemoryError, RecursionError):
            value = None
        finally:
            self.depth -= 1
        if value is not None and len(value) > MAX_OUTPUT:
            return None
        return value

    def _fold(self, node: ast.expr) -> Value | None:
        if type(node) in _NEVER:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, bytes)) else None
        if isinstance(node, ast.Name):
            return self.names(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = [self._fold_fstring_part(v) for v in node.values]
            return "".join(parts) if all(isinstance(p, str) for p in parts) else None  # type: ignore[arg-type]
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Subscript):
            base = self.fold(node.value)
            if base is None or not isinstance(node.slice, ast.Slice):
                return None
            bounds = [_int(b) if b is not None else None
                      for b in (node.slice.lower, node.slice.upper, node.slice.step)]
            if any(b is False for b in bounds):
                return None
            return base[slice(*bounds)]
        if isinstance(node, ast.Call):
            return self._call(node)
        return None

    def _fold_fstring_part(self, part: ast.expr) -> Value | None:
        if isinstance(part, ast.FormattedValue):
            if part.format_spec is not None or part.conversion not in (-1, 115):
                return None
            value = self.fold(part.value)
            return value if isinstance(value, str) else None
        return self.fold(part)

    def _binop(self, node: ast.BinOp) -> Value | None:
        left = self.fold(node.left)
        if isinstance(node.op, ast.Mult):
            count = _int(node.right)
            if left is None or count is False or count is None or count * len(left) > MAX_OUTPUT:
                return None
            return left * count
        right = self.fold(node.right)
        if not isinstance(node.op, ast.Add) or left is None or right is None:
            return None
        if type(left) is not type(right):
            return None
        return left + right  # type: ignore[operator]

    def _call(self, node: ast.Call) -> Value | None:
        func = node.func
        args = node.args
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method == "join" and len(args) == 1:
                sep = self.fold(func.value)
                items = self._items(args[0])
                if sep is None or items is None or not all(type(i) is type(sep) for i in items):
                    return None
                return sep.join(items)  # type: ignore[arg-type]
            if method == "translate" and len(args) == 1:
                return self._translate(func.value, args[0])
            if method in ("decode", "encode", "replace", "strip", "lstrip", "rstrip", "lower",
                          "upper", "swapcase"):
                base = self.fold(func.value)
                if base is not None:
                    return self._method(base, method, args)
        name = self.resolve(func)
        if name not in _FOLDABLE_CALLS:
            return None
        first = self.fold(args[0]) if args else None
        if name == "chr" and args:
            code = _int(args[0])
            return chr(code) if type(code) is int and 0 <= code < 0x110000 else None
        if name in ("bytes", "bytearray") and len(args) == 1:
            ints = self._ints(args[0])
            if ints is not None:
                return bytes(ints)
            if isinstance(first, str) and len(args) >= 1:
                return first.encode("utf-8", "replace")
            return first if isinstance(first, bytes) else None
        if name == "str" and len(args) >= 2 and isinstance(first, bytes):
            codec = self.fold(args[1])
            return _decode_text(first, codec if isinstance(codec, str) else "utf-8")
        if name in ("codecs.decode", "codecs.encode") and first is not None:
            codec = self.fold(args[1]) if len(args) > 1 else None
            codec = codec if isinstance(codec, str) else next(
                (self.fold(k.value) for k in node.keywords if k.arg == "encoding"), None)
            if not isinstance(codec, str):
                return None
            if codec.lower() in _CODECS:
                return _CODECS[codec.lower()](first)
            return _decode_text(_as_bytes(first), codec) if isinstance(first, bytes) else first
        if name in DECODE_CALLS and first is not None:
            return DECODE_CALLS[name](first)
        if name in ("reversed",) and first is not None:
            return first[::-1]
        return None

    def _translate(self, base_node: ast.expr, table: ast.expr) -> Value | None:
        """``s.translate(str.maketrans(A, B[, C]))`` with literal strings: a substitution."""
        if not (isinstance(table, ast.Call) and isinstance(table.func, ast.Attribute)
                and table.func.attr == "maketrans" and 2 <= len(table.args) <= 3):
            return None
        base = self.fold(base_node)
        parts = [self.fold(a) for a in table.args]
        if not isinstance(base, str) or not all(isinstance(p, str) for p in parts):
            return None
        return base.translate(str.maketrans(*parts))  # type: ignore[arg-type]

    def _method(self, base: Value, method: str, args: list[ast.expr]) -> Value | None:
        folded = [self.fold(a) for a in args]
        if any(f is None for f in folded):
            return None
        if method == "decode":
            if not isinstance(base, bytes):
                return None
            return _decode_text(base, folded[0] if folded and isinstance(folded[0], str) else "utf-8")
        if method == "encode":
            return base.encode("utf-8", "replace") if isinstance(base, str) else None
        if method == "replace" and len(folded) == 2 and all(type(f) is type(base) for f in folded):
            return base.replace(folded[0], folded[1])  # type: ignore[arg-type]
        if method in ("strip", "lstrip", "rstrip") and (not folded or type(folded[0]) is type(base)):
            return getattr(base, method)(*folded)  # type: ignore[no-any-return]
        if method in ("lower", "upper", "swapcase") and not folded:
            return getattr(base, method)()  # type: ignore[no-any-return]
        return None

    def _items(self, node: ast.expr) -> list[Value] | None:
        """The folded elements of a list/tuple, or of ``(f(c) for c in <ints>)``/``map``."""
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.fold(e) for e in node.elts]
            return None if any(i is None for i in items) else items  # type: ignore[return-value]
        if isinstance(node, ast.Call) and self.resolve(node.func) == "map" and len(node.args) == 2:
            if self.resolve(node.args[0]) == "chr":
                ints = self._ints(node.args[1])
                return None if ints is None else [chr(i) for i in ints]
            return None
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
            gen = node.generators[0]
            if gen.ifs or not isinstance(gen.target, ast.Name):
                return None
            ints = self._ints(gen.iter)
            elt = node.elt
            if (ints is None or not isinstance(elt, ast.Call) or len(elt.args) != 1
                    or self.resolve(elt.func) != "chr"):
                return None
            codes = [_affine(elt.args[0], gen.target.id, i) for i in ints]
            if any(c is None or not 0 <= c < 0x110000 for c in codes):
                return None
            return [chr(c) for c in codes if c is not None]
        folded = self.fold(node)
        return list(folded) if isinstance(folded, str) else None

    def _ints(self, node: ast.expr) -> list[int] | None:
        if isinstance(node, ast.Name) and self.depth < _MAX_DEPTH:
            display = self.displays(node.id)
            node = display if display is not None else node
        if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) <= MAX_OUTPUT:
            values = [_int(e) for e in node.elts]
            if all(isinstance(v, int) and 0 <= v < 0x110000 for v in values):
                return values  # type: ignore[return-value]
        return None


_NEVER = frozenset({ast.Attribute, ast.Compare, ast.Lambda, ast.Dict, ast.List, ast.Tuple, ast.Set,
                    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Await,
                    ast.Yield, ast.YieldFrom, ast.BoolOp, ast.UnaryOp, ast.IfExp, ast.Starred})


def _int(node: ast.expr) -> int | bool | None:
    """A literal int (``-3`` included), ``None`` for a literal ``None``, else False."""
    if isinstance(node, ast.Constant) and (node.value is None or (
            isinstance(node.value, int) and not isinstance(node.value, bool))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand)
        return -inner if isinstance(inner, int) and not isinstance(inner, bool) else False
    return False


def _affine(expr: ast.expr, var: str, value: int) -> int | None:
    """``expr`` evaluated with ``var = value`` when it is ``var``, ``var ± k``, ``var ^ k``."""
    if isinstance(expr, ast.Name) and expr.id == var:
        return value
    if isinstance(expr, ast.BinOp) and isinstance(expr.left, ast.Name) and expr.left.id == var:
        k = _int(expr.right)
        if not isinstance(k, int) or isinstance(k, bool) or k is None:
            return None
        if isinstance(expr.op, ast.Add):
            return value + k
        if isinstance(expr.op, ast.Sub):
            return value - k
        if isinstance(expr.op, ast.BitXor):
            return value ^ k
    return None


def fold(node: ast.expr, resolve: Callable[[ast.expr], str],
         names: Callable[[str], Value | None] = lambda _: None,
         displays: Callable[[str], ast.expr | None] = lambda _: None) -> Value | None:
    """The str/bytes value of ``node`` when it is built from literals only, else None.

    ``resolve`` gives the qualified name of a call's function (through the file's imports);
    ``names`` the folded value a plain name is bound to, if any; ``displays`` the list or
    tuple display it is bound to (``CODES = [105, 109]``; ``bytes(CODES)``).
    """
    return _Folder(resolve, names, displays).fold(node)
