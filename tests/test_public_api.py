"""Every name a package exports in ``__all__`` exists, and every public package has ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import shouldi

PACKAGES = sorted(
    m.name for m in pkgutil.walk_packages(shouldi.__path__, "shouldi.")
    if m.ispkg and not m.name.split(".")[-1].startswith("_")
)


@pytest.mark.parametrize("name", ["shouldi", *PACKAGES])
def test_all_names_exist(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize(("package", "light", "heavy"), [
    ("shouldi.dataflow", "shouldi.dataflow.results", "shouldi.dataflow.orchestrator"),
    ("shouldi.index", "shouldi.index.spec", "httpx"),
    # a policy in pyproject.toml is read on every run in a project directory
    ("shouldi.inputs", "shouldi.inputs.pyproject", "packaging.tags"),
])
def test_packages_load_their_names_on_first_use(package, light, heavy):
    """A submodule alone does not load its package's other modules (warm runs depend on it)."""
    code = (f"import sys, {light}; assert {heavy!r} not in sys.modules, 'eager'; "
            f"import {package} as p; p.__all__; assert {heavy!r} not in sys.modules, 'eager'; "
            f"[getattr(p, n) for n in p.__all__]; assert {heavy!r} in sys.modules, 'lazy'; "
            f"assert sorted(p.__all__) == [n for n in dir(p) if n in p.__all__]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_an_unknown_name_is_an_attribute_error():
    import shouldi.dataflow

    with pytest.raises(AttributeError, match="has no attribute 'Orchestra'"):
        shouldi.dataflow.Orchestra  # noqa: B018
