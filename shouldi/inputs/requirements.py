"""Read pip requirements files, without pip and without running anything.

pip's format is line based, so a small parser on top of :mod:`packaging` covers it: comments
(``#`` at the start or after whitespace), ``\\`` continuations, ``${VAR}`` expansion, ``-r``
and ``-c`` includes relative to the including file (cycles refused, a file included twice is
read once), global options (``-i``, ``--extra-index-url``, ``-f``, ``--no-index``...) and the
per-requirement ``--hash``. Markers are evaluated for this interpreter; a dependency whose
markers are false is kept with ``marker_excluded=True``. Editable and URL/path lines are kept
as ``unsupported`` values. Remote includes (``-r https://...``) are refused: we read files only.

Every file is read as hostile input (:func:`shouldi.inputs.files.read_text_input`: a regular
file, UTF-8, at most :data:`MAX_FILE_BYTES`), and includes are bounded three ways: at most
:data:`MAX_DEPTH` files deep, :data:`MAX_FILES` files and :data:`MAX_TOTAL_BYTES` in all. An
include cycle (``-r b.txt`` in ``a.txt`` and ``-r a.txt`` in ``b.txt``) is refused with the
chain; files are identified by their real path, so a symlink loop cannot restart the count.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from shouldi.inputs.dependency import Dependency, make_dependency
from shouldi.inputs.errors import InputError
from shouldi.inputs.files import MiB, read_text_input

__all__ = ["MAX_DEPTH", "MAX_FILES", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "RequirementsFile",
           "read_requirements"]

MAX_FILE_BYTES = 8 * MiB  # a hash-pinned file for 2,000 packages is about 2 MiB
MAX_TOTAL_BYTES = 64 * MiB
MAX_DEPTH = 32  # -r inside -r inside ... (pip has no limit; real projects nest 2 or 3)
MAX_FILES = 1000

EDITABLE = "editable requirement (a local or VCS checkout): not resolvable on a package index"
URL_OR_PATH = "URL or path requirement: not resolvable on a package index"

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_HASH_RE = re.compile(r"^(sha256|sha384|sha512):[0-9a-fA-F]+$")
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")

# Options valid on a line of their own (value-taking, then flags), mapped to what we record.
_LINE_VALUES = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
    "-i": "index_url",
    "--index-url": "index_url",
    "--extra-index-url": "extra_index_url",
    "-f": "find_links",
    "--find-links": "find_links",
    "--trusted-host": "trusted_host",
    "--only-binary": "",
    "--no-binary": "",
    "--use-feature": "",
}
_LINE_FLAGS = {
    "--no-index": "no_index",
    "--require-hashes": "require_hashes",
    "--pre": "",
    "--prefer-binary": "",
}
# Options valid after a requirement on the same line.
_REQ_VALUES = {
    "--hash": "hash",
    "--config-settings": "",
    "--global-option": "",
    "--install-option": "",
}


@dataclass(frozen=True)
class RequirementsFile:
    """A requirements file and everything it included, with the options that apply to all."""

    path: str
    dependencies: tuple[Dependency, ...]
    constraints: tuple[Dependency, ...] = ()  # from -c files: they constrain, they are not deps
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    require_hashes: bool = False
    files: tuple[str, ...] = ()  # every file read, in reading order
    warnings: tuple[str, ...] = ()  # options worth telling the user about (--trusted-host)

    def constraints_for(self, dep: Dependency) -> tuple[Dependency, ...]:
        """The constraints that apply to ``dep`` in this environment."""
        if dep.name is None:
            return ()
        return tuple(c for c in self.constraints if c.name == dep.name and not c.marker_excluded)


def read_requirements(path: Path) -> RequirementsFile:
    """Parse ``path`` and its includes. Raises :class:`InputError` (``file:line: why``)."""
    reader = _Reader()
    reader.read_file(path, str(path), constraint=False, stack=())
    extra = tuple(dict.fromkeys(reader.extra_index_urls))
    deps = tuple(
        replace(d, index_url=reader.index_url, extra_index_urls=extra) for d in reader.deps
    )
    return RequirementsFile(
        path=str(path),
        dependencies=deps,
        constraints=tuple(reader.constraints),
        index_url=reader.index_url,
        extra_index_urls=extra,
        find_links=tuple(reader.find_links),
        no_index=reader.no_index,
        require_hashes=reader.require_hashes,
        files=tuple(reader.files),
        warnings=tuple(reader.warnings),
    )


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join ``\\`` continuations and drop comments and blanks, like pip; keep first line numbers."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.endswith("\\") and not _COMMENT_RE.match(line):
            if not pending:
                first = number
            pending.append(line[:-1])
            continue
        if pending:
            pending.append(" " + line if _COMMENT_RE.match(line) else line)
            line, number, pending = "".join(pending), first, []
        out.append((number, line))
    if pending:
        out.append((first, "".join(pending)))
    cleaned = [(n, _COMMENT_RE.sub("", line).strip()) for n, line in out]
    return [(n, line) for n, line in cleaned if line]


def _expand_env(line: str) -> str:
    return _ENV_VAR_RE.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line)


def _parse_options(
    tokens: list[str], where: str, values: dict[str, str], flags: dict[str, str]
) -> list[tuple[str, str]]:
    """Options as ``(key, value)`` pairs; ``--opt=v``, ``--opt v`` and ``-rFILE`` all work."""
    out: list[tuple[str, str]] = []
    it = iter(tokens)
    for token in it:
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if name in flags and not eq:
            out.append((flags[name], ""))
        elif name in values:
            if not eq:
                nxt = next(it, None)
                if nxt is None:
                    raise InputError(f"{where}: option {name} needs a value")
                value = nxt
            out.append((values[name], value))
        elif not token.startswith("--") and token[:2] in values and len(token) > 2:
            out.append((values[token[:2]], token[2:]))
        elif token.startswith("-"):
            raise InputError(f"{where}: unknown option {token!r}")
        else:
            raise InputError(f"{where}: unexpected argument {token!r} after options")
    return out


def _split(line: str, where: str) -> tuple[str, list[str]]:
    """pip's rule: the requirement is every token before the first one starting with '-'."""
    tokens = line.split()
    cut = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    try:
        options = shlex.split(" ".join(tokens[cut:]))
    except ValueError as e:
        raise InputError(f"{where}: cannot parse options: {e}") from e
    return " ".join(tokens[:cut]), options


def _looks_like_url_or_path(spec: str) -> bool:
    return (
        bool(_URL_RE.match(spec))
        or spec.startswith((".", "/", "~", "file:"))
        or (" " not in spec and spec.lower().endswith(_ARCHIVE_SUFFIXES))
    )


def _guess_name(spec: str) -> str | None:
    """A name for an unsupported line, from ``#egg=`` or a wheel file name, if any."""
    egg = _EGG_RE.search(spec)
    if egg:
        return canonicalize_name(egg.group(1))
    try:
        return parse_wheel_filename(spec.rsplit("/", 1)[-1].split("#")[0])[0]
    except InvalidWheelFilename:
        return None


@dataclass
class _Reader:
    deps: list[Dependency] = field(default_factory=list)
    constraints: list[Dependency] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    require_hashes: bool = False
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    done: set[tuple[Path, bool]] = field(default_factory=set)
    total_bytes: int = 0

    def read_file(
        self,
        path: Path,
        shown: str,
        *,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
        where: str | None = None,
    ) -> None:
        key = Path(os.path.realpath(path))  # never raises, unlike Path.resolve on a loop
        if any(key == p for p, _ in stack):
            chain = " -> ".join([s for _, s in stack] + [shown])
            raise InputError(f"{where}: include cycle: {chain}")
        if (key, constraint) in self.done:
            return
        if len(stack) >= MAX_DEPTH:
            raise InputError(f"{where}: includes nested more than {MAX_DEPTH} files deep")
        if len(self.files) >= MAX_FILES:
            raise InputError(f"{where}: more than {MAX_FILES} requirements files included")
        text = read_text_input(path, limit=MAX_FILE_BYTES, what="requirements file", shown=shown)
        self.total_bytes += len(text)
        if self.total_bytes > MAX_TOTAL_BYTES:
            raise InputError(
                f"{where or shown}: requirements files total more than {MAX_TOTAL_BYTES // MiB} MiB"
            )
        self.files.append(shown)
        for number, line in _logical_lines(text):
            self._line(_expand_env(line), shown, number, constraint, (*stack, (key, shown)))
        self.done.add((key, constraint))

    def _line(
        self,
        line: str,
        shown: str,
        number: int,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
    ) -> None:
        where = f"{shown}:{number}"
        spec, tokens = _split(line, where)
        if spec:
            hashes = []
            for key, value in _parse_options(tokens, where, _REQ_VALUES, {}):
                if key == "hash" and not _HASH_RE.match(value):
                    raise InputError(f"{where}: invalid --hash {value!r} (want sha256:<hex>)")
                if key == "hash":
                    hashes.append(value.lower())
            self._add(self._requirement(spec, shown, number, tuple(hashes)), constraint)
            return
        for key, value in _parse_options(tokens, where, _LINE_VALUES, _LINE_FLAGS):
            self._option(key, value, where, shown, number, constraint, stack)

    def _requirement(
        self, spec: str, shown: str, number: int, hashes: tuple[str, ...]
    ) -> Dependency:
        if _looks_like_url_or_path(spec):
            return Dependency(
                spec, None, _guess_name(spec), shown, number, hashes=hashes, unsupported=URL_OR_PATH
            )
        return make_dependency(spec, shown, number, hashes=hashes)

    def _add(self, dep: Dependency, constraint: bool) -> None:
        (self.constraints if constraint else self.deps).append(dep)

    def _option(
        self,
        key: str,
        value: str,
        where: str,
        shown: str,
        number: int,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
    ) -> None:
        if key in ("requirement", "constraint"):
            if _URL_RE.match(value):
                raise InputError(f"{where}: cannot include remote file {value!r}: only local files")
            target = Path(value).expanduser()
            child = target if target.is_absolute() else Path(shown).parent / target
            nested = constraint or key == "constraint"
            self.read_file(child, str(child), constraint=nested, stack=stack, where=where)
        elif key == "editable":
            if constraint:
                raise InputError(f"{where}: editable requirements are not allowed as constraints")
            self._add(
                Dependency(
                    f"-e {value}", None, _guess_name(value), shown, number, unsupported=EDITABLE
                ),
                constraint,
            )
        elif key == "index_url":
            self.index_url = value
        elif key == "extra_index_url":
            self.extra_index_urls.append(value)
        elif key == "find_links":
            self.find_links.append(value)
        elif key == "no_index":
            self.no_index = True
        elif key == "require_hashes":
            self.require_hashes = True
        elif key == "trusted_host":
            self.warnings.append(f"{where}: --trusted-host {value} disables TLS checks for it")
