"""Target environments: the running interpreter, pip-like options, another interpreter."""

from __future__ import annotations

import os
import sys
import venv
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.tags import sys_tags

from shouldi.errors import EXIT_BAD_INPUT
from shouldi.index import BadTarget, TargetEnvironment
from shouldi.index.target import marker_applies


def strs(target: TargetEnvironment) -> list[str]:
    return [str(t) for t in target.tags]


def test_current_is_the_running_interpreter() -> None:
    target = TargetEnvironment.current()
    assert target.tags == tuple(dict.fromkeys(sys_tags()))
    assert target.marker_environment == {k: str(v) for k, v in default_environment().items()}
    assert target.python_version == ".".join(map(str, sys.version_info[:3]))
    impl = default_environment()["platform_python_implementation"]
    assert target.description.startswith(f"{impl} {sys.version_info[0]}.{sys.version_info[1]} on ")
    assert TargetEnvironment.from_options() is target  # no options: the running one
    assert hash(target) == hash(TargetEnvironment.current())


@pytest.mark.parametrize(
    ("options", "pip_options"),
    [
        ({"python_version": "39", "platforms": ["win_amd64"]},
         {"version": "39", "platforms": ["win_amd64"]}),
        ({"python_version": "3.12", "platforms": ["macosx_11_0_arm64"], "implementation": "cp"},
         {"version": "312", "platforms": ["macosx_11_0_arm64"], "impl": "cp"}),
        ({"python_version": "3.10", "implementation": "pp", "abis": ["pypy310_pp73"],
          "platforms": ["linux_x86_64"]},
         {"version": "310", "impl": "pp", "abis": ["pypy310_pp73"], "platforms": ["linux_x86_64"]}),
    ],
    ids=["windows", "macos", "pypy"],
)
def test_options_give_the_tags_pip_gives(options: dict, pip_options: dict) -> None:
    from pip._internal.utils.compatibility_tags import get_supported

    expected = [str(t) for t in dict.fromkeys(get_supported(**pip_options))]
    assert strs(TargetEnvironment.from_options(**options)) == expected


def test_a_python_version_alone_keeps_this_platform() -> None:
    from pip._internal.utils.compatibility_tags import get_supported

    # pip's vendored packaging may rank the bare linux_* tag elsewhere: compare as sets
    expected = {str(t) for t in get_supported(version="38")}
    assert set(strs(TargetEnvironment.from_options(python_version="3.8"))) == expected


def test_a_manylinux_platform_takes_every_older_glibc() -> None:
    target = TargetEnvironment.from_options(
        python_version="3.12", platforms=["manylinux_2_28_x86_64"]
    )
    tags = strs(target)
    assert tags[0] == "cp312-cp312-manylinux_2_28_x86_64"
    for older in ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"):
        assert f"cp312-abi3-{older}" in tags
    assert tags.index("cp312-cp312-manylinux_2_17_x86_64") + 1 == tags.index(
        "cp312-cp312-manylinux2014_x86_64"
    )  # the legacy alias right after the version it names, as packaging orders them
    assert not any("manylinux_2_29" in t or "win" in t for t in tags)
    assert "py3-none-any" in tags
    arm = strs(TargetEnvironment.from_options(platforms=["manylinux_2_28_aarch64"]))
    assert any(t.endswith("manylinux_2_17_aarch64") for t in arm)
    assert not any(t.endswith("manylinux_2_16_aarch64") or "manylinux1" in t for t in arm)


def test_options_set_the_markers_and_the_description() -> None:
    win = TargetEnvironment.from_options(python_version="3.9", platforms=["win_amd64"])
    env = win.marker_environment
    assert (env["sys_platform"], env["platform_system"], env["os_name"]) == ("win32", "Windows", "nt")
    assert (env["python_version"], env["python_full_version"]) == ("3.9", "3.9.0")
    assert win.python_version == "3.9.0"
    assert win.description == "CPython 3.9 on windows AMD64"
    assert marker_applies('sys_platform == "win32"', win)
    assert not marker_applies('sys_platform == "linux"', win)
    pypy = TargetEnvironment.from_options(implementation="pypy", python_version="3.10.4")
    assert pypy.marker_environment["implementation_name"] == "pypy"
    assert pypy.python_version == "3.10.4"
    assert pypy.description.startswith("PyPy 3.10 on ")


def test_requires_python() -> None:
    target = TargetEnvironment.from_options(python_version="3.11")
    assert target.allows_python(None)
    assert target.allows_python(">=3.8")
    assert not target.allows_python(">=3.12")
    assert not target.allows_python(">3.11.0")  # pip pads 3.11 to 3.11.0
    assert target.allows_python("!!garbage")  # pip ignores an invalid requires-python


def test_marker_applies_with_extras() -> None:
    target = TargetEnvironment.from_options(python_version="3.11", platforms=["linux_x86_64"])
    assert marker_applies(None, target)
    assert marker_applies('python_version >= "3.8"', target)
    assert not marker_applies('python_version < "3.8"', target)
    assert not marker_applies('extra == "socks"', target)
    assert marker_applies('extra == "socks"', target, ["socks"])
    assert marker_applies('extra == "Socks_Extra"', target, ["socks-extra"])  # PEP 685
    assert not marker_applies('extra == "socks" and python_version < "3"', target, ["socks"])
    # a comparison that cannot be evaluated counts as holding: never drop a dependency silently
    assert marker_applies('platform_release ~= "five"', target)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"python_version": "three"}, "--python-version 'three': expected a version such as 3.11"),
        ({"python_version": "3.x"}, "--python-version '3.x'"),
        ({"python_version": "3.100000"}, "--python-version '3.100000': not a Python version"),
        ({"python_version": "3100"}, "--python-version '3100': not a Python version"),
        ({"python_version": "99999999999999.1"}, "--python-version '99999999999999.1': not a"),
        ({"python_version": "3.999999999999999999999"}, "--python-version '3.99999999999999999"),
        ({"implementation": "rust"}, "--implementation 'rust': expected cp, pp, ip, jy or py"),
        ({"platforms": ["linux x86/64"]}, "--platform 'linux x86/64': not a wheel tag part"),
        ({"abis": ["cp3$"]}, "--abi 'cp3$': not a wheel tag part"),
    ],
    ids=["version-word", "version-x", "version-huge-minor", "version-huge-nodot",
         "version-huge-major", "version-very-long", "implementation", "platform", "abi"],
)
def test_bad_options_are_usage_errors(options: dict, message: str) -> None:
    with pytest.raises(BadTarget) as info:
        TargetEnvironment.from_options(**options)
    assert str(info.value).startswith(message)
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_another_interpreter_is_asked_for_its_tags() -> None:
    target = TargetEnvironment.from_interpreter(sys.executable)
    here = TargetEnvironment.current()
    assert "tags from pip._vendor.packaging" in target.origin or "tags from packaging" in target.origin
    # its pip vendors an older packaging: the same binary tags, maybe fewer pure ones, and
    # linux_* may rank elsewhere
    binary = {t for t in here.tags if t.abi != "none"}
    assert {t for t in target.tags if t.abi != "none"} == binary
    assert set(target.tags) <= set(here.tags)
    assert target.tags[0].interpreter == here.tags[0].interpreter
    assert target.marker_environment == here.marker_environment
    assert target.python_version == here.python_version


def test_sysconfig_facts_give_the_same_tags_as_packaging() -> None:
    target = TargetEnvironment.from_interpreter(sys.executable, use_packaging=False)
    here = TargetEnvironment.current()
    assert "sysconfig facts" in target.origin
    assert set(target.tags) == set(here.tags)
    assert [t for t in target.tags if t.platform != f"linux_{os.uname().machine}"][:20] == [
        t for t in here.tags if t.platform != f"linux_{os.uname().machine}"
    ][:20]
    assert target.marker_environment == here.marker_environment


def test_a_venv_without_pip_or_packaging(tmp_path: Path) -> None:
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(tmp_path / "bare")
    python = tmp_path / "bare" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    target = TargetEnvironment.from_interpreter(python)
    assert "sysconfig facts (no packaging there)" in target.origin
    assert set(target.tags) == set(TargetEnvironment.current().tags)


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.mark.skipif(os.name == "nt", reason="shell scripts")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("echo 'not json'", "answered something that is not its tags"),
        ("echo '{\"markers\": 3}'", "answered something that is not its tags"),
        ("echo 'Unknown option: -I' >&2; exit 2", "not a Python 3 interpreter we can ask (Unknown option: -I)"),
        ("sleep 5", "gave no answer within 0.5 s"),
    ],
    ids=["garbage", "wrong-json", "python2", "hangs"],
)
def test_an_interpreter_that_cannot_be_asked(tmp_path: Path, body: str, message: str) -> None:
    fake = _script(tmp_path / "python", body)
    with pytest.raises(BadTarget) as info:
        TargetEnvironment.from_interpreter(fake, timeout=0.5)
    assert str(info.value) == f"--python {fake}: {message}" or message in str(info.value)
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_a_missing_or_unrunnable_interpreter(tmp_path: Path) -> None:
    with pytest.raises(BadTarget, match="no such file"):
        TargetEnvironment.from_interpreter(tmp_path / "nope")
    plain = tmp_path / "python"
    plain.write_text("not a program")
    plain.chmod(0o644)
    with pytest.raises(BadTarget, match="not executable"):
        TargetEnvironment.from_interpreter(plain)
