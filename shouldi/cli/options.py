"""Click parameter types and options shared by the commands that scan packages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["RequirementSpecType", "scan_options"]

F = TypeVar("F", bound=Callable[..., Any])


class RequirementSpecType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A requirement spec such as ``name``, ``name==1.2`` or ``name>=1,<2``, validated once here."""

    name = "SPEC"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from shouldi.index.errors import BadSpec
        from shouldi.index.spec import check_spec

        try:
            check_spec(str(value))
        except BadSpec as e:
            self.fail(str(e), param, ctx)
        return str(value).strip()


def scan_options(func: F) -> F:
    """Options every scanning command takes (index, timeouts, caches, advisory sources)."""
    options = [
        click.option("--index-url", envvar="PIP_INDEX_URL", default="https://pypi.org/simple/",
                     show_default=True, metavar="URL",
                     help="PEP 503/691 simple index root (also $PIP_INDEX_URL)."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                     help="Seconds per HTTP request (each try)."),
        click.option("--scan-timeout", type=click.FloatRange(min=0.01), default=900.0, show_default=True,
                     help="Seconds a scanner may run on one package."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Where verified artifacts are cached (default: the user cache dir)."),
        click.option("--no-cache", is_flag=True, help="Download everything again; cache nothing."),
        click.option("--max-age", type=click.FloatRange(min=0), default=600.0, show_default=True,
                     metavar="SECONDS",
                     help="Reuse a package's whole answer given less than SECONDS ago (0: always "
                          "ask the index and the advisory sources again; errors are never reused)."),
        click.option("--advisory-db", type=click.Path(dir_okay=False, path_type=Path),
                     envvar="SHOULDI_ADVISORY_DB",
                     help="Local advisory store (default: the user data dir; see `shouldi db`)."),
        click.option("--pip-audit-osv-url", metavar="URL",
                     help="Ask pip-audit to use this OSV-compatible service."),
        click.option("--no-pip-audit", is_flag=True, help="Do not run pip-audit."),
        click.option("--no-safety-cli", is_flag=True,
                     help="Do not try the safety CLI (it needs network and a login); use safety-db."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=4, show_default=True,
                     help="Packages scanned at once."),
        click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Policy file (default: shouldi.toml or pyproject.toml [tool.shouldi] here)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
