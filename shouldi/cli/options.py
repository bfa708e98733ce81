"""Click parameter types and the options every scanning command shares.

:func:`scan_options` turns the shared options into one :class:`~shouldi.settings.Settings`
and passes it to the command as ``settings`` (and ``quiet``): no command copies the settings
call. Values are validated by ``Settings`` (finite numbers, an http(s) index), once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from shouldi.settings import OSV_API_URL, PYPI_SIMPLE_URL

__all__ = ["MAX_SPEC_LENGTH", "RequirementSpecType", "check_allow_build", "scan_options", "trace_option"]

F = TypeVar("F", bound=Callable[..., Any])
#: Longer is not a requirement anyone wrote (PEP 508 has no bound; pip's resolver has none either).
MAX_SPEC_LENGTH = 1000


class RequirementSpecType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A requirement spec such as ``name``, ``name==1.2`` or ``name>=1,<2``, validated once here."""

    name = "SPEC"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from shouldi.index.errors import BadSpec
        from shouldi.index.spec import check_spec

        text = str(value)
        if len(text) > MAX_SPEC_LENGTH:
            self.fail(f"a requirement spec of {len(text)} characters is not one (at most "
                      f"{MAX_SPEC_LENGTH})", param, ctx)
        try:
            check_spec(text)
        except BadSpec as e:
            self.fail(str(e), param, ctx)
        return text.strip()


_SETTINGS_PARAMS = ("index_url", "timeout", "scan_timeout", "cache_dir", "no_cache", "max_age",
                    "advisory_db", "pip_audit_osv_url", "no_pip_audit", "no_safety_cli", "jobs",
                    "policy_file", "python_version", "platforms", "implementation", "abis",
                    "python", "all_files", "osv_url", "no_osv")


def _target(values: dict[str, Any]) -> Any:
    """The target environment the options name (None: the running interpreter)."""
    options = (values["python_version"], values["platforms"], values["implementation"],
               values["abis"])
    if values["python"] is None and not any(options):
        return None  # the running interpreter: the warm path does not import the index layer
    from shouldi.errors import UsageError
    from shouldi.index.target import TargetEnvironment

    if values["python"] is not None:
        if any(options):
            raise UsageError("--python takes the target from that interpreter: do not combine it "
                             "with --python-version, --platform, --implementation or --abi")
        return TargetEnvironment.from_interpreter(values["python"])
    return TargetEnvironment.from_options(python_version=values["python_version"],
                                          platforms=values["platforms"],
                                          implementation=values["implementation"],
                                          abis=values["abis"])


def _settings(values: dict[str, Any]) -> Any:
    from shouldi.cli.output import add_input
    from shouldi.policy import load_policy, policy_file
    from shouldi.settings import Settings

    policy_path = policy_file(path=values["policy_file"])
    if policy_path is not None:  # an input of the run: no output may replace it
        add_input(policy_path)
    return Settings(
        index_url=values["index_url"], policy=load_policy(path=policy_path),
        timeout=values["timeout"], scan_timeout=values["scan_timeout"],
        cache_dir=values["cache_dir"], no_cache=values["no_cache"], max_age=values["max_age"],
        advisory_db=values["advisory_db"], pip_audit_osv_url=values["pip_audit_osv_url"],
        pip_audit=not values["no_pip_audit"], safety_cli=not values["no_safety_cli"],
        jobs=values["jobs"], target=_target(values), all_files=values["all_files"],
        osv=not values["no_osv"], osv_url=values["osv_url"])


def check_allow_build(allow_build: bool, then_install: bool) -> None:
    """``--allow-build`` means something only with ``--then-install``: refused alone, where it
    would be silently ignored (nothing is installed or built)."""
    if allow_build and not then_install:
        from shouldi.errors import UsageError

        raise UsageError("--allow-build lets pip build a judged sdist with --then-install: "
                         "without --then-install nothing is installed or built")


def _nonempty_path(_ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """An empty path is no directory: ``Path("")`` would be the current one."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("an empty path: give a directory", param=param)
    return Path(value)


def scan_options(func: F) -> F:
    """Options every scanning command takes; the command receives ``settings`` and ``quiet``."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _SETTINGS_PARAMS}
        return func(*args, settings=_settings(values), **kwargs)

    options = [
        click.option("--index-url", envvar="PIP_INDEX_URL", default=PYPI_SIMPLE_URL,
                     show_default=True, metavar="URL",
                     help="PEP 503/691 simple index root (also $PIP_INDEX_URL)."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                     help="Seconds per HTTP request (each try)."),
        click.option("--scan-timeout", type=click.FloatRange(min=0.01), default=900.0, show_default=True,
                     help="Seconds a scanner may run on one package."),
        click.option("--cache-dir", type=click.Path(file_okay=False), callback=_nonempty_path,
                     help="Where caches live (default: the user cache dir)."),
        click.option("--no-cache", is_flag=True, help="Download everything again; cache nothing."),
        click.option("--max-age", type=click.FloatRange(min=0), default=600.0, show_default=True,
                     metavar="SECONDS",
                     help="Reuse a package's whole answer given less than SECONDS ago (0: always "
                          "ask the index and the advisory sources again; errors are never reused)."),
        click.option("--advisory-db", type=click.Path(dir_okay=False, path_type=Path),
                     envvar="SHOULDI_ADVISORY_DB",  # shouldi.advisories.store.ADVISORY_DB_ENV
                     help="Local advisory store (default: the user data dir; see `shouldi db`)."),
        click.option("--pip-audit-osv-url", metavar="URL",
                     help="Ask pip-audit to use this OSV-compatible service."),
        click.option("--no-pip-audit", is_flag=True, help="Do not run pip-audit."),
        click.option("--osv-url", envvar="SHOULDI_OSV_URL", default=OSV_API_URL, show_default=True,
                     metavar="URL", help="The OSV API to ask (also $SHOULDI_OSV_URL)."),
        click.option("--no-osv", is_flag=True, help="Do not ask the OSV API."),
        click.option("--no-safety-cli", is_flag=True,
                     help="Do not try the safety CLI (it needs network and a login); use safety-db."),
        click.option("--jobs", "-j", type=click.IntRange(min=1, max=256), default=4, show_default=True,
                     help="Packages scanned at once."),
        click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Policy file (default: shouldi.toml or pyproject.toml [tool.shouldi] here)."),
        click.option("--python-version", metavar="X.Y",
                     help="Judge the file pip would install for this Python (as pip's option)."),
        click.option("--platform", "platforms", multiple=True, metavar="TAG",
                     help="... for this platform tag, e.g. manylinux_2_28_x86_64 (repeatable)."),
        click.option("--implementation", metavar="IMPL", help="... for this implementation (cp, pp)."),
        click.option("--abi", "abis", multiple=True, metavar="ABI", help="... for this ABI (repeatable)."),
        click.option("--python", type=click.Path(dir_okay=False, exists=True), metavar="PATH",
                     help="... for the interpreter at PATH (its tags and markers)."),
        click.option("--all-files", is_flag=True,
                     help="Judge every file of each release (each wheel and the sdist), not only "
                          "the one pip would install."),
        click.option("--quiet", "-q", is_flag=True,
                     help="No progress on stderr (a line per package when stderr is not a terminal)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command  # type: ignore[return-value]


def trace_option(func: F) -> F:
    """``--trace FILE``: every value the flow produced, with its provenance, as JSON."""
    return click.option(
        "--trace", "trace_file", type=click.Path(dir_okay=False, path_type=Path),
        help="Write the run's trace here: every value the flow produced, with the operation and "
             "the input values it came from (JSON).")(func)
