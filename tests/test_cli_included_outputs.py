"""An output that is a file the inputs include (``-r``/``-c`` inside a requirements file) is
refused before anything runs: exit 2, one line, the file unchanged."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from shouldi.cli.main import cli


@pytest.mark.parametrize(("command", "option"), [("scan", "--output"), ("ci", "--output"),
                                            ("ci", "--summary"), ("lock", "--output"),
                                            ("scan", "--trace")])
def test_an_included_file_is_never_an_output(local_index, tmp_path, monkeypatch, command, option):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.txt").write_text("cleanpkg==1.0.0\n")
    (tmp_path / "constraints.txt").write_text("cleanpkg<2\n")
    (tmp_path / "req.txt").write_text("-r base.txt\n-c constraints.txt\n")
    target = "base.txt" if option != "--trace" else "constraints.txt"
    before = (tmp_path / target).read_bytes()
    result = CliRunner().invoke(cli, [command, "-r", "req.txt", option, target, "--index-url",
                                      local_index.url, "--cache-dir", str(tmp_path / "cache"),
                                      "--no-pip-audit", "--no-safety-cli"])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert f"{option} {target} is also an input" in line
    assert (tmp_path / target).read_bytes() == before
