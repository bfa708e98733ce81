"""Every name a package exports in ``__all__`` exists, and every public package has ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil

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
