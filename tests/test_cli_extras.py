"""Commands whose optional extra is missing say what to install, in one line (exit 2) —
never "internal error", and never ``pip install 'shouldi[...]'``: that name on PyPI is
another project."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from shouldi.cli.main import cli


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn"])
def test_serve_without_its_extra(monkeypatch, tmp_path, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ImportError
    for name in [m for m in sys.modules if m.startswith("shouldi.service")]:
        monkeypatch.delitem(sys.modules, name)
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert f"{missing} is not installed" in line and "'.[serve]'" in line
    assert "shouldi[" not in line


def test_no_message_names_the_other_projects_extras():
    """Every 'install the extra' message says how to install it from source ('.[x]')."""
    from pathlib import Path

    import shouldi

    root = Path(shouldi.__file__).parent
    said = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if "install 'shouldi[" in line or 'install "shouldi[' in line]
    assert said == []
