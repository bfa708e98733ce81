"""The environment a package is judged for: which wheel tags it takes, its PEP 508 markers.

A :class:`TargetEnvironment` answers the three questions pip asks of the interpreter it
installs into: which wheel tags it supports, best first (``packaging.tags`` order); what its
PEP 508 marker environment is (for ``Requires-Dist`` markers); and which Python version
``requires-python`` is checked against. It is built one of three ways:

- :meth:`TargetEnvironment.current`: the running interpreter (``packaging.tags.sys_tags``,
  ``packaging.markers.default_environment``), the default everywhere.
- :meth:`TargetEnvironment.from_options`: pip's ``--python-version``, ``--platform``,
  ``--implementation`` and ``--abi``, given to the same ``packaging.tags`` generators pip's
  ``compatibility_tags.get_supported`` uses (``cpython_tags`` or ``generic_tags``, then
  ``compatible_tags``). One difference, on purpose: pip takes ``--platform
  manylinux_2_28_x86_64`` literally, so a ``manylinux_2_17`` wheel does not fit and pip
  may fall back to an sdist that pip *on that machine* would never build. Here a
  ``manylinux_X_Y`` / ``musllinux_X_Y`` platform stands for a machine with that libc and
  takes every older tag too, in the order ``packaging`` gives the running machine (legacy
  ``manylinux1/2010/2014`` aliases included); ``macosx_X_Y_arch`` expands through
  ``packaging.tags.mac_platforms`` as in pip. The marker environment follows the options
  (a Windows platform gives ``sys_platform == "win32"``), which pip does not do; what the
  options cannot tell (``platform_release``, ``platform_version`` of another OS) is "".
- :meth:`TargetEnvironment.from_interpreter`: another interpreter (``--python PATH``),
  trusted (it is the user's, not package code), run as ``PATH -I -S -c <script>``: ``-I``
  ignores the environment, the user site and the current directory; ``-S`` skips ``site``
  so no ``.pth`` file of a package installed there runs; the script adds that
  environment's own site-packages to ``sys.path`` (finding ``pyvenv.cfg`` as ``site``
  would) and prints JSON. It takes the tags from
  that environment's pip (``pip._vendor.packaging``: what its pip would install), else its
  ``packaging``; with neither, it prints ``sys.implementation``/``sysconfig`` facts and the
  tags are computed here with the same ``packaging.tags`` generators.
"""

from __future__ import annotations

import functools
import json
import platform
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import (
    INTERPRETER_SHORT_NAMES,
    Tag,
    compatible_tags,
    cpython_tags,
    generic_tags,
    interpreter_name,
    interpreter_version,
    mac_platforms,
    sys_tags,
)
from packaging.version import InvalidVersion, Version

from shouldi.index.errors import BadTarget

__all__ = ["INTERPRETER_TIMEOUT", "TargetEnvironment", "marker_applies"]

#: Seconds another interpreter gets to print its tags.
INTERPRETER_TIMEOUT = 30.0

_IMPL_NAMES = {"cp": "cpython", "pp": "pypy", "ip": "ironpython", "jy": "jython"}
_IMPL_DISPLAY = {"cp": "CPython", "pp": "PyPy", "ip": "IronPython", "jy": "Jython"}
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
_LAST_GLIBC_MINOR = 50  # packaging's guess for a glibc major that has ended
_OS_DISPLAY = {"win32": "windows", "darwin": "macos"}


@dataclass(frozen=True)
class TargetEnvironment:
    """Where a package would be installed. Hashable: use it as a cache key.

    ``tags`` are best first; ``markers`` is the PEP 508 environment as sorted pairs (see
    :attr:`marker_environment`); ``python_version`` is the full version ``requires-python``
    is checked against; ``description`` is how reasons name it ("CPython 3.11 on linux
    x86_64"); ``origin`` says where it came from.
    """

    tags: tuple[Tag, ...]
    markers: tuple[tuple[str, str], ...]
    python_version: str
    description: str
    origin: str = "the running interpreter"

    # --- building ---------------------------------------------------------------------
    @classmethod
    def current(cls) -> TargetEnvironment:
        """The running interpreter (computed once per process)."""
        return _current()

    @classmethod
    def from_options(
        cls,
        *,
        python_version: str | None = None,
        platforms: Sequence[str] = (),
        implementation: str | None = None,
        abis: Sequence[str] = (),
    ) -> TargetEnvironment:
        """pip's ``--python-version``, ``--platform``, ``--implementation``, ``--abi``.

        ``python_version`` is ``3``, ``3.11``, ``3.11.4`` or ``311``; ``implementation`` is
        ``cp``, ``pp``, ``ip``, ``jy``, ``py`` or a full name (``cpython``); platforms and
        abis are wheel tag parts. Raises :class:`BadTarget` on a value pip would refuse.
        """
        if python_version is None and not platforms and implementation is None and not abis:
            return cls.current()
        version = _parse_python_version(python_version) if python_version else None
        impl = _parse_implementation(implementation) if implementation else None
        plats = _expand_platforms([_check_part(p, "--platform") for p in platforms])
        abi_list = [_check_part(a, "--abi") for a in abis] or None
        tags = _option_tags(version, impl, plats or None, abi_list)
        full = ".".join(map(str, (*version, 0, 0)[:3])) if version else platform.python_version()
        markers = _option_markers(full if version else None, impl, plats[:1])
        parts = [f"--python-version {python_version}"] if python_version else []
        parts += [f"--platform {p}" for p in platforms]
        parts += [f"--implementation {implementation}"] if implementation else []
        parts += [f"--abi {a}" for a in abis]
        return cls._make(tags, markers, full, "options " + " ".join(parts))

    @classmethod
    def from_interpreter(
        cls,
        python: str | Path,
        *,
        timeout: float = INTERPRETER_TIMEOUT,
        use_packaging: bool = True,
    ) -> TargetEnvironment:
        """The environment of the interpreter at ``python`` (``--python PATH``).

        ``use_packaging=False`` ignores that environment's pip/packaging and computes the
        tags from its sysconfig facts (what happens anyway when it has neither).
        Raises :class:`BadTarget` when it cannot be run, is not Python 3, or answers
        something that is not what our script prints.
        """
        return _from_interpreter(str(python), timeout, use_packaging)

    @classmethod
    def _make(
        cls, tags: Iterable[Tag], markers: Mapping[str, str], full_version: str, origin: str
    ) -> TargetEnvironment:
        unique = tuple(dict.fromkeys(tags))
        if not unique:
            raise BadTarget(f"{origin}: no wheel tag fits this target")
        return cls(unique, tuple(sorted(markers.items())), full_version,
                   _describe(markers), origin)

    # --- asking -----------------------------------------------------------------------
    @functools.cached_property
    def priority(self) -> Mapping[Tag, int]:
        """Each supported tag's rank: 0 is the best."""
        return {tag: i for i, tag in enumerate(self.tags)}

    @property
    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 environment, for ``Marker.evaluate`` (add ``extra`` yourself)."""
        return dict(self.markers)

    def allows_python(self, requires_python: str | None) -> bool:
        """Whether ``requires-python`` admits this target; an invalid one admits it, as in pip."""
        return not requires_python or _python_allowed(requires_python, self.python_version)


def marker_applies(
    marker: Marker | str | None, target: TargetEnvironment, extras: Iterable[str] = ()
) -> bool:
    """Whether a requirement's marker holds for ``target`` with any of ``extras`` requested.

    No extras means the ``extra`` variable is "" (the package without extras). A marker
    that cannot be evaluated (a version comparison on a value that is not one) counts as
    holding: judging one package too many is safe, dropping one silently is not.
    """
    if marker is None:
        return True
    try:
        parsed = marker if isinstance(marker, Marker) else Marker(marker)
    except InvalidMarker:
        return True
    env = target.marker_environment
    for extra in tuple(extras) or ("",):
        try:
            if parsed.evaluate({**env, "extra": extra}):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName):
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _python_allowed(requires_python: str, python_version: str) -> bool:
    """Cached: a project page repeats the same few requires-python strings hundreds of times."""
    try:
        return SpecifierSet(requires_python).contains(Version(python_version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


# --- the running interpreter -------------------------------------------------------------
@functools.cache
def _current() -> TargetEnvironment:
    env = {k: str(v) for k, v in default_environment().items()}
    return TargetEnvironment._make(sys_tags(), env, platform.python_version(),
                                   "the running interpreter")


def _describe(markers: Mapping[str, str]) -> str:
    impl = markers.get("platform_python_implementation") or "Python"
    system = markers.get("sys_platform", "")
    where = " ".join(p for p in (_OS_DISPLAY.get(system, system),
                                 markers.get("platform_machine", "")) if p)
    version = markers.get("python_version", "")
    return f"{impl} {version} on {where}" if where else f"{impl} {version}"


# --- pip-like options ----------------------------------------------------------------------
#: Bounds of a Python anyone targets: tags are made for every minor version up to the one
#: given, so ``3.1000000`` would take minutes and gigabytes before anything is judged.
_MAJORS = (2, 3)
_MAX_MINOR = 99
_MAX_MICRO = 999


def _parse_python_version(text: str) -> tuple[int, ...]:
    """pip's forms: ``3``, ``3.11``, ``3.11.4``, ``311`` (major digit, then minor); the major
    is 2 or 3, the minor at most 99."""
    value = text.strip()
    if len(value) > 20:
        parts = None
    elif re.fullmatch(r"\d+(\.\d+){0,2}", value) and "." in value:
        parts = tuple(int(p) for p in value.split("."))
    elif re.fullmatch(r"\d", value):
        parts = (int(value),)
    elif re.fullmatch(r"\d\d+", value):
        parts = int(value[0]), int(value[1:])
    else:
        parts = None
    if parts is None:
        raise BadTarget(f"--python-version {text[:40]!r}: expected a version such as 3.11 or 311")
    if parts[0] not in _MAJORS or any(p > bound for p, bound in
                                      zip(parts[1:], (_MAX_MINOR, _MAX_MICRO), strict=False)):
        raise BadTarget(f"--python-version {text!r}: not a Python version (the major is 2 or 3, "
                        f"the minor at most {_MAX_MINOR})")
    return parts


def _parse_implementation(text: str) -> str:
    value = text.strip().lower()
    value = INTERPRETER_SHORT_NAMES.get(value, value)
    if value not in (*_IMPL_NAMES, "py"):
        raise BadTarget(f"--implementation {text!r}: expected cp, pp, ip, jy or py")
    return value


def _check_part(text: str, option: str) -> str:
    value = re.sub(r"[-.]", "_", text.strip().lower())
    if not re.fullmatch(r"[a-z0-9_]+", value):
        raise BadTarget(f"{option} {text!r}: not a wheel tag part (e.g. manylinux_2_17_x86_64)")
    return value


def _option_tags(
    version: tuple[int, ...] | None,
    impl: str | None,
    platforms: list[str] | None,
    abis: list[str] | None,
) -> Iterator[Tag]:
    """pip's ``get_supported``: interpreter-specific tags, then the compatible ones."""
    nodot = "".join(map(str, version[:2])) if version else interpreter_version()
    interpreter = f"{impl or interpreter_name()}{nodot}"
    py = version[:2] if version else None
    if (impl or interpreter_name()) == "cp":
        yield from cpython_tags(python_version=py, abis=abis, platforms=platforms)
    else:
        yield from generic_tags(interpreter=interpreter, abis=abis, platforms=platforms)
    yield from compatible_tags(python_version=py, interpreter=interpreter, platforms=platforms)


def _expand_platforms(platforms: Sequence[str]) -> list[str]:
    out: dict[str, None] = {}
    for plat in platforms:
        out.update(dict.fromkeys(_expand(plat)))
    return list(out)


def _expand(plat: str) -> list[str]:
    if m := re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", plat):
        return _manylinux(int(m[1]), int(m[2]), m[3])
    if m := re.fullmatch(r"musllinux_(\d+)_(\d+)_(\w+)", plat):
        return [f"musllinux_{m[1]}_{minor}_{m[3]}" for minor in range(int(m[2]), -1, -1)]
    if m := re.fullmatch(r"manylinux(2014|2010)_(\w+)", plat):
        glibc = {"2014": (2, 17), "2010": (2, 12)}[m[1]]
        return _manylinux(*glibc, m[2])
    if m := re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", plat):
        return list(mac_platforms((int(m[1]), int(m[2])), m[3]))
    return [plat]


def _manylinux(major: int, minor: int, arch: str) -> list[str]:
    """Every manylinux tag a glibc ``major.minor`` machine takes, best first.

    ``packaging`` builds this list only for the running machine's glibc; this is its
    walk for a given one: newest glibc first, each legacy alias right after the version it
    names, down to 2.5 on x86 and 2.17 elsewhere (where manylinux began on that arch).
    """
    floor = (2, 5) if arch in ("x86_64", "i686") else (2, 17)
    out = []
    for glibc_major in range(major, floor[0] - 1, -1):
        top = minor if glibc_major == major else _LAST_GLIBC_MINOR
        bottom = floor[1] if glibc_major == floor[0] else 0
        for glibc_minor in range(top, bottom - 1, -1):
            out.append(f"manylinux_{glibc_major}_{glibc_minor}_{arch}")
            legacy = _LEGACY_MANYLINUX.get((glibc_major, glibc_minor))
            if legacy and (legacy == "manylinux2014" or arch in ("x86_64", "i686")):
                out.append(f"{legacy}_{arch}")
    return out


def _platform_markers(plat: str) -> dict[str, str] | None:
    """sys_platform, platform_system, os_name, platform_machine a wheel platform implies."""
    if m := re.fullmatch(r"(?:manylinux_\d+_\d+|musllinux_\d+_\d+|manylinux\d+|linux)_(\w+)", plat):
        return {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                "platform_machine": m[1]}
    windows = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64", "win_ia64": "IA64"}
    if plat in windows:
        return {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                "platform_machine": windows[plat]}
    if m := re.fullmatch(r"macosx_\d+_\d+_(\w+)", plat):
        arch = {"universal2": "arm64", "fat32": "i386", "fat": "i386", "i386": "i386"}.get(
            m[1], "arm64" if m[1] == "arm64" else "x86_64"
        )
        return {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                "platform_machine": arch}
    return None


def _option_markers(
    full_version: str | None, impl: str | None, platforms: Sequence[str]
) -> dict[str, str]:
    env = {k: str(v) for k, v in default_environment().items()}
    if full_version is not None:
        env["python_full_version"] = full_version
        env["python_version"] = ".".join(full_version.split(".")[:2])
    if impl in _IMPL_NAMES:
        if _IMPL_NAMES[impl] != env["implementation_name"]:
            env["implementation_version"] = env["python_full_version"]
        env["implementation_name"] = _IMPL_NAMES[impl]
        env["platform_python_implementation"] = _IMPL_DISPLAY[impl]
    if env["implementation_name"] == "cpython":
        env["implementation_version"] = env["python_full_version"]
    implied = _platform_markers(platforms[0]) if platforms else None
    if implied is not None:
        if implied["sys_platform"] != env["sys_platform"]:
            env["platform_release"] = env["platform_version"] = ""
        env.update(implied)
    return env


# --- another interpreter -------------------------------------------------------------------
# Runs inside the target interpreter (any Python 3); keep it free of f-strings and walrus.
_SCRIPT = r"""
import json, os, platform, sys, sysconfig
# site.venv() would set the prefix; -S skips it, so find pyvenv.cfg as it does
prefixes = [sys.prefix]
here = os.path.dirname(os.path.abspath(sys.executable))
for d in (here, os.path.dirname(here)):
    cfg = os.path.join(d, "pyvenv.cfg")
    if os.path.isfile(cfg):
        with open(cfg) as f:
            text = f.read().replace(" ", "").lower()
        prefixes = [d] + ([sys.prefix] if "include-system-site-packages=true" in text else [])
        break
for prefix in prefixes:
    paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
    for key in ("purelib", "platlib"):
        path = paths.get(key)
        if path and path not in sys.path:
            sys.path.append(path)
out = {"python_full_version": platform.python_version(), "packaging": None}
tags = markers = None
if sys.argv[-1] != "--no-packaging":
    for mod in ("pip._vendor.packaging", "packaging"):
        try:
            __import__(mod + ".tags")
            __import__(mod + ".markers")
            tags_mod, markers_mod = sys.modules[mod + ".tags"], sys.modules[mod + ".markers"]
            tags = [str(t) for t in tags_mod.sys_tags()]
            markers = dict(markers_mod.default_environment())
            out["packaging"] = mod + " " + str(getattr(sys.modules[mod], "__version__", "?"))
            break
        except Exception:
            tags = markers = None
if markers is None:
    impl = sys.implementation
    iver = "%d.%d.%d" % impl.version[:3]
    if impl.version.releaselevel != "final":
        iver += impl.version.releaselevel[0] + str(impl.version.serial)
    markers = {
        "implementation_name": impl.name, "implementation_version": iver,
        "os_name": os.name, "platform_machine": platform.machine(),
        "platform_release": platform.release(), "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
glibc = None
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, OSError, ValueError):
    pass
out.update({
    "tags": tags, "markers": markers,
    "implementation": sys.implementation.name, "version": list(sys.version_info[:2]),
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
    "platform": sysconfig.get_platform(), "glibc": glibc,
    "mac_version": platform.mac_ver()[0], "is_64bit": sys.maxsize > 2 ** 32,
})
sys.stdout.write(json.dumps(out))
"""


def _from_interpreter(python: str, timeout: float, use_packaging: bool) -> TargetEnvironment:
    where = f"--python {python}"
    flag = [] if use_packaging else ["--no-packaging"]
    try:
        done = subprocess.run(
            [python, "-I", "-S", "-c", _SCRIPT, *flag],
            capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as e:
        raise BadTarget(f"{where}: no such file") from e
    except PermissionError as e:
        raise BadTarget(f"{where}: not executable") from e
    except OSError as e:
        raise BadTarget(f"{where}: cannot run it ({e.strerror or e})") from e
    except subprocess.TimeoutExpired as e:
        raise BadTarget(f"{where}: gave no answer within {timeout:g} s") from e
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise BadTarget(f"{where}: not a Python 3 interpreter we can ask ({last[:200]})")
    try:
        data = json.loads(done.stdout)
        markers = {str(k): str(v) for k, v in data["markers"].items()}
        full = str(data["python_full_version"])
        raw_tags = data["tags"]
        tags = (
            [Tag(*t.split("-")) for t in raw_tags]
            if isinstance(raw_tags, list)
            else list(_fallback_tags(data))
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise BadTarget(f"{where}: answered something that is not its tags ({e})") from e
    how = data.get("packaging") or "sysconfig facts (no packaging there)"
    return TargetEnvironment._make(tags, markers, full, f"{python} (tags from {how})")


def _fallback_tags(data: Mapping[str, object]) -> Iterator[Tag]:
    """Tags from the facts the script printed, with the generators ``sys_tags`` uses."""
    impl = INTERPRETER_SHORT_NAMES.get(str(data["implementation"]), str(data["implementation"]))
    major, minor = (int(v) for v in data["version"])  # type: ignore[attr-defined]
    abi = _abi_from_suffix(data.get("ext_suffix"), impl, major, minor)
    platforms = _fallback_platforms(data)
    interpreter = f"{impl}{major}{minor}"
    if impl == "cp":
        yield from cpython_tags((major, minor), abis=[abi] if abi else None, platforms=platforms)
    else:
        yield from generic_tags(interpreter, abis=[abi] if abi else [], platforms=platforms)
    yield from compatible_tags((major, minor), interpreter, platforms)


def _abi_from_suffix(suffix: object, impl: str, major: int, minor: int) -> str | None:
    """The ABI tag in ``EXT_SUFFIX`` (``.cpython-311-x86_64-linux-gnu.so`` -> ``cp311``)."""
    parts = suffix.split(".") if isinstance(suffix, str) else []
    soabi = parts[1] if len(parts) >= 3 else ""
    if soabi.startswith("cpython-"):
        return "cp" + soabi.split("-")[1]
    if soabi.startswith("cp"):  # Windows: .cp311-win_amd64.pyd
        return soabi.split("-")[0]
    if soabi.startswith("pypy"):
        return "_".join(soabi.split("-")[:2])
    if soabi:
        return re.sub(r"[-.]", "_", soabi)
    return f"cp{major}{minor}" if impl == "cp" else None


def _fallback_platforms(data: Mapping[str, object]) -> list[str]:
    plat = re.sub(r"[-.]", "_", str(data["platform"]).lower())
    is_64bit = bool(data.get("is_64bit", True))
    if plat.startswith("linux_"):
        arch = plat[len("linux_"):]
        if not is_64bit:
            arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
        archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
        out = [f"linux_{a}" for a in archs]
        glibc = re.fullmatch(r"glibc (\d+)\.(\d+).*", str(data.get("glibc") or ""))
        if glibc:
            for a in archs:
                out += _manylinux(int(glibc[1]), int(glibc[2]), a)
        return out
    if plat.startswith("macosx_"):  # the OS version and machine, not the build's target
        mac = re.match(r"(\d+)\.(\d+)", str(data.get("mac_version") or ""))
        markers = data.get("markers")
        arch = str(markers.get("platform_machine", "")) if isinstance(markers, dict) else ""
        arch = arch or plat.rsplit("_", 1)[-1]
        if mac:
            return list(mac_platforms((int(mac[1]), int(mac[2])), arch))
    return [plat]

